"""An expert's answer by e-mail through the delivery ledger: 4xx and lost connections are
retried, a 5xx is recorded and shown to the experts, an accepted message never goes twice."""
from __future__ import annotations

import asyncio
import smtplib

from storage import helpdesk as hd_store
from tests.helpdesk.util import bot_message
from tests.mail.util import body, mail
from tests.util import EXPERT, EXPERT_CHAT, texts


async def _asked(menv) -> tuple[int, int]:
    await menv.bind()
    await menv.deliver(mail("Indicator", "Which indicators count for SDG 15.3.1?", message_id="i1@ministry.example"))
    qid = menv.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    menv.outbox.clear()
    menv.bot.api.clear()
    return qid, hd_store.get_query(menv.db, qid)["expert_message_id"]


async def _reply(menv, card_id: int, text: str):
    return await menv.bot.send(text, user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", reply_to=bot_message(card_id))


def _ledger(menv, ref_prefix: str = "answer:") -> list[dict]:
    return list(menv.db.query("SELECT * FROM deliveries WHERE method = 'email' AND ref LIKE ?", [ref_prefix + "%"]))


async def test_4xx_is_retried_with_backoff_and_sent_once(menv):
    qid, card = await _asked(menv)
    menv.outbox.fail_next("451 4.7.1 Greylisted, try again", "421 4.3.2 Service not available")
    await _reply(menv, card, "Land cover, productivity and SOC.")
    assert len(menv.outbox.to("amina@ministry.example")) == 1
    assert menv.bot.sleeps[:2] == [1.0, 2.0]  # the delivery policy's backoff
    assert [r["status"] for r in _ledger(menv)] == ["sent"]
    assert hd_store.messages(menv.db, qid, ["expert"])[0]["delivery_status"] == "sent"


async def test_a_5xx_is_recorded_and_shown_to_the_experts(menv):
    qid, card = await _asked(menv)
    menv.outbox.fail_next("550 5.1.1 <amina@ministry.example>: Recipient address rejected: User unknown")
    calls = await _reply(menv, card, "Land cover, productivity and SOC.")
    assert not menv.outbox.to("amina@ministry.example")
    row = _ledger(menv)[0]
    assert row["status"] == "failed" and row["error"].startswith("550 5.1.1")
    assert hd_store.messages(menv.db, qid, ["expert"])[0]["delivery_status"] == "failed"
    notices = [x for x in texts(calls, EXPERT_CHAT) if "refused" in x]
    assert len(notices) == 1 and "User unknown" in notices[0]
    assert not any(c.method == "setMessageReaction" for c in calls)
    await menv.channel.tick()
    assert not menv.outbox.to("amina@ministry.example")  # permanent: not tried again


async def test_retries_that_run_out_wait_in_the_ledger_for_the_mail_job(menv):
    qid, card = await _asked(menv)
    menv.outbox.fail_next(*["452 4.3.1 Insufficient system storage"] * 5)
    await _reply(menv, card, "Land cover, productivity and SOC.")
    assert _ledger(menv)[0]["status"] == "queued" and not menv.outbox.to("amina@ministry.example")
    assert hd_store.messages(menv.db, qid, ["expert"])[0]["delivery_status"] == "pending"
    await menv.channel.tick()
    assert not menv.outbox.to("amina@ministry.example")  # not due yet
    menv.bot.clock.advance(minutes=2)
    await menv.channel.tick()
    assert len(menv.outbox.to("amina@ministry.example")) == 1
    assert hd_store.messages(menv.db, qid, ["expert"])[0]["delivery_status"] == "sent"
    menv.bot.clock.advance(minutes=2)
    await menv.channel.tick()
    assert len(menv.outbox.to("amina@ministry.example")) == 1  # accepted: never again


async def test_a_connection_refused_is_retried(menv):
    qid, card = await _asked(menv)
    port = menv.channel.cfg.smtp.port
    menv.channel.sender.cfg = menv.channel.cfg.__class__(**{**menv.channel.cfg.__dict__, "smtp": menv.channel.cfg.smtp.__class__(
        "smtp", "127.0.0.1", 9)})  # nothing listens on port 9
    await _reply(menv, card, "Land cover, productivity and SOC.")
    row = _ledger(menv)[0]
    assert row["status"] == "queued" and "Connection" in row["error"]
    menv.channel.sender.cfg = menv.channel.cfg
    assert menv.channel.cfg.smtp.port == port
    menv.bot.clock.advance(minutes=2)
    await menv.channel.tick()
    assert "productivity" in body(menv.outbox.last("amina@ministry.example"))


async def test_the_smtp_dialogue_refuses_other_domains(menv):
    def dialogue():
        with smtplib.SMTP("127.0.0.1", menv.port, timeout=30) as smtp:
            assert smtp.ehlo()[0] == 250
            smtp.mail("amina@ministry.example")
            return smtp.rcpt("someone@elsewhere.example")

    code, reply = await asyncio.to_thread(dialogue)
    assert code == 550 and b"Relaying denied" in reply
