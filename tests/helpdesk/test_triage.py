"""Triage by experts and the secretariat: /queue, /query, /assign, /priority, /tag, /stats, /export, /promote."""
from __future__ import annotations

import csv
import io

from bot.helpdesk import export_queries_csv
from storage import users
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_FRA_SPEAKER, FOCAL_KEN, SECRETARIAT, one_text


async def make_queries(env, hd, n=3, user_id=FOCAL_KEN):
    ids = []
    for i in range(n):
        await hd.ask(f"Question number {i} about land productivity", user_id=user_id)
        ids.append(hd.last_query_id())
        env.app.user_data[user_id].pop("awaiting", None)
    return ids


async def test_queue_filters_and_pages_newest_first(env, hd):
    ken = []
    for i in range(10):
        await hd.ask(f"Kenya question {i}")
        ken.append(hd.last_query_id())
        if i == 0:
            await hd.press_card(ken[-1], "rs")
    await hd.ask("Senegal question", user_id=FOCAL_FRA_SPEAKER)
    sen = hd.last_query_id()
    calls = await env.send("/queue", user_id=EXPERT)
    text = one_text(calls, EXPERT)
    assert "10" in text.splitlines()[0]  # 9 active from Kenya + 1 from Senegal
    lines = [x for x in text.splitlines() if "<b>#" in x]
    assert f"#{sen}" in lines[0] and f"#{ken[-1]}" in lines[1]  # newest first
    assert "Page 1 of 2" in text
    buttons = calls[-1].buttons
    assert buttons[0]["callback_data"] == f"v1:hd:q:{sen}"
    nxt = [b for b in buttons if "Next" in b["text"]][0]["callback_data"]
    calls = await env.press(nxt, user_id=EXPERT)
    assert "Page 2 of 2" in one_text(calls, EXPERT)
    text = one_text(await env.send("/queue SEN", user_id=EXPERT), EXPERT)
    assert f"<b>#{sen}</b>" in text and f"<b>#{ken[1]}</b>" not in text
    text = one_text(await env.send("/queue resolved", user_id=EXPERT), EXPERT)
    assert f"<b>#{ken[0]}</b>" in text and f"<b>#{ken[1]}</b>" not in text
    await env.send(f"/tag {ken[3]} baseline", user_id=EXPERT)
    text = one_text(await env.send("/queue open KEN baseline", user_id=EXPERT), EXPERT)
    assert "No queries match" in text
    text = one_text(await env.send("/queue new KEN baseline", user_id=EXPERT), EXPERT)
    assert f"<b>#{ken[3]}</b>" in text and f"<b>#{ken[4]}</b>" not in text
    await env.send(f"/assign {ken[5]}", user_id=EXPERT)
    text = one_text(await env.send("/queue mine", user_id=EXPERT), EXPERT)
    assert f"<b>#{ken[5]}</b>" in text and f"<b>#{ken[4]}</b>" not in text
    assert "understand" in one_text(await env.send("/queue frobnicate!!", user_id=EXPERT), EXPERT)


async def test_query_shows_thread_and_history(env, hd):
    [qid] = await make_queries(env, hd, 1)
    await hd.expert_reply(qid, "First answer")
    await hd.follow_up(qid, "A follow-up")
    text = one_text(await env.send(f"/query {qid}", user_id=EXPERT), EXPERT)
    assert "First answer" in text and "A follow-up" in text
    assert "History" in text and "new → open" in text
    calls = await env.press(f"v1:hd:q:{qid}", user_id=EXPERT)
    assert "First answer" in one_text(calls, EXPERT)
    assert "Usage: /query N" in one_text(await env.send("/query", user_id=EXPERT), EXPERT)
    assert "no query #999" in one_text(await env.send("/query 999", user_id=EXPERT), EXPERT).lower()
    assert "Usage" in one_text(await env.send("/query abc", user_id=EXPERT), EXPERT)


async def test_assign_priority_tag_commands(env, hd):
    [qid] = await make_queries(env, hd, 1)
    await env.services.store.run(users.set_role, 803, "expert", None, env.clock.now(), SECRETARIAT, "cli")
    await env.services.store.run(users.touch_user, 803, "Pedro", "pedro_soil", env.clock.now())
    text = one_text(await env.send(f"/assign {qid} @pedro_soil", user_id=EXPERT), EXPERT)
    assert "Pedro" in text and hd.query(qid)["assignee_id"] == 803
    text = one_text(await env.send(f"/assign {qid} {FOCAL_KEN}", user_id=EXPERT), EXPERT)
    assert "not an expert" in text and hd.query(qid)["assignee_id"] == 803
    assert "do not know" in one_text(await env.send(f"/assign {qid} @nobody_here", user_id=EXPERT), EXPERT)
    await env.send(f"/assign {qid} me", user_id=EXPERT)
    assert hd.query(qid)["assignee_id"] == EXPERT
    assert "high" in one_text(await env.send(f"/priority {qid} high", user_id=EXPERT), EXPERT)
    assert "Usage" in one_text(await env.send(f"/priority {qid} extreme", user_id=EXPERT), EXPERT)
    assert hd.query(qid)["priority"] == "high"
    text = one_text(await env.send(f"/tag {qid} baseline SOC", user_id=EXPERT), EXPERT)
    assert "#baseline" in text and "#soc" in text
    await env.send(f"/tag {qid} -soc", user_id=EXPERT)
    assert hd.query(qid)["tags"] == ["baseline"]
    assert "not a valid tag" in one_text(await env.send(f"/tag {qid} b@d", user_id=EXPERT), EXPERT)
    kinds = [e["kind"] for e in hd.events(qid)]
    assert kinds.count("assign") == 2 and "priority" in kinds and "tag" in kinds and "untag" in kinds
    # the card in the experts' chat follows
    edits = [c for c in env.api.calls if c.method == "editMessageText" and c.chat_id == EXPERT_CHAT]
    assert edits and "#baseline" in edits[-1].text


