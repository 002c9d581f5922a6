"""/reminders (mute, snooze), /timezone, /events and /event (preview, confirm, move, cancel)."""
from __future__ import annotations

from bot.reminders import get_reminders
from storage import reminders as store
from storage import users
from tests.reminders.util import at, drain, ledger, messages, person, tick
from tests.util import FOCAL_KEN, SECRETARIAT, one_text

KONYA_3D = "2016-05-25T06:00:00Z"
KONYA_1D = "2016-05-27T06:00:00Z"


def snooze_data(call, which: str) -> str:
    return next(b["callback_data"] for b in call.buttons if b["callback_data"].endswith(":" + which) and ":snz:" in b["callback_data"])


async def test_reminders_lists_upcoming_in_my_time_zone(env):
    await person(env, 701, "LKA")
    text = one_text(await env.send("/reminders", user_id=701))
    assert "Asia/Colombo, UTC+05:30" in text
    assert "LDN target setting regional inception workshop for Asia" in text
    assert "28 June 2016, 07:30" in text      # Bangkok 14d: 2016-06-28 02:00 UTC in Colombo
    assert "Africa" not in text               # Konya is not for Sri Lanka


async def test_mute_a_category_from_reminders_and_unmute(env):
    await person(env, FOCAL_KEN, "KEN")
    calls = await env.send("/reminders", user_id=FOCAL_KEN)
    data = [b["callback_data"] for b in calls[-1].buttons]
    assert "v1:rem:set:workshops:1" in data and "v1:rem:set:all:1" in data
    calls = await env.press("v1:rem:set:workshops:1", user_id=FOCAL_KEN)
    assert store.mutes_of(env.db, FOCAL_KEN) == {"workshops"}
    assert any(c.method == "editMessageText" and "🔕" in c.text for c in calls)
    env.api.clear()
    env.clock.set(KONYA_3D)
    await tick(env)
    assert not messages(env, FOCAL_KEN)
    assert ledger(env, kind="reminder")[0]["status"] == "cancelled"
    # deadlines are not muted
    env.clock.set("2016-07-17T23:59:00Z")  # end of the inception phase, 14 days before (a milestone event)
    await tick(env)
    assert "Programme milestone" in messages(env, FOCAL_KEN)[0].text
    await env.press("v1:rem:set:workshops:0", user_id=FOCAL_KEN)
    assert store.mutes_of(env.db, FOCAL_KEN) == set()


async def test_mute_all_from_a_delivered_reminder(env):
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(KONYA_3D)
    await tick(env)
    [call] = messages(env, FOCAL_KEN)
    mute = call.buttons[-1]["callback_data"]
    assert mute == "v1:rem:mute:workshops:1"
    calls = await env.press("v1:rem:mute:all:1", user_id=FOCAL_KEN)
    assert any(c.method == "answerCallbackQuery" and "Muted" in c.params.get("text", "") for c in calls)
    env.clock.set(KONYA_1D)
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1


async def test_snooze_one_hour_delivers_once_more(env):
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(KONYA_3D)
    await tick(env)
    [call] = messages(env, FOCAL_KEN)
    calls = await env.press(snooze_data(call, "1h"), user_id=FOCAL_KEN)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "25 May 2016, 10:00" in answer.params["text"]   # 07:00 UTC in Nairobi
    again = await env.press(snooze_data(call, "1h"), user_id=FOCAL_KEN)  # double tap: one snooze
    assert "Already snoozed" in next(c for c in again if c.method == "answerCallbackQuery").params["text"]
    env.clock.advance(minutes=30)
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1
    text = one_text(await env.send("/reminders", user_id=FOCAL_KEN))
    assert "snoozed: LDN target setting regional inception workshop for Africa" in text
    env.api.clear()
    env.clock.advance(minutes=31)
    await tick(env)
    [snoozed] = messages(env, FOCAL_KEN)
    assert "Snoozed reminder" in snoozed.text and "in 3 days" in snoozed.text
    assert snoozed.buttons  # can be snoozed again
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1
    rows = ledger(env, kind="snooze")
    assert len(rows) == 1 and rows[0]["status"] == "sent"


