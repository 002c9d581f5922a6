"""Reminders and the weekly digest by e-mail: the same reminders as Telegram, once, through
the ledger, with the event as .ics; Monday's digest in the person's time zone; one-click
(mailto) unsubscribe; the Telegram planner leaves out those who chose e-mail alone."""
from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from bot.reminders import get_reminders
from storage import mail as mail_store
from tests.mail.util import attachments, body, mail


async def _next_reminder_time(menv, person: int) -> dt.datetime:
    service = get_reminders(menv.services)
    await service.ensure_loaded()
    now = menv.bot.clock.now()

    def first(db):
        snap = service.snapshot(db, now)
        snap.people = [service.person(db, person)]
        planned = [p for p in service.plan(snap, now, now + dt.timedelta(days=400), now) if p.chat_id == person]
        return min(planned, key=lambda p: p.due_at).due_at

    return await menv.services.store.read(first)


async def test_reminders_go_by_email_once_with_the_event_attached(menv):
    person = await menv.bind()
    menv.outbox.clear()
    due = await _next_reminder_time(menv, person)
    menv.bot.clock.advance(seconds=(due - menv.bot.clock.now()).total_seconds() + 60)
    done = await menv.channel.tick()
    assert done["reminders"] >= 1
    reminder = [m for m in menv.outbox.to("amina@ministry.example") if m["Subject"].startswith("LDN TSP reminder:")]
    assert reminder
    msg = reminder[0]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"].startswith("<mailto:helpdesk+u")
    assert "Workshop" in msg["Subject"] and "/calendar" not in body(msg)  # the first reminder of the calendar: the Africa workshop, 3 days ahead
    (name, content), = attachments(msg)  # the event, as .ics
    assert name == "ldn-tsp.ics" and Calendar.from_ical(content).walk("VEVENT")
    count = len(menv.outbox.messages)
    await menv.channel.tick()
    assert len(menv.outbox.messages) == count  # once


async def test_the_digest_goes_on_monday_morning_in_the_persons_time_zone(menv):
    await menv.bind()  # a focal point of Kenya: Africa/Nairobi, UTC+3
    await menv.deliver(mail("Baseline", "How do we set the baseline?", message_id="d1@ministry.example"))
    menv.outbox.clear()
    clock = menv.bot.clock
    clock.advance(seconds=(dt.datetime(2016, 5, 23, 4, 30, tzinfo=dt.timezone.utc) - clock.now()).total_seconds())
    assert (await menv.channel.tick())["digests"] == 0  # Monday 07:30 in Nairobi: not yet
    clock.advance(hours=1)  # 08:30 in Nairobi
    assert (await menv.channel.tick())["digests"] == 1
    msg = menv.outbox.last("amina@ministry.example")
    text = body(msg)
    assert msg["Subject"] == "Your LDN TSP week, 2016-05-23"
    assert "Kenya" in text and "#1" in text and "Baseline" in text
    assert "Next steps of the checklist" in text and "unsubscribe" in text
    assert msg["List-Unsubscribe"]
    assert (await menv.channel.tick())["digests"] == 0  # once a week
    clock.advance(days=7)
    assert (await menv.channel.tick())["digests"] == 1


async def test_unsubscribe_by_the_list_unsubscribe_address(menv):
    person = await menv.bind()
    token = mail_store.person_by_id(menv.db, person)["unsubscribe_token"]
    address = f"helpdesk+u{token}@ldn.example.org"
    await menv.deliver(mail("unsubscribe", "", to=address, message_id="u1@ministry.example"), rcpt=address)
    assert mail_store.person_by_id(menv.db, person)["channel"] == "telegram"
    assert "no longer come by e-mail" in body(menv.outbox.last("amina@ministry.example"))
    assert menv.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 0
    assert not mail_store.people_for_email(menv.db)


async def test_the_telegram_planner_leaves_out_who_chose_email_alone(menv):
    env = menv.bot
    await env.send("/start", user_id=4343)
    await env.make_focal_point(4343, "KEN")
    service = get_reminders(menv.services)
    snap = await menv.services.store.read(service.snapshot, env.clock.now())
    assert 4343 in [p.chat_id for p in snap.people]
    await menv.services.store.run(lambda db: mail_store.bind_address(db, 4343, "k@ministry.example", None, "ab12", env.clock.now()))
    await menv.services.store.run(mail_store.set_channel, 4343, "email")
    snap = await menv.services.store.read(service.snapshot, env.clock.now())
    assert 4343 not in [p.chat_id for p in snap.people]