async def test_stats(env, hd):
    a, b, c = await make_queries(env, hd, 3)
    await hd.ask("Senegal question", user_id=FOCAL_FRA_SPEAKER)
    env.clock.advance(hours=2)
    await hd.expert_reply(a, "answer a")
    env.clock.advance(hours=2)
    await hd.expert_reply(b, "answer b")
    await hd.press_card(a, "rs")
    await env.press(f"v1:hd:rt:{a}:4", user_id=FOCAL_KEN)
    await env.send(f"/tag {a} baseline", user_id=EXPERT)
    text = one_text(await env.send("/stats", user_id=SECRETARIAT), SECRETARIAT)
    assert "Queries: 4" in text
    assert "Median first response: 3.0 h" in text
    assert "4.00 / 5 (1 ratings)" in text
    assert "Africa: 4" in text and "#baseline: 1" in text
    assert "not allowed" in one_text(await env.send("/stats", user_id=FOCAL_KEN), FOCAL_KEN)


async def test_export_sends_a_csv_document(env, hd):
    a, b = await make_queries(env, hd, 2)
    await hd.expert_reply(a, "=HYPERLINK(\"evil\")")
    calls = await env.send("/export", user_id=SECRETARIAT)
    doc = [c for c in calls if c.method == "sendDocument"]
    assert len(doc) == 1 and doc[0].chat_id == SECRETARIAT and "2" in doc[0].text
    text = export_queries_csv(env.db, None)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["id"]) for r in rows] == [a, b]
    assert rows[0]["country"] == "KEN" and rows[0]["state"] == "open"
    assert rows[0]["answers"].startswith("'=")  # no formula injection into spreadsheets
    env.clock.advance(days=2)
    await hd.ask("A later question")
    later = export_queries_csv(env.db, env.clock.now() - __import__("datetime").timedelta(hours=1))
    assert len(list(csv.DictReader(io.StringIO(later)))) == 1
    assert "Usage" in one_text(await env.send("/export yesterday", user_id=SECRETARIAT), SECRETARIAT)


async def test_promote_and_approve_makes_the_answer_searchable(env, hd):
    await hd.ask("How are wetlands handled in the Bornean peat swamp transition matrix?")
    qid = hd.last_query_id()
    answer = "Treat the peat swamp conversion to cropland as degradation in the transition matrix."
    await hd.expert_reply(qid, answer)
    text = one_text(await env.send(f"/promote {qid}", user_id=EXPERT), EXPERT)
    assert "not resolved" in text
    await hd.press_card(qid, "rs")
    calls = await env.send(f"/promote {qid} land_cover", user_id=EXPERT)
    preview = one_text(calls, EXPERT)
    assert "Draft FAQ entry" in preview and "peat swamp" in preview and "secretariat will review" in preview
    posted = [c for c in calls if c.chat_id == EXPERT_CHAT and c.method == "sendMessage"]
    approve = [b["callback_data"] for b in posted[0].buttons if "Approve" in b["text"]][0]
    # an expert cannot approve; the secretariat can
    calls = await env.press(approve, user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert "not allowed" in [c for c in calls if c.method == "answerCallbackQuery"][0].params["text"]
    calls = await env.press(approve, user_id=SECRETARIAT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert "searchable" in one_text(calls)
    hits = await env.services.store.run(lambda db: env.services.search.search("Bornean peat swamp transition matrix", 3))
    assert hits and hits[0].id.startswith("helpdesk-")
    # a second approval does nothing; a second promotion says so
    calls = await env.press(approve, user_id=SECRETARIAT, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert "already" in [c for c in calls if c.method == "answerCallbackQuery"][0].params["text"]
    assert "already been proposed" in one_text(await env.send(f"/promote {qid}", user_id=EXPERT), EXPERT)
    # it survives a reload of the YAML knowledge
    from knowledge.faq import load_faq_dir
    from storage import faq as faq_store
    faq_store.load_entries(env.db, load_faq_dir(env.services.config.knowledge_dir / "faq"))
    env.services.search.refresh_if_changed()
    assert env.services.search.get(hits[0].id) is not None
    assert "promoted" in [e["kind"] for e in hd.events(qid)]


async def test_promote_refuses_bad_input(env, hd):
    await hd.ask("Question")
    qid = hd.last_query_id()
    await hd.expert_reply(qid, "x" * 1300)
    await hd.press_card(qid, "rs")
    assert "1200" in one_text(await env.send(f"/promote {qid}", user_id=EXPERT), EXPERT)
    assert "Unknown topic" in one_text(await env.send(f"/promote {qid} nonsense", user_id=EXPERT), EXPERT)
    await hd.ask("Unanswered")
    other = hd.last_query_id()
    await hd.press_card(other, "rs")
    assert "no written expert answer" in one_text(await env.send(f"/promote {other}", user_id=EXPERT), EXPERT)
