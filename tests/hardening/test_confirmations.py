"""Every destructive confirmation carries a one-time nonce bound to the person and the request:
a forged, copied (pressed by someone else), replayed or expired button does nothing and says so,
in the presser's language. Through the real Application (broadcast send, event add, move, cancel)."""
from __future__ import annotations

import datetime as dt

import pytest

from storage import reminders as store
from tests.hardening.conftest import COLLEAGUE
from tests.reminders.util import drain, person
from tests.util import FOCAL_KEN, SECRETARIAT

FORGED = "AAAAAAAAAAAA"


def answer(calls) -> str:
    [text] = [c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery"]
    return text


def refused(env, calls, lang: str = "en") -> bool:
    return answer(calls) == env.services.t(lang, "confirm.refused")


def broadcast_rows(env) -> int:
    return env.db.execute("SELECT count(*) FROM deliveries WHERE kind = 'broadcast'").fetchone()[0]


def swap_nonce(data: str, nonce: str) -> str:
    parts = data.split(":")
    parts[3] = nonce
    return ":".join(parts)


async def _people(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, SECRETARIAT, None, role=None)
    await person(env, COLLEAGUE, None, role=None, lang="fr")


async def _broadcast_preview(env) -> str:
    await env.send("/broadcast KEN", user_id=SECRETARIAT)
    preview = (await env.send("The national workshop is next week.", user_id=SECRETARIAT))[-1]
    go = preview.buttons[0]["callback_data"]
    assert go.startswith("v1:bc:go:")
    return go


async def test_broadcast_send_forged_copied_replayed_or_expired_sends_nothing(env):
    await _people(env)
    go = await _broadcast_preview(env)
    # forged: a nonce the bot never issued
    assert refused(env, await env.press(swap_nonce(go, FORGED), user_id=SECRETARIAT))
    # an old-style button naming the broadcast id
    broadcast_id = env.db.execute("SELECT max(id) FROM broadcasts").fetchone()[0]
    assert refused(env, await env.press(f"v1:bc:go:{broadcast_id}", user_id=SECRETARIAT))
    # copied: another secretariat member presses the author's button (answered in French, their language)
    assert refused(env, await env.press(go, user_id=COLLEAGUE, language_code="fr"), "fr")
    assert broadcast_rows(env) == 0
    assert env.db.execute("SELECT status FROM broadcasts WHERE id = ?", [broadcast_id]).fetchone()[0] == "draft"
    # the author's press sends it, once
    calls = await env.press(go, user_id=SECRETARIAT)
    assert answer(calls) == ""
    await drain(env)
    assert broadcast_rows(env) == 1 and len(env.api.sent("sendMessage", FOCAL_KEN)) == 1
    # replayed: the same button again
    assert refused(env, await env.press(go, user_id=SECRETARIAT))
    await drain(env)
    assert broadcast_rows(env) == 1 and len(env.api.sent("sendMessage", FOCAL_KEN)) == 1


async def test_a_broadcast_confirmation_expires(env):
    await _people(env)
    go = await _broadcast_preview(env)
    env.clock.advance(dt.timedelta(minutes=11))
    assert refused(env, await env.press(go, user_id=SECRETARIAT))
    assert broadcast_rows(env) == 0


async def test_a_nonce_confirms_only_its_own_request(env):
    """The nonce of a /forgetme (or of an event preview) does not send a broadcast, nor the reverse."""
    await _people(env)
    go = await _broadcast_preview(env)
    forget = (await env.send("/forgetme", user_id=SECRETARIAT))[-1].buttons[0]["callback_data"]
    forget_nonce = forget.split(":")[3]
    assert refused(env, await env.press(swap_nonce(go, forget_nonce), user_id=SECRETARIAT))
    cancel = (await env.send("/event cancel ws-konya", user_id=SECRETARIAT))[-1].buttons[0]["callback_data"]
    assert refused(env, await env.press(swap_nonce(go, cancel.split(":")[3]), user_id=SECRETARIAT))
    assert broadcast_rows(env) == 0
    # a broadcast nonce on the forget button forgets nobody
    calls = await env.press(swap_nonce(forget, go.split(":")[3]), user_id=SECRETARIAT)
    assert answer(calls) == env.services.t("en", "forget.not_confirmed")
    assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [SECRETARIAT]).fetchone()[0] == 1
    # each real button still works for its own request
    await env.press(go, user_id=SECRETARIAT)
    await drain(env)
    assert broadcast_rows(env) == 1
    assert not store.get_event(env.db, "ws-konya").cancelled


ADD = ('/event add id=ken-nws kind=workshop start=2016-06-20T09:00 end=2016-06-21T17:00 tz=Africa/Nairobi '
       'audience=KEN title="National LDN workshop, Kenya" offsets=7d,1d')


def _state(env, op: str):
    event = store.get_event(env.db, "ken-nws" if op == "add" else "ws-konya")
    return None if event is None else (event.start_utc, event.cancelled, event.version)


async def _event_preview(env, op: str) -> str:
    command = {"add": ADD, "move": "/event move ws-konya 2016-06-02T09:00", "cancel": "/event cancel ws-konya"}[op]
    preview = (await env.send(command, user_id=SECRETARIAT))[-1]
    ok = preview.buttons[0]["callback_data"]
    assert ok.startswith("v1:evt:ok:"), preview.text
    return ok


@pytest.mark.parametrize("op", ["add", "move", "cancel"])
async def test_event_confirmation_forged_copied_replayed_or_expired_changes_nothing(env, op):
    await _people(env)
    before = _state(env, op)
    ok = await _event_preview(env, op)
    assert refused(env, await env.press(swap_nonce(ok, FORGED), user_id=SECRETARIAT))
    assert refused(env, await env.press("v1:evt:ok:deadbeef", user_id=SECRETARIAT))   # the old in-memory token's shape
    assert refused(env, await env.press(ok, user_id=COLLEAGUE, language_code="fr"), "fr")
    assert _state(env, op) == before
    # the colleague's Keep does not spend the author's confirmation either
    keep = ok.replace(":ok:", ":no:").removesuffix(":notify")
    assert refused(env, await env.press(keep, user_id=COLLEAGUE, language_code="fr"), "fr")
    calls = await env.press(ok, user_id=SECRETARIAT)
    assert answer(calls) == ""
    after = _state(env, op)
    assert after != before
    assert refused(env, await env.press(ok, user_id=SECRETARIAT))   # replayed
    assert _state(env, op) == after
    notices = env.db.execute("SELECT count(*) FROM deliveries WHERE kind = 'event_notice'").fetchone()[0]
    assert refused(env, await env.press(ok, user_id=SECRETARIAT))
    assert env.db.execute("SELECT count(*) FROM deliveries WHERE kind = 'event_notice'").fetchone()[0] == notices


@pytest.mark.parametrize("op", ["add", "move", "cancel"])
async def test_an_event_confirmation_expires_and_keep_spends_it(env, op):
    await _people(env)
    before = _state(env, op)
    ok = await _event_preview(env, op)
    env.clock.advance(dt.timedelta(minutes=11))
    assert refused(env, await env.press(ok, user_id=SECRETARIAT))
    assert _state(env, op) == before
    ok = await _event_preview(env, op)
    keep = ok.replace(":ok:", ":no:").removesuffix(":notify")
    calls = await env.press(keep, user_id=SECRETARIAT)
    assert answer(calls) == "" and any(env.services.t("en", "common.cancelled") in (c.text or "") for c in calls if c.text)
    assert refused(env, await env.press(ok, user_id=SECRETARIAT))   # kept: its Confirm does nothing now
    assert _state(env, op) == before
