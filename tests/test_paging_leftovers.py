"""Small leftovers of issue #20 found in the console: a query's history names the state it was
asked in (no "— → new"), and the queue cuts a long question at a word, with "…"."""
from __future__ import annotations

import pytest

from tests.util import EXPERT, FOCAL_KEN, texts


@pytest.mark.parametrize("lang", ["fr", "zh"])
async def test_history_and_queue_read_as_words(env, lang):
    t = env.services.t
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.send("/ask Comment concilier nos données de carbone du sol avec la carte nationale ?", user_id=FOCAL_KEN)
    await env.press(f"v1:lang:{lang}", user_id=EXPERT)
    await env.send("/assign 1 me", user_id=EXPERT)
    view = texts(await env.send("/query 1", user_id=EXPERT), EXPERT)[0]
    asked = [line for line in view.splitlines() if t(lang, "hd.event.created") in line]
    assert asked and asked[0].endswith(f"{t(lang, 'hd.event.created')}: {t(lang, 'hd.state.new')}"), asked
    assert f"{t(lang, 'hd.event.assign')}: {t(lang, 'common.none')} → " in view  # a change still reads before → after
    queue = texts(await env.send("/queue", user_id=EXPERT), EXPERT)[0]
    line = next(x for x in queue.splitlines() if "<b>" in x and "KEN" in x)
    assert "du sol…" in line and " a…" not in line