async def test_snooze_is_refused_for_someone_elses_reminder_and_after_the_start(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 502, "SEN")
    env.clock.set(KONYA_1D)
    await tick(env)
    call = messages(env, FOCAL_KEN)[0]
    calls = await env.press(snooze_data(call, "1h"), user_id=502)    # forged: not their reminder
    assert "not allowed" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    calls = await env.press(snooze_data(call, "1d"), user_id=FOCAL_KEN)  # the workshop starts before then
    assert "Too late" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert not ledger(env, kind="snooze")
    calls = await env.press("v1:rem:snz:999999:1h", user_id=FOCAL_KEN)
    assert "not allowed" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]


async def test_timezone_command(env):
    await person(env, 701, "LKA")
    text = one_text(await env.send("/timezone", user_id=701))
    assert "Asia/Colombo, UTC+05:30" in text and "your country's" in text
    text = one_text(await env.send("/timezone kathmandu", user_id=701))
    assert "Asia/Kathmandu, UTC+05:45" in text
    assert users.get_user(env.db, 701)["timezone"] == "Asia/Kathmandu"
    text = one_text(await env.send("/timezone Nairobbi", user_id=701))
    assert "Africa/Nairobi" in text and users.get_user(env.db, 701)["timezone"] == "Asia/Kathmandu"
    text = one_text(await env.send("/timezone reset", user_id=701))
    assert "Asia/Colombo" in text and users.get_user(env.db, 701)["timezone"] is None
    whoami = one_text(await env.send("/whoami", user_id=701))
    assert "Asia/Colombo" in whoami


async def test_events_list_for_everyone_and_edit_rights(env):
    await person(env, FOCAL_KEN, "KEN")
    text = one_text(await env.send("/events", user_id=FOCAL_KEN))
    assert "ws-konya" in text and "ws-bangkok" not in text and "reporting-2018" in text
    assert "/event add" not in text
    text = one_text(await env.send("/events", user_id=SECRETARIAT))
    assert "ws-bangkok" in text and "/event add" in text and "annex I" in text
    assert "not allowed" in one_text(await env.send("/event cancel ws-konya", user_id=FOCAL_KEN))
    calls = await env.press("v1:evt:ok:deadbeef", user_id=FOCAL_KEN)
    assert "not allowed" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]


async def test_event_add_preview_confirm_then_reminders(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 502, "SEN")
    calls = await env.send('/event add id=ken-nws kind=workshop start=2016-06-20T09:00 end=2016-06-21T17:00 tz=Africa/Nairobi '
                           'audience=KEN title="National LDN workshop, Kenya" title.fr="Atelier national NDT" place=Nairobi offsets=7d,1d',
                           user_id=SECRETARIAT)
    preview = calls[-1]
    assert "National LDN workshop, Kenya" in preview.text and "1 recipient today" in preview.text and "7d" in preview.text
    assert store.get_event(env.db, "ken-nws") is None   # nothing saved before the confirmation
    ok = preview.buttons[0]["callback_data"]
    await env.press(ok, user_id=SECRETARIAT)
    event = store.get_event(env.db, "ken-nws")
    assert event.source == "chat" and event.start_utc == at("2016-06-20T06:00:00Z")
    stale = await env.press(ok, user_id=SECRETARIAT)     # a second press finds nothing to do
    assert any("out of date" in c.params.get("text", "") for c in stale if c.method == "answerCallbackQuery")
    env.api.clear()
    env.clock.set("2016-06-13T06:00:00Z")
    await tick(env)
    assert [c.chat_id for c in messages(env)] == [FOCAL_KEN]
    assert "National LDN workshop, Kenya" in messages(env)[0].text and "in 7 days" in messages(env)[0].text


async def test_event_add_reports_problems(env):
    calls = await env.send("/event add id=Bad_Id kind=party start=2016-13-01 tz=Mars/Base audience=XYZ title=x", user_id=SECRETARIAT)
    assert "not understood" in one_text(calls)
    calls = await env.send("/event add id=bad_id kind=party start=2016-13-01 tz=Mars/Base audience=KEN title=x", user_id=SECRETARIAT)
    text = one_text(calls)
    assert "bad_id" in text and "kind must be one of" in text and "Mars/Base" in text and "start" in text
    calls = await env.send("/event add id=ws-konya kind=workshop start=2016-06-01T09:00 tz=UTC audience=all title=x", user_id=SECRETARIAT)
    assert "already exists" in one_text(calls)


