"""Mail that must never become a query (nor get an answer), unknown senders once a day, the
size limit, HTML and quoted replies, and the files that come with a question."""
from __future__ import annotations

import asyncio
import smtplib
from email import policy as email_policy

import pytest

from bot.mail.config import Endpoint
from bot.mail.parsing import html_to_text, trim_reply
from bot.mail.receiver import MailReceiver
from tests.mail.util import HELPDESK, body, mail
from tests.util import EXPERT_CHAT


def _queries(menv) -> int:
    return menv.db.execute("SELECT count(*) FROM queries").fetchone()[0]


def _fates(menv) -> list[str]:
    return [r[0] for r in menv.db.execute("SELECT fate || ':' || coalesce(detail, '') FROM mail_messages WHERE direction = 'in' ORDER BY id")]


@pytest.mark.parametrize("headers, sender, envelope, skip", [
    ({"Auto-Submitted": "auto-replied"}, "amina@ministry.example", "amina@ministry.example", "auto_reply"),
    ({"X-Autoreply": "yes"}, "amina@ministry.example", "amina@ministry.example", "auto_reply"),
    ({"Precedence": "auto_reply"}, "amina@ministry.example", "amina@ministry.example", "auto_reply"),
    ({"Precedence": "bulk"}, "amina@ministry.example", "amina@ministry.example", "list"),
    ({"Precedence": "list"}, "amina@ministry.example", "amina@ministry.example", "list"),
    ({"List-Id": "<land.lists.example>"}, "amina@ministry.example", "amina@ministry.example", "list"),
    ({}, "MAILER-DAEMON@mx.ministry.example", "", "bounce"),
    ({}, "amina@ministry.example", "", "bounce"),
    ({}, HELPDESK, HELPDESK, "own"),
    ({"X-LDN-Helpdesk": "1"}, "amina@ministry.example", "amina@ministry.example", "own"),
])
async def test_automatic_mail_is_dropped_without_an_answer(menv, headers, sender, envelope, skip):
    await menv.bind()
    menv.outbox.clear()
    subject = "Out of office: back on Monday" if skip == "auto_reply" else "Weekly news"
    await menv.deliver(mail(subject, "I am away until Monday.", sender=sender, headers=headers, message_id=f"auto-{skip}@x"),
                       sender=envelope)
    assert _queries(menv) == 0 and not menv.outbox.messages  # no query, no answer: no loop
    assert _fates(menv)[-1] == f"ignored:{skip}"


async def test_an_out_of_office_subject_alone_is_an_auto_reply(menv):
    await menv.bind()
    menv.outbox.clear()
    await menv.deliver(mail("Automatic reply: [LDN #1] Baseline", "I am out of the office.", message_id="ooo@x"))
    assert _queries(menv) == 0 and not menv.outbox.messages


async def test_a_question_about_absence_or_offices_is_a_question(menv):
    await menv.bind()
    await menv.deliver(mail("Absence of data for the national office", "We lack SOC data.", message_id="abs@ministry.example"))
    assert _queries(menv) == 1


async def test_a_delivery_report_is_a_bounce(menv):
    report = mail("Undelivered Mail Returned to Sender", "The mail system could not deliver.", sender="postmaster@mx.example")
    report.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"')
    await menv.deliver(report, sender="postmaster@mx.example")
    assert _queries(menv) == 0 and not menv.outbox.messages


async def test_an_unknown_sender_is_answered_at_most_once_a_day(menv):
    for n in range(3):
        await menv.deliver(mail("Question", "Can I join?", sender="stranger@else.example", message_id=f"s{n}@else.example"),
                           sender="stranger@else.example")
    answers = menv.outbox.to("stranger@else.example")
    assert _queries(menv) == 0 and len(answers) == 1
    assert "not registered" in body(answers[0]) and answers[0]["Auto-Submitted"] == "auto-replied"
    menv.bot.clock.advance(days=1)
    await menv.deliver(mail("Question", "Again", sender="stranger@else.example", message_id="s9@else.example"),
                       sender="stranger@else.example")
    assert len(menv.outbox.to("stranger@else.example")) == 2


@pytest.mark.parametrize("mail_settings", [{"from": HELPDESK, "visitors": None, "max_message_mb": 1}])
async def test_under_visitors_ask_an_unknown_sender_gets_a_query(menv, mail_settings, monkeypatch):
    menv.channel.policy = menv.channel.policy.__class__(menv.channel.cfg, visitors="ask")
    await menv.deliver(mail("Question", "Can I ask as a consultant?", sender="consultant@else.example", message_id="c1@x"),
                       sender="consultant@else.example")
    assert _queries(menv) == 1
    assert menv.db.execute("SELECT role FROM users WHERE user_id = (SELECT asker_id FROM queries)").fetchone()[0] is None


