"""/query N history: names and words on both sides of a change, never a raw id or a code."""
from __future__ import annotations

from bot import helpdesk as hd
from tests.util import EXPERT, FOCAL_KEN, SECRETARIAT, one_text


async def test_history_names_the_assignee(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.send("/start", user_id=EXPERT, first_name="Wanjiru")
    await env.send("/ask How do we reconcile the default SOC data with our national soil map?", user_id=FOCAL_KEN)
    qid = env.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    hd.assign(env.db, qid, EXPERT, SECRETARIAT, env.clock.now())
    hd.change_state(env.db, qid, "pending", EXPERT, env.clock.now())
    text = one_text(await env.send(f"/query {qid}", user_id=EXPERT, first_name="Wanjiru"))
    history = text[text.index(env.services.t("en", "hd.history_title")):]
    assert f"→ {EXPERT}" not in history and "→ Wanjiru" in history
    assert "— → Wanjiru" in history
    assert "→ " + env.services.t("en", "hd.state.pending") in history
    await env.send("/language", user_id=EXPERT, first_name="Wanjiru")
    await env.press("v1:lang:fr", user_id=EXPERT, first_name="Wanjiru")
    text = one_text(await env.send(f"/query {qid}", user_id=EXPERT, first_name="Wanjiru", language_code="fr"))
    assert "→ " + env.services.t("fr", "hd.state.pending") in text and "→ pending" not in text
