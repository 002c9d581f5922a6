"""People by e-mail: `ldn-bot invite --email`, confirmation, /channels in Telegram, and an
e-mail-only record joining the Telegram record when the same person opens the link."""
from __future__ import annotations

from pathlib import Path

from bot.cli import main
from bot.mail import people
from storage import mail as mail_store
from storage import privacy
from storage import users
from tests.mail.util import body, mail
from tests.util import texts

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_USER = 4242


def test_invite_command_emails_the_link_and_the_code(tmp_path, monkeypatch, outbox, capsys):
    monkeypatch.setenv("LDN_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("LDN_SMTP_URL", f"smtp://127.0.0.1:{outbox.port}")
    monkeypatch.setenv("LDN_CFG__MAIL__FROM", "helpdesk@ldn.example.org")
    monkeypatch.chdir(ROOT)
    assert main(["invite", "--country", "SEN", "--email", "Awa@Environnement.example", "--lang", "fr"]) == 0
    link = capsys.readouterr().out.strip()
    msg = outbox.last("awa@environnement.example")
    code = people.find_code(msg["Subject"])
    assert link.startswith("https://t.me/") and link in body(msg) and code in body(msg)
    assert "Sénégal" in msg["Subject"] and "correspondant(e) national(e)" in body(msg)
    assert msg["Reply-To"] == f"helpdesk+c{code}@ldn.example.org"


async def test_a_wrong_code_or_address_binds_nothing(menv):
    services = menv.services
    await menv.deliver(mail("Re: invitation ABCD-EFGH", "confirm", message_id="x1@x"))
    assert menv.db.execute("SELECT count(*) FROM mail_people").fetchone()[0] == 0
    assert "not valid" in body(menv.outbox.last("amina@ministry.example"))
    assert services is not None


async def test_channels_shows_the_address_and_sets_where_reminders_go(menv):
    env = menv.bot
    await env.send("/start", user_id=TELEGRAM_USER)
    calls = await env.send("/channels", user_id=TELEGRAM_USER)
    assert "No e-mail address is bound" in texts(calls)[0]
    # the invitation is opened in Telegram first, then confirmed by e-mail: one record
    invite = await env.services.store.run(lambda db: people.invite_by_email(
        db, address="amina@ministry.example", country="KEN", lang="en", created_by=None, now=env.clock.now(), ttl_days=14))
    await env.send(f"/start {invite.token}", user_id=TELEGRAM_USER)
    await menv.deliver(mail("Re: invitation", f"Confirmed: {invite.code}", message_id="c1@ministry.example"))
    assert mail_store.person_by_address(env.db, "amina@ministry.example")["user_id"] == TELEGRAM_USER
    calls = await env.send("/channels", user_id=TELEGRAM_USER)
    assert "amina@ministry.example" in texts(calls)[0] and "Telegram and e-mail" in texts(calls)[0]
    calls = await env.press("v1:chn:set:email", user_id=TELEGRAM_USER)
    assert any("Reminders and the weekly digest go to: <b>E-mail</b>" in x for x in texts(calls))
    assert mail_store.person_by_id(env.db, TELEGRAM_USER)["channel"] == "email"
    calls = await env.press("v1:chn:set:carrier-pigeon", user_id=TELEGRAM_USER)
    assert mail_store.person_by_id(env.db, TELEGRAM_USER)["channel"] == "email"


async def test_an_email_only_record_joins_the_telegram_record(menv):
    env = menv.bot
    invite = await env.services.store.run(lambda db: people.invite_by_email(
        db, address="amina@ministry.example", country="KEN", lang="en", created_by=None, now=env.clock.now(), ttl_days=14))
    await menv.deliver(mail("Re: invitation", f"Code {invite.code}", message_id="c2@ministry.example"))
    email_only = mail_store.person_by_address(env.db, "amina@ministry.example")["user_id"]
    assert email_only >= mail_store.MAIL_PERSON_BASE
    await menv.deliver(mail("Question", "How do we report in 2018?", message_id="c3@ministry.example"))
    await env.send(f"/start {invite.token}", user_id=TELEGRAM_USER)
    calls = await env.send("/channels", user_id=TELEGRAM_USER)
    assert "now belong to this account" in texts(calls)[0]
    assert mail_store.person_by_address(env.db, "amina@ministry.example")["user_id"] == TELEGRAM_USER
    assert env.db.execute("SELECT asker_id FROM queries").fetchone()[0] == TELEGRAM_USER
    assert users.get_user(env.db, email_only)["role"] is None
    calls = await env.send("/myqueries", user_id=TELEGRAM_USER)
    assert any("2018" in x for x in texts(calls))


async def test_forgetting_a_person_removes_their_address_everywhere(menv):
    person = await menv.bind()
    await menv.deliver(mail("Baseline", "How do we set the baseline? amina@ministry.example", message_id="p1@ministry.example"))
    await menv.deliver(mail("Question", "Can I join?", sender="stranger@else.example", message_id="p2@x"), sender="stranger@else.example")
    result = await menv.services.store.run(privacy.forget, person)
    assert not result.unregistered
    for table in ("mail_people", "mail_invites", "mail_threads", "mail_messages", "mail_notices", "queries", "users", "deliveries"):
        dump = " ".join(str(v) for row in menv.db.execute(f"SELECT * FROM {table}") for v in row)
        assert "amina@ministry.example" not in dump, table
    assert "stranger@else.example" in " ".join(r[0] for r in menv.db.execute("SELECT address FROM mail_notices"))


async def test_wrong_codes_are_answered_once_a_day(menv):
    for n in range(3):
        await menv.deliver(mail("Re: invitation WXYZ-2345", "confirm", message_id=f"w{n}@x"))
    assert len(menv.outbox.to("amina@ministry.example")) == 1
