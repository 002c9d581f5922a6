"""The progress chart for a phone: per region, 1080 px wide, 12 pt labels, words from the translation layer."""
from __future__ import annotations

import datetime as dt
import struct

from matplotlib.text import Text

from bot.milestones.states import _state
from bot import milestones as ms
from bot.i18n import LANGS, Translator, load_translator
from bot.progress_chart import FONT_PT, build_figure, render_region_charts
from knowledge.checklist import load_checklist
from knowledge.countries import load_countries

NOW = dt.datetime(2017, 4, 1, 10, 0, tzinfo=dt.timezone.utc)
CHART_KEYS = ("ms.chart.title", "ms.chart.steps", "ms.chart.overdue", "ms.status.done", "ms.status.in_progress",
              "ms.status.not_started", "ms.status.not_applicable")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def states_for(registry, template) -> dict:
    """Kenya has done step 1 and is late on step 2 (in progress); Argentina is late on everything due."""
    rows = {("KEN", "working_group"): {"status": "done"}, ("KEN", "leverage_plan"): {"status": "in_progress"}}
    out = {}
    for country in registry:
        today = ms.local_today(registry, country.iso3, NOW)
        out[country.iso3] = [_state(country.iso3, step, rows.get((country.iso3, step.id)), today) for step in template]
    return out


def texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip()]


def test_one_phone_sized_png_per_region():
    registry, template = load_countries(), load_checklist()
    charts = render_region_charts(states_for(registry, template), registry, load_translator(), "en", NOW)
    assert [c.annex for c in charts] == ["I", "II", "III", "IV", "V"]
    for chart in charts:
        width, height = png_size(chart.png)
        assert (width, height) == (chart.width, chart.height)
        assert width == 1080 and height <= 20 * width  # Telegram's photo limits: width + height <= 10000, ratio <= 20
        assert width + height <= 10_000
    africa = charts[0]
    assert africa.countries == 40 and africa.done == 1 and africa.applicable == 400
    assert africa.overdue == 40 * 4 - 1  # steps 1-4 were due by 31 March 2017; Kenya did one


def test_labels_come_from_the_translation_layer_in_the_readers_language():
    registry, template = load_countries(), load_checklist()
    states = states_for(registry, template)
    rows = [(registry.get(i).name("ru"), states[i]) for i in ("KEN", "UGA")]
    i18n = load_translator()
    fig = build_figure("I", rows, i18n=i18n, lang="ru", as_of=NOW.date(), steps=len(template))
    shown = {t.get_text() for t in texts(fig)}
    region = i18n.t("ru", "ms.region.I")
    assert i18n.t("ru", "ms.chart.title", region=region, countries=2, date="2017-04-01") in shown
    assert {i18n.t("ru", f"ms.status.{s}") for s in ("done", "in_progress", "not_started", "not_applicable")} <= shown
    assert i18n.t("ru", "ms.chart.overdue") in shown and i18n.t("ru", "ms.chart.steps") in shown
    assert "Кения" in shown and "Уганда" in shown
    assert all(t.get_fontsize() >= FONT_PT for t in texts(fig))  # >= 12 pt everywhere

    # every word is a translation key's: swap the strings and the chart says the new ones
    marked = Translator({**i18n.strings, **{key: {lang: f"<{key}:{lang}>" for lang in LANGS} for key in CHART_KEYS},
                         "ms.region.I": {lang: "R" for lang in LANGS}})
    fig = build_figure("I", rows, i18n=marked, lang="es", as_of=NOW.date(), steps=len(template))
    words = {t.get_text() for t in texts(fig)} - {r[0] for r in rows} - {str(i) for i in range(1, 11)}
    assert words == {f"<{key}:es>" for key in CHART_KEYS}


def test_the_bot_and_the_command_line_draw_the_same(env, tmp_path, monkeypatch, capsys):
    import json

    from bot.cli import main

    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    assert main(["progress", "--chart", str(tmp_path / "p.png"), "--lang", "fr", "--json"]) == 0
    charts = json.loads(capsys.readouterr().out)["charts"]
    assert [(c["region"], c["width"]) for c in charts] == [(a, 1080) for a in ("I", "II", "III", "IV", "V")]
    assert png_size((tmp_path / "p-IV.png").read_bytes()) == (1080, charts[3]["height"])
