"""The secretariat's progress chart as a PNG: share of steps done by region, steps done per country.

Drawn with matplotlib's Agg backend through the object API (``Figure`` + ``FigureCanvasAgg``),
never pyplot's global state, so it is safe to call from a worker thread of the running bot.
Labels are in English and ISO3 codes (the fonts shipped with matplotlib have no CJK glyphs);
the caption sent with the image is translated.
"""
from __future__ import annotations

import io
import threading

from bot.milestones import ANNEX_NAMES, Progress

DONE = "#2e7d32"
IN_PROGRESS = "#f9a825"
OVERDUE = "#c62828"
NEUTRAL = "#9e9e9e"
DPI = 100
_LOCK = threading.Lock()  # matplotlib's font cache and text layout are not meant for concurrent use


def render_progress_chart(progress: Progress, *, title: str | None = None) -> bytes:
    """Two panels (regions and pilots; the countries sorted by steps done) as PNG bytes."""
    with _LOCK:
        return _render(progress, title)


def _render(progress: Progress, title: str | None) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display needed; the object API below never opens a window
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 9), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1, 2, width_ratios=[1, 2.6])
    _regions_panel(fig.add_subplot(grid[0, 0]), progress)
    _countries_panel(fig.add_subplot(grid[0, 1]), progress)
    stamp = progress.as_of.strftime("%Y-%m-%d")
    total = progress.total
    fig.suptitle(title or f"LDN Target Setting Programme - milestones as of {stamp}: "
                          f"{total.done} of {total.applicable} steps done ({total.share:.0%})",
                 fontsize=14, fontweight="bold")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def write_progress_chart(progress: Progress, path) -> int:
    """Render to a file; returns the number of bytes written."""
    data = render_progress_chart(progress)
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


def _regions_panel(ax, progress: Progress) -> None:
    groups = [(f"{ANNEX_NAMES[g.key]}\n(annex {g.key}, {len(g.countries)})", g) for g in progress.by_annex]
    groups.append((f"Pilot countries ({len(progress.pilots.countries)})", progress.pilots))
    groups.append((f"All countries ({len(progress.total.countries)})", progress.total))
    labels = [label for label, _ in groups][::-1]
    shares = [g.share * 100 for _, g in groups][::-1]
    colors = [NEUTRAL if g.key == "all" else DONE for _, g in groups][::-1]
    bars = ax.barh(range(len(groups)), shares, color=colors)
    ax.set_yticks(range(len(groups)), labels, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of applicable steps done (%)")
    ax.set_title("Progress by region", fontsize=12)
    ax.grid(axis="x", alpha=0.3)
    for bar, (_, group) in zip(bars, groups[::-1], strict=True):
        ax.text(min(bar.get_width() + 1.5, 80), bar.get_y() + bar.get_height() / 2,
                f"{group.share:.0%}" + (f"  ({group.overdue_countries} with overdue)" if group.overdue_countries else ""),
                va="center", fontsize=8)


def _countries_panel(ax, progress: Progress) -> None:
    countries = sorted(progress.countries, key=lambda c: (-c.done, -c.in_progress, c.iso3))
    x = range(len(countries))
    done = [c.done for c in countries]
    started = [c.in_progress for c in countries]
    ax.bar(x, done, color=DONE, label="done", width=0.8)
    ax.bar(x, started, bottom=done, color=IN_PROGRESS, label="in progress", width=0.8)
    overdue_x = [i for i, c in enumerate(countries) if c.overdue]
    if overdue_x:
        ax.scatter(overdue_x, [-0.35] * len(overdue_x), marker="^", color=OVERDUE, s=12, label="has overdue steps",
                   clip_on=False, zorder=3)
    ax.set_xticks(list(x), [c.iso3 for c in countries], rotation=90, fontsize=6)
    ax.set_xlim(-0.7, max(len(countries) - 0.3, 0.3))
    ax.set_ylim(-0.6, progress.steps + 0.5)
    ax.set_ylabel(f"steps (of {progress.steps})")
    ax.set_title(f"Steps done per country ({len(countries)} countries)", fontsize=12)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
