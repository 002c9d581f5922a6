"""/broadcast: segment, message, preview with the count, confirm; the ledger, progress and status."""
from __future__ import annotations

import pytest

from bot import broadcast as bc
from knowledge.countries import load_countries
from storage import groups
from storage import reminders as store
from storage import users
from tests.reminders.util import drain, ledger, messages, person, stop_app
from tests.util import FOCAL_KEN, SECRETARIAT, one_text


@pytest.fixture(scope="module")
def registry():
    return load_countries()


def test_segments(registry):
    assert bc.parse_segment("all", registry).kind == "all"
    africa = bc.parse_segment("africa", registry)
    assert africa.code == "annex:I" and len(africa.countries) == 40
    mixed = bc.parse_segment("countries:KEN, UGA, pilots", registry)
    assert mixed.code == "countries:KEN,UGA,pilots" and {"KEN", "UGA", "ITA"} <= set(mixed.countries)
    assert bc.parse_segment("KEN", registry).code == "KEN"
    assert bc.parse_segment("role:experts", registry).role == "expert"
    assert bc.parse_segment("groups:asia", registry).code == "groups:annex:II"
    assert bc.parse_segment("groups", registry).kind == "groups"
    for bad in ("", "role:king", "atlantis", "countries:"):
        assert bc.parse_segment(bad, registry) is None


async def _setup(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 502, "SEN", lang="fr")
    await person(env, 601, "THA")
    await person(env, 777, None, role=None)  # a guest: never in a segment
    await person(env, SECRETARIAT, None, role=None)


async def test_broadcast_flow_preview_confirm_progress_status(env):
    await _setup(env)
    calls = await env.send("/broadcast", user_id=SECRETARIAT)
    data = [b["callback_data"] for b in calls[-1].buttons]
    assert "v1:bc:seg:I" in data and "v1:bc:seg:groups" in data and "v1:bc:seg:ctry" in data
    calls = await env.press("v1:bc:seg:I", user_id=SECRETARIAT)
    assert "2 people and 0 groups" in one_text(calls)
    calls = await env.send("The <b>baseline</b> template is online: see the guidance.", user_id=SECRETARIAT)
    preview = calls[-1]
    assert "Preview" in preview.text and "2 people" in preview.text and "template is online" in preview.text
    go = preview.buttons[0]["callback_data"]
    assert go.startswith("v1:bc:go:") and "Send to 2" in preview.buttons[0]["text"]
    assert not messages(env, FOCAL_KEN)                      # nothing before the confirmation
    env.api.clear()
    await env.press(go, user_id=SECRETARIAT)
    await drain(env)
    assert "From the LDN Target Setting Programme secretariat" in messages(env, FOCAL_KEN)[0].text
    assert "Message du secrétariat" in messages(env, 502)[0].text
    assert not messages(env, 601) and not messages(env, 777)
    edits = [c for c in env.api.sent("editMessageText", SECRETARIAT)]
    assert edits and "finished: 2/2 sent" in edits[-1].text
    again = await env.press(go, user_id=SECRETARIAT)        # a second confirm sends nothing
    await drain(env)
    assert any("out of date" in c.params.get("text", "") for c in again if c.method == "answerCallbackQuery")
    assert len(messages(env, FOCAL_KEN)) == 1
    status = one_text(await env.send("/broadcast status", user_id=SECRETARIAT))
    assert "annex:I" in status and "2/2 sent" in status and "done" in status


