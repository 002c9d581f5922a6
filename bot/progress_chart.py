"""The secretariat's progress chart for a phone: per region, a country x step heatmap as PNG.

One image per UNCCD region (annex): a row per country, a column per checklist step (numbered as in
``/checklist``), each cell coloured by its state (done, in progress, overdue in red, not started,
not applicable). 1080 px wide (a phone screen at full resolution, so Telegram does not shrink the
text), every label at least 12 pt; title and legend in the reader's language, through the
translation layer (``ms.chart.*``, ``ms.status.*``, ``ms.region.*`` in knowledge/strings/milestones.yaml).

Drawn with matplotlib's Agg backend through the object API (``Figure`` + ``FigureCanvasAgg``),
never pyplot's global state, so it is safe to call from a worker thread of the running bot.
Country names are shown when a font for the language is installed (Noto Sans CJK or WenQuanYi
Micro Hei for Chinese: the Docker image installs fonts-wqy-microhei); otherwise, and in Arabic
(matplotlib does not join Arabic letters), the ISO3 codes.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.patches import Patch

matplotlib.use("Agg", force=False)  # no display needed; the object API below never opens a window

WIDTH_PX = 1080
DPI = 100
FONT_PT = 12
TITLE_PT = 15
ROW_IN = 0.34          # one country row
STATES = ("done", "in_progress", "overdue", "not_started", "not_applicable")
COLOURS = {"done": "#2e7d32", "in_progress": "#f9a825", "overdue": "#c62828", "not_started": "#e0e0e0",
           "not_applicable": "#ffffff"}
# fonts tried in order for each glyph (matplotlib >= 3.6 falls back per character)
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Noto Sans"]
CJK_FONTS = ("Noto Sans CJK SC", "WenQuanYi Micro Hei")
_LOCK = threading.Lock()  # matplotlib's font cache and text layout are not meant for concurrent use


@dataclass(frozen=True)
class RegionChart:
    annex: str
    png: bytes
    countries: int
    done: int
    applicable: int
    overdue: int
    width: int
    height: int

    @property
    def share(self) -> float:
        return self.done / self.applicable if self.applicable else 0.0


def _cell(state) -> str:
    if state.status in ("done", "not_applicable"):
        return state.status
    if state.overdue:
        return "overdue"
    return state.status


def _has_font(family: str) -> bool:
    try:
        findfont(FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return False
    return True


def _names_readable(lang: str) -> bool:
    if lang == "zh":
        return any(_has_font(f) for f in CJK_FONTS)
    if lang == "ar":
        return False  # matplotlib does not join Arabic letters: codes read better than broken words
    return True


def _t(i18n, lang: str, key: str, **kwargs) -> str:
    return html.unescape(i18n.t(lang, key, **kwargs))


def build_figure(annex: str, rows: list[tuple[str, list]], *, i18n, lang: str, as_of: dt.date,
                 steps: int) -> Figure:
    """The figure of one region: ``rows`` is [(country label, [StepState per step])]."""
    height_in = 2.6 + ROW_IN * max(len(rows), 1)
    fig = Figure(figsize=(WIDTH_PX / DPI, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    codes = [[STATES.index(_cell(s)) for s in states] for _, states in rows] or [[STATES.index("not_started")] * steps]
    ax.imshow(codes, cmap=ListedColormap([COLOURS[s] for s in STATES]), vmin=-0.5, vmax=len(STATES) - 0.5,
              aspect="auto", interpolation="nearest")
    ax.set_xticks(range(steps), [str(i + 1) for i in range(steps)], fontsize=FONT_PT)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=FONT_PT)
    ax.set_xticks([x - 0.5 for x in range(1, steps)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(_t(i18n, lang, "ms.chart.steps"), fontsize=FONT_PT)
    ax.xaxis.set_label_position("top")
    region = _t(i18n, lang, f"ms.region.{annex}")
    fig.suptitle(_t(i18n, lang, "ms.chart.title", region=region, countries=len(rows), date=as_of.isoformat()),
                 fontsize=TITLE_PT, fontweight="bold")
    legend = [Patch(facecolor=COLOURS[s], edgecolor="#9e9e9e",
                    label=_t(i18n, lang, "ms.chart.overdue" if s == "overdue" else f"ms.status.{s}")) for s in STATES]
    fig.legend(handles=legend, loc="outside lower center", ncols=3, fontsize=FONT_PT, frameon=False)
    return fig


def _png(fig: Figure) -> tuple[bytes, int, int]:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    width, height = fig.canvas.get_width_height()
    return buffer.getvalue(), width, height


def render_region_charts(states: dict[str, list], registry, i18n, lang: str, now: dt.datetime,
                         annexes: Iterable[str] | None = None) -> list[RegionChart]:
    """One :class:`RegionChart` per region (annex) with countries, in annex order, as PNG bytes.

    ``states`` is :func:`bot.milestones.all_states` (ISO3 -> that country's StepStates).
    """
    with _LOCK, matplotlib.rc_context({"font.family": [f for f in FONTS if _has_font(f)] or ["sans-serif"]}):
        readable = _names_readable(lang)
        by_annex: dict[str, list[tuple[str, list]]] = {}
        for country in registry:
            if country.iso3 in states:
                label = country.name(lang) if readable else country.iso3
                if len(label) > 24:
                    label = label[:23] + "…"
                by_annex.setdefault(country.annex, []).append((label, states[country.iso3]))
        out = []
        steps = max((len(s) for s in states.values()), default=0)
        for annex in sorted(by_annex) if annexes is None else [a for a in annexes if a in by_annex]:
            rows = sorted(by_annex[annex], key=lambda r: r[0])
            fig = build_figure(annex, rows, i18n=i18n, lang=lang, as_of=now.date(), steps=steps)
            png, width, height = _png(fig)
            cells = [s for _, row in rows for s in row]
            out.append(RegionChart(annex, png, len(rows), sum(s.status == "done" for s in cells),
                                   sum(s.status != "not_applicable" for s in cells), sum(_cell(s) == "overdue" for s in cells),
                                   width, height))
        return out


def write_region_charts(charts: list[RegionChart], path) -> list[dict]:
    """Write ``FILE-<annex>.png`` beside ``path`` (``progress.png`` -> ``progress-I.png`` ...); what was written."""
    base = Path(path)
    written = []
    for chart in charts:
        target = base.with_name(f"{base.stem}-{chart.annex}{base.suffix or '.png'}")
        target.write_bytes(chart.png)
        written.append({"region": chart.annex, "path": str(target), "bytes": len(chart.png),
                        "width": chart.width, "height": chart.height})
    return written