async def test_a_message_over_the_size_limit_gets_a_clear_answer(menv):
    await menv.bind()
    menv.outbox.clear()
    big = mail("Our data", "Here are our rasters.")
    big.add_attachment(b"\0" * (1200 * 1024), maintype="image", subtype="tiff", filename="ndvi.tif")
    await menv.deliver(big)
    assert _queries(menv) == 0
    answer = menv.outbox.last("amina@ministry.example")
    assert "larger than the helpdesk accepts (1 MB)" in body(answer)


async def test_files_within_the_limits_reach_the_experts_and_the_others_are_named(menv):
    await menv.bind()
    menv.outbox.clear()
    msg = mail("Our baseline", "The report and the raster are attached.", message_id="f1@ministry.example")
    msg.add_attachment(b"%PDF-1.4 report", maintype="application", subtype="pdf", filename="baseline.pdf")
    msg.add_attachment(b"II*\0" + b"\1" * 1000, maintype="image", subtype="tiff", filename="soc.tif")
    msg.add_attachment(b"\2" * (600 * 1024), maintype="image", subtype="tiff", filename="huge.tif")
    msg.add_attachment(b"MZ", maintype="application", subtype="x-msdownload", filename="tool.exe")
    await menv.deliver(msg)
    documents = [c for c in menv.bot.api.calls if c.method == "sendDocument" and c.chat_id == EXPERT_CHAT]
    assert sorted(c.files["document"][0] for c in documents) == ["baseline.pdf", "soc.tif"]
    told = [c.params["text"] for c in menv.bot.api.calls if c.method == "sendMessage" and "not carried over" in c.params.get("text", "")]
    assert len(told) == 2 and any("huge.tif" in x for x in told) and any("tool.exe" in x for x in told)
    assert menv.db.execute("SELECT count(*) FROM mail_files WHERE content IS NOT NULL").fetchone()[0] == 0


async def test_html_mail_becomes_clean_text_and_the_quote_goes(menv):
    await menv.bind()
    html = ("<html><head><style>p{color:red}</style></head><body><p>Dear experts,</p><p>How is <b>SOC</b>&nbsp;measured?</p>"
            "<div class='gmail_quote'>On Monday someone wrote:<blockquote>old text</blockquote></div></body></html>")
    only_html = mail("SOC", "", message_id="h1@ministry.example")
    only_html.set_content(html, subtype="html")  # many mail programs send HTML alone
    await menv.deliver(only_html)
    text = menv.db.execute("SELECT text FROM queries").fetchone()[0]
    assert "How is SOC measured?" in text and "old text" not in text and "color" not in text


def test_quoted_history_and_signatures_are_trimmed():
    assert trim_reply("Thanks!\n\nOn Tue, 3 Dec 2026 at 10:00, Helpdesk <h@x> wrote:\n> old") == "Thanks!"
    assert trim_reply("Merci\n\nLe mar. 3 déc. 2026, Helpdesk a écrit :\n> ancien") == "Merci"
    assert trim_reply("Спасибо\n\n-----Original Message-----\nFrom: h@x") == "Спасибо"
    assert trim_reply("Gracias\n-- \nAna Pérez\nMinisterio") == "Gracias"
    assert trim_reply("Yes\n\nSent from my iPhone") == "Yes"
    assert trim_reply("谢谢\n\n在 2026年12月3日，服务台 写道：\n> 旧") == "谢谢"
    assert html_to_text("<ul><li>one</li><li>two</li></ul>") == "• one\n\n• two"


async def test_nothing_is_acknowledged_before_the_query_is_committed(menv):
    await menv.bind()
    menv.outbox.clear()
    menv.db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON query_events BEGIN SELECT RAISE(ABORT, 'injected'); END")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await menv.deliver(mail("Baseline", "How do we set the baseline?", message_id="atomic@ministry.example"))
    assert refused.value.smtp_code == 451  # the forwarding server keeps the message and tries again
    assert _queries(menv) == 0 and not menv.outbox.messages
    assert menv.db.execute("SELECT count(*) FROM mail_messages WHERE message_id = 'atomic@ministry.example'").fetchone()[0] == 0
    menv.db.execute("DROP TRIGGER boom")
    await menv.deliver(mail("Baseline", "How do we set the baseline?", message_id="atomic@ministry.example"))
    assert _queries(menv) == 1 and len(menv.outbox.messages) == 1


async def test_the_receiver_speaks_lmtp_too(menv):
    lmtp = MailReceiver(menv.channel, Endpoint("lmtp", "127.0.0.1", 0))
    await lmtp.start()
    await menv.bind()

    def over_lmtp():
        with smtplib.LMTP("127.0.0.1", lmtp.port) as client:
            return client.sendmail("amina@ministry.example", [HELPDESK],
                                   mail("By LMTP", "Delivered by the local mail server", message_id="l1@x").as_bytes(policy=email_policy.SMTP))

    try:
        assert await asyncio.to_thread(over_lmtp) == {}
        await menv.channel.settle()
        assert _queries(menv) == 1
    finally:
        await lmtp.close()
