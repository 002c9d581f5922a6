"""The whole path, against real servers: an invitation by e-mail, confirmed by replying; a
question by e-mail becomes a query (acknowledged with FAQ answers), its card in the experts'
chat marked ✉️; an expert's reply goes out as a threaded e-mail; the asker's reply is a
follow-up of the same query; resolving it sends the rating links; a rating closes it."""
from __future__ import annotations

from storage import helpdesk as hd_store
from storage import users
from tests.helpdesk.util import bot_message
from tests.mail.util import HELPDESK, body, mail
from tests.util import EXPERT, EXPERT_CHAT, texts


async def test_email_in_query_card_answer_followup_resolve_rating(menv):
    env, outbox = menv.bot, menv.outbox
    person = await menv.bind("amina@ministry.example", "KEN", "en")
    confirmed = outbox.last("amina@ministry.example")
    assert "focal point of Kenya" in body(confirmed)
    row = users.get_user(env.db, person)
    assert (row["role"], row["country"], row["active"]) == ("focal_point", "KEN", 0)

    outbox.clear()
    question = mail("Baseline for land productivity", "How do we set the baseline for land productivity dynamics?\n\n-- \nAmina Njeri\nMinistry",
                    message_id="q1@ministry.example")
    await menv.deliver(question)
    qid = env.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    query = hd_store.get_query(env.db, qid)
    assert (query["source"], query["asker_id"], query["country"]) == ("email", person, "KEN")
    assert "Ministry" not in query["text"] and query["text"].startswith("Baseline for land productivity")

    ack = outbox.last("amina@ministry.example")
    assert ack["Subject"] == f"[LDN #{qid}] Baseline for land productivity"
    assert ack["In-Reply-To"] == "<q1@ministry.example>" and ack["Auto-Submitted"] == "auto-replied"
    assert f"query #{qid}" in body(ack) and "FAQ" in body(ack) and body(ack).count("\n• ") >= 1
    assert ack["Reply-To"].startswith(f"helpdesk+q{qid}-")

    card = [c for c in env.api.calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    assert len(card) == 1 and card[0].params["text"].startswith("✉️") and f"#{qid}" in card[0].params["text"]

    outbox.clear()
    card_id = hd_store.get_query(env.db, qid)["expert_message_id"]
    calls = await env.send("Use the Trends.Earth default baseline period 2000-2015.", user_id=EXPERT, chat_id=EXPERT_CHAT,
                           chat_type="supergroup", reply_to=bot_message(card_id))
    answer = outbox.last("amina@ministry.example")
    assert answer["Subject"] == f"Re: [LDN #{qid}] Baseline for land productivity"
    assert answer["In-Reply-To"] == "<q1@ministry.example>"
    assert "<q1@ministry.example>" in answer["References"] and ack["Message-ID"] in answer["References"]
    assert "Auto-Submitted" not in answer and "2000-2015" in body(answer)
    assert any(c.method == "setMessageReaction" for c in calls)  # the experts see it went
    assert hd_store.messages(env.db, qid, ["expert"])[0]["delivery_status"] == "sent"
    assert not [c for c in env.api.calls if c.method == "copyMessage"]  # nothing tried on Telegram

    env.api.clear()
    reply = mail("Re: " + answer["Subject"], "Thank you. Which land cover dataset should we use?\n\n"
                 "On Tue, 3 Dec 2026, LDN TSP helpdesk wrote:\n> Use the Trends.Earth default",
                 message_id="q2@ministry.example", in_reply_to=answer["Message-ID"], references=answer["References"])
    await menv.deliver(reply)
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 1
    followups = [m for m in hd_store.messages(env.db, qid, ["asker"]) if m["text"] and "land cover" in m["text"]]
    assert len(followups) == 1 and "Trends.Earth default" not in followups[0]["text"]
    assert any("land cover dataset" in x and "✉️" in x for x in texts(env.api.calls, EXPERT_CHAT))

    outbox.clear()
    await env.press(f"v1:hd:rs:{qid}:o", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", message_id=card_id)
    assert hd_store.get_query(env.db, qid)["state"] == "resolved"
    rate = outbox.last("amina@ministry.example")
    assert rate["Subject"] == f"[LDN #{qid}] Baseline for land productivity"
    assert f"mailto:helpdesk+q{qid}-" in body(rate) and "rating%205" in body(rate)

    outbox.clear()
    await menv.deliver(mail(f"[LDN #{qid}] rating 5", "", message_id="q3@ministry.example",
                            to=rate["Reply-To"]), rcpt=str(rate["Reply-To"]))
    assert hd_store.get_query(env.db, qid)["state"] == "closed"
    assert hd_store.get_rating(env.db, qid)["score"] == 5
    assert "Thank you for rating" in body(outbox.last("amina@ministry.example"))


async def test_a_reply_to_a_resolved_query_reopens_it(menv):
    env = menv.bot
    await menv.bind("amina@ministry.example")
    await menv.deliver(mail("SOC data", "Where do SOC data come from?", message_id="a1@ministry.example"))
    qid = env.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    card_id = hd_store.get_query(env.db, qid)["expert_message_id"]
    await env.press(f"v1:hd:rs:{qid}:n", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup", message_id=card_id)
    assert hd_store.get_query(env.db, qid)["state"] == "resolved"
    # no In-Reply-To: matched by the [LDN #N] tag and the sender
    await menv.deliver(mail(f"Re: [LDN #{qid}] SOC data", "It is not solved yet, the link is broken.", message_id="a2@ministry.example"))
    assert hd_store.get_query(env.db, qid)["state"] == "new"
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 1
    # the same tag from another address is not this query's follow-up
    await menv.bind("other@ministry.example", name="Other")
    await menv.deliver(mail(f"Re: [LDN #{qid}] SOC data", "Me too", sender="other@ministry.example", message_id="a3@ministry.example"),
                       sender="other@ministry.example")
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 2


async def test_the_per_query_reply_address_routes_a_reply_without_threading_headers(menv):
    env, outbox = menv.bot, menv.outbox
    await menv.bind()
    await menv.deliver(mail("Workshop dates", "When is the Asia workshop?", message_id="w1@ministry.example"))
    qid = env.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    address = outbox.last("amina@ministry.example")["Reply-To"]
    await menv.deliver(mail("another subject", "And for Africa?", to=address, message_id="w2@ministry.example"), rcpt=address)
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 1
    assert any("Africa" in (m["text"] or "") for m in hd_store.messages(env.db, qid, ["asker"]))
    forged = address.replace(address.split("-", 1)[1].split("@")[0], "wrongtoken")
    await menv.deliver(mail("another subject", "Forged?", to=forged, message_id="w3@ministry.example"), rcpt=forged)
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 2


async def test_the_same_message_twice_is_one_query(menv):
    env = menv.bot
    await menv.bind()
    msg = mail("Twice", "Delivered twice by the forwarding server", message_id="twice@ministry.example")
    await menv.deliver(msg)
    await menv.deliver(msg)
    assert env.db.execute("SELECT count(*) FROM queries").fetchone()[0] == 1
    assert HELPDESK


async def test_the_acknowledgement_is_in_the_persons_language(menv):
    await menv.bind("awa@environnement.example", "SEN", "fr", name="Awa Diop")
    menv.outbox.clear()
    await menv.deliver(mail("Ligne de base", "Comment fixer la ligne de base de la productivité des terres ?",
                            sender="Awa Diop <awa@environnement.example>", message_id="fr1@environnement.example"),
                       sender="awa@environnement.example")
    ack = menv.outbox.last("awa@environnement.example")
    qid = menv.db.execute("SELECT max(id) FROM queries").fetchone()[0]
    assert ack["Subject"] == f"[LDN #{qid}] Ligne de base"
    assert f"enregistrée sous le numéro {qid}" in body(ack) and "répondez à ce message" in body(ack)
