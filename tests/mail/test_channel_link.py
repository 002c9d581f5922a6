"""Every e-mail to a bound person says how to change where reminders go (/channels, or the
person's unsubscribe address): the confirmation, acknowledgements, answers and notices too."""
from __future__ import annotations

from storage import helpdesk as hd_store
from tests.helpdesk.util import bot_message
from tests.mail.util import body, mail
from tests.util import EXPERT, EXPERT_CHAT


def _address(menv, address: str) -> str:
    token = menv.db.execute("SELECT unsubscribe_token FROM mail_people WHERE address = ?", [address]).fetchone()[0]
    return f"helpdesk+u{token}@ldn.example.org"


async def test_confirmation_ack_answer_and_notice_carry_the_channel_link(menv):
    await menv.bind()
    unsubscribe = _address(menv, "amina@ministry.example")
    confirmed = menv.outbox.last("amina@ministry.example")
    await menv.deliver(mail("SOC data", "Where do the SOC data come from?", message_id="c1@ministry.example"))
    ack = menv.outbox.last("amina@ministry.example")
    qid = menv.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    card_id = hd_store.get_query(menv.db, qid)["expert_message_id"]
    await menv.bot.send("From SoilGrids 250 m.", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", reply_to=bot_message(card_id))
    answer = menv.outbox.last("amina@ministry.example")
    await menv.bot.press(f"v1:hd:rs:{qid}:o", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", message_id=card_id)
    rate = menv.outbox.last("amina@ministry.example")
    for msg in (confirmed, ack, answer, rate):
        text = body(msg).replace("\r\n", "\n")
        assert "/channels" in text and unsubscribe in text, (msg["Subject"], text)
        assert text.count("\n-- \n") == 1  # one signature block, the link at its end
    assert "From SoilGrids 250 m." in body(answer)


async def test_the_channel_link_is_in_the_persons_language(menv):
    await menv.bind("awa@environnement.example", "SEN", "fr", name="Awa Diop")
    await menv.deliver(mail("Ligne de base", "Comment fixer la ligne de base ?", sender="Awa Diop <awa@environnement.example>",
                            message_id="fr2@environnement.example"), sender="awa@environnement.example")
    text = body(menv.outbox.last("awa@environnement.example"))
    assert "envoyez /channels au bot dans Telegram" in text and _address(menv, "awa@environnement.example") in text