async def test_typed_segment_countries_and_blocked_recipients(env):
    await _setup(env)
    await env.send("/broadcast KEN, THA", user_id=SECRETARIAT)
    preview = (await env.send("Reminder: national workshop next week.", user_id=SECRETARIAT))[-1]
    assert "2 people" in preview.text
    real = env.api.do_request

    async def refuse_thailand(url, method, request_data=None, **kwargs):
        if url.endswith("/sendMessage") and str(request_data.parameters.get("chat_id")) == "601":
            return 403, b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}'
        return await real(url, method, request_data, **kwargs)

    env.api.do_request = refuse_thailand
    await env.press(preview.buttons[0]["callback_data"], user_id=SECRETARIAT)
    await drain(env)
    [row] = store.recent_broadcasts(env.db, 1)
    figures = bc.tally(env.db, row["id"])
    assert (figures["sent"], figures["blocked"], figures["total"]) == (1, 1, 2)
    blocked = [r["chat_id"] for r in ledger(env, kind="broadcast") if r["status"] == "blocked"]
    assert blocked == [601] and users.get_user(env.db, 601)["active"] == 0
    assert "1 blocked" in env.api.sent("editMessageText", SECRETARIAT)[-1].text


async def test_countries_button_asks_and_roles(env):
    await _setup(env)
    await env.press("v1:bc:seg:ctry", user_id=SECRETARIAT)
    calls = await env.send("atlantis", user_id=SECRETARIAT)
    assert "did not understand" in one_text(calls)
    calls = await env.send("SEN, pilots", user_id=SECRETARIAT)
    assert "1 people" in one_text(calls)
    calls = await env.press("v1:bc:seg:ex", user_id=SECRETARIAT)
    assert "0 people" in one_text(calls)


async def test_only_the_secretariat_broadcasts(env):
    await _setup(env)
    assert "not allowed" in one_text(await env.send("/broadcast", user_id=FOCAL_KEN))
    await env.send("/broadcast all", user_id=SECRETARIAT)
    preview = (await env.send("Hello all", user_id=SECRETARIAT))[-1]
    go = preview.buttons[0]["callback_data"]
    calls = await env.press(go, user_id=FOCAL_KEN)            # forged press
    assert "not allowed" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    await drain(env)
    assert not ledger(env, kind="broadcast")
    cancel = preview.buttons[1]["callback_data"]
    await env.press(cancel, user_id=SECRETARIAT)
    calls = await env.press(go, user_id=SECRETARIAT)
    assert any("out of date" in c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery")


async def test_linked_groups_segment(env):
    now = env.clock.now()
    groups.record_group(env.db, -100200, title="Peers", chat_type="supergroup", lang="ru", added_by=SECRETARIAT, now=now)
    groups.set_circle(env.db, -100200, "annex:II", ["THA"], SECRETARIAT, now)
    groups.record_group(env.db, -100201, title="No circle", chat_type="supergroup", lang="en", added_by=SECRETARIAT, now=now)
    await _setup(env)
    calls = await env.press("v1:bc:seg:groups", user_id=SECRETARIAT)
    assert "0 people and 1 groups" in one_text(calls)
    preview = (await env.send("Peer exchange on Thursday", user_id=SECRETARIAT))[-1]
    env.api.clear()
    await env.press(preview.buttons[0]["callback_data"], user_id=SECRETARIAT)
    await drain(env)
    assert "От секретариата" in messages(env, -100200)[0].text
    assert not messages(env, FOCAL_KEN) and not messages(env, -100201)


async def test_an_interrupted_broadcast_resumes_after_restart_without_duplicates(env, app_factory):
    await _setup(env)
    await env.send("/broadcast all", user_id=SECRETARIAT)
    await env.send("Please check the new guidance.", user_id=SECRETARIAT)
    [draft] = list(env.db.query("SELECT id FROM broadcasts WHERE status = 'draft'"))
    # confirmed (rows written), one delivered, then the process dies
    total = bc.start(env.db, env.services, draft["id"], env.clock.now())
    assert total == 4  # three focal points and the secretariat member (everyone registered)
    first = ledger(env, kind="broadcast")[0]
    await env.services.deliverer.deliver(env.app.bot, first["id"])
    await stop_app(env)
    second = await app_factory()                              # on_startup resumes 'sending' broadcasts
    await drain(second)
    got = [c.chat_id for c in messages(second)]
    assert sorted(got) == sorted(r["chat_id"] for r in ledger(second, kind="broadcast")[1:])
    assert first["chat_id"] not in got
    assert store.get_broadcast(second.db, draft["id"])["status"] == "done"
