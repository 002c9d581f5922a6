"""LMTP (RFC 2033): after DATA the receiver answers once per accepted recipient, in RCPT order,
and a message to two helpdesk recipients is taken once, as the query its addresses point to."""
from __future__ import annotations

import asyncio
import smtplib
from email import policy as email_policy

import pytest

from bot.mail.config import Endpoint
from bot.mail.receiver import MailReceiver
from storage import helpdesk as hd_store
from tests.mail.util import HELPDESK, mail


@pytest.fixture
async def lmtp(menv):
    receiver = MailReceiver(menv.channel, Endpoint("lmtp", "127.0.0.1", 0))
    await receiver.start()
    yield receiver
    await receiver.close()


def _lmtp_transaction(port: int, sender: str, recipients: list[str], data: bytes) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """One LMTP transaction with smtplib.LMTP: the RCPT replies, then every reply to DATA (one
    per accepted recipient; smtplib's ``data`` reads the first, ``getreply`` the others)."""
    with smtplib.LMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo_or_helo_if_needed()
        client.mail(sender)
        rcpt = [client.rcpt(r) for r in recipients]
        accepted = sum(code == 250 for code, _ in rcpt)
        replies = [client.data(data)]
        replies += [client.getreply() for _ in range(accepted - 1)]
        client.noop()  # the dialogue is in step again: nothing was left unread
        return rcpt, replies


async def test_one_reply_per_recipient_and_one_followup_for_two_recipients(menv, lmtp):
    await menv.bind()
    await menv.deliver(mail("Workshop dates", "When is the Asia workshop?", message_id="lm1@ministry.example"))
    qid = menv.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    reply_address = str(menv.outbox.last("amina@ministry.example")["Reply-To"])

    data = mail("another subject", "And the one for Africa?", to=f"{HELPDESK}, {reply_address}",
                message_id="lm2@ministry.example").as_bytes(policy=email_policy.SMTP)
    rcpt, replies = await asyncio.to_thread(_lmtp_transaction, lmtp.port, "amina@ministry.example",
                                            [HELPDESK, "someone@elsewhere.example", reply_address], data)
    await menv.channel.settle()
    assert [code for code, _ in rcpt] == [250, 550, 250]  # the foreign recipient is refused at RCPT
    assert [code for code, _ in replies] == [250, 250]
    assert HELPDESK.encode() in replies[0][1] and reply_address.encode() in replies[1][1]
    assert b"followup" in replies[0][1]
    assert menv.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 1  # taken once, as a follow-up of #qid
    assert sum("Africa" in (m["text"] or "") for m in hd_store.messages(menv.db, qid, ["asker"])) == 1


async def test_a_failed_commit_is_451_for_every_recipient(menv, lmtp):
    await menv.bind()
    menv.db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON query_events BEGIN SELECT RAISE(ABORT, 'injected'); END")
    data = mail("Baseline", "How do we set the baseline?", message_id="lm3@ministry.example").as_bytes(policy=email_policy.SMTP)
    second = HELPDESK.replace("@", "+info@")
    _rcpt, replies = await asyncio.to_thread(_lmtp_transaction, lmtp.port, "amina@ministry.example", [HELPDESK, second], data)
    menv.db.execute("DROP TRIGGER boom")
    assert [code for code, _ in replies] == [451, 451]
    assert menv.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 0