async def test_event_move_moves_pending_reminders(env):
    await person(env, FOCAL_KEN, "KEN")
    calls = await env.send("/event move ws-konya 2016-06-04T09:00", user_id=SECRETARIAT)
    preview = calls[-1]
    assert "4 June 2016, 09:00 (Europe/Istanbul, UTC+03:00)" in preview.text and "6 June 2016, 18:00" in preview.text  # end keeps its length
    await env.press(preview.buttons[0]["callback_data"], user_id=SECRETARIAT)
    env.api.clear()
    event = store.get_event(env.db, "ws-konya")
    assert event.version == 2 and event.start_utc == at("2016-06-04T06:00:00Z")
    env.clock.set(KONYA_3D)        # the old 3d time: nothing
    await tick(env)
    assert not messages(env)
    env.clock.set("2016-06-01T06:00:00Z")  # the new 3d time
    await tick(env)
    [call] = messages(env, FOCAL_KEN)
    assert "4 June 2016, 09:00" in call.text
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1
    # the file still has the old date, but an unchanged file never undoes a chat edit
    await get_reminders(env.services).reload()
    assert store.get_event(env.db, "ws-konya").version == 2


async def test_event_cancel_notifies_and_cancels_pending(env):
    await person(env, FOCAL_KEN, "KEN")
    await person(env, 502, "SEN", lang="fr")
    await person(env, 601, "THA")
    env.clock.set(KONYA_3D)
    await tick(env)
    call = messages(env, FOCAL_KEN)[0]
    await env.press(snooze_data(call, "1h"), user_id=FOCAL_KEN)       # a pending snooze
    calls = await env.send("/event cancel ws-konya", user_id=SECRETARIAT)
    labels = [b["text"] for b in calls[-1].buttons]
    assert "tell its 2 recipients" in labels[0]
    env.api.clear()
    await env.press(calls[-1].buttons[0]["callback_data"], user_id=SECRETARIAT)
    await drain(env)
    assert store.get_event(env.db, "ws-konya").cancelled
    assert "Cancelled" in messages(env, FOCAL_KEN)[0].text
    assert "Annulé" in messages(env, 502)[0].text and not messages(env, 601)
    assert ledger(env, kind="snooze")[0]["status"] == "cancelled"
    env.clock.set(KONYA_1D)
    await tick(env)
    assert len(messages(env, FOCAL_KEN)) == 1
    text = one_text(await env.send("/events all", user_id=SECRETARIAT))
    assert "cancelled" in text


async def test_cancel_silently_and_keep(env):
    await person(env, FOCAL_KEN, "KEN")
    calls = await env.send("/event cancel ws-batumi", user_id=SECRETARIAT)
    keep = calls[-1].buttons[2]["callback_data"]
    await env.press(keep, user_id=SECRETARIAT)
    assert not store.get_event(env.db, "ws-batumi").cancelled
    calls = await env.send("/event cancel ws-batumi", user_id=SECRETARIAT)
    env.api.clear()
    await env.press(calls[-1].buttons[1]["callback_data"], user_id=SECRETARIAT)
    assert store.get_event(env.db, "ws-batumi").cancelled
    assert not messages(env, FOCAL_KEN)


async def test_reload_from_yaml_reports_changes(env):
    text = one_text(await env.send("/events reload", user_id=SECRETARIAT))
    assert "no change" in text
    assert "not allowed" in one_text(await env.send("/events reload", user_id=FOCAL_KEN))


async def test_cancel_with_notices_is_all_or_nothing(env):
    """Cancelling and writing the notices is one service call: when a notice cannot be written,
    the event stays active and its pending reminders stay pending."""
    await person(env, FOCAL_KEN, "KEN")
    env.clock.set(KONYA_3D)
    await tick(env)
    await env.press(snooze_data(messages(env, FOCAL_KEN)[0], "1h"), user_id=FOCAL_KEN)
    calls = await env.send("/event cancel ws-konya", user_id=SECRETARIAT)
    env.db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON deliveries WHEN NEW.kind = 'event_notice' "
                   "BEGIN SELECT RAISE(ABORT, 'injected'); END")
    await env.press(calls[-1].buttons[0]["callback_data"], user_id=SECRETARIAT)
    env.db.execute("DROP TRIGGER boom")
    assert not store.get_event(env.db, "ws-konya").cancelled
    assert ledger(env, kind="snooze")[0]["status"] == "pending"
    assert not list(env.db.query("SELECT * FROM calendar_event_log WHERE event_id = 'ws-konya' AND action = 'cancelled'"))
