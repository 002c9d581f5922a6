"""Experts answer in the asker's language, through the real Application: saved replies and FAQ
entries sent from the experts' chat reach the asker in their language, recorded as the expert's
answer and relayed through the delivery ledger."""
from __future__ import annotations

import html

from storage import helpdesk as store
from tests.helpdesk.util import Helpdesk, bot_message
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_FRA_SPEAKER, FOCAL_KEN, GUEST, one_text

SAVED = "/saved add portal-login\nen: Log in to PRAIS with your focal point account.\nfr: Connectez-vous à PRAIS avec le compte\nde votre point focal.\nes: Inicie sesión en PRAIS con la cuenta de su punto focal."


async def expert_says(env, text, *, to=None, user_id=EXPERT):
    extra = {"reply_to": bot_message(to)} if to else {}
    return await env.send(text, user_id=user_id, chat_id=EXPERT_CHAT, chat_type="supergroup", **extra)


async def asked(env, user_id, lang, question):
    await env.make_focal_point(user_id, "SEN" if user_id == FOCAL_FRA_SPEAKER else "KEN")
    await env.press(f"v1:lang:{lang}", user_id=user_id)
    hd = Helpdesk(env)
    await hd.ask(question, user_id=user_id)
    return hd, hd.last_query_id()


def copies_to(calls, chat_id):
    return [c for c in calls if c.method == "copyMessage" and c.chat_id == chat_id]


async def test_saved_reply_goes_in_the_askers_language_as_the_experts_answer(env):
    hd, qid = await asked(env, FOCAL_FRA_SPEAKER, "fr", "Comment se connecter au portail de rapport ?")
    assert "💾" in one_text(await expert_says(env, SAVED))
    listing = one_text(await expert_says(env, "/saved"))
    assert "portal-login" in listing and "en, es, fr" in listing
    calls = await expert_says(env, "/saved portal-login", to=hd.query(qid)["expert_message_id"])
    posted = [c for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    assert posted and "Connectez-vous à PRAIS avec le compte\nde votre point focal." in html.unescape(posted[0].text)
    (copy,) = copies_to(calls, FOCAL_FRA_SPEAKER)  # relayed like any expert's reply
    assert copy.params["from_chat_id"] == EXPERT_CHAT
    query = hd.query(qid)
    assert query["state"] == "open" and query["assignee_id"] == EXPERT and query["first_response_at"]
    replies = [m for m in store.messages(env.db, qid, ["expert"])]
    assert replies and replies[-1]["author_id"] == EXPERT and replies[-1]["delivery_status"] == "sent"
    assert any(e["kind"] == "answer_in_language" and e["detail"] == "saved:portal-login" for e in hd.events(qid))
    ledger = env.db.execute("SELECT status, promise FROM deliveries WHERE kind = 'answer'").fetchall()
    assert ledger == [("sent", "at_least_once")]
    # the same update again (a redelivery) sends nothing twice
    again = await expert_says(env, "/saved portal-login", to=hd.query(qid)["expert_message_id"])
    assert len(copies_to(again, FOCAL_FRA_SPEAKER)) <= 1


async def test_a_missing_language_falls_back_to_english_with_a_note_to_the_expert(env):
    await expert_says(env, SAVED)
    hd, qid = await asked(env, FOCAL_KEN, "ru", "Как войти в портал отчётности?")
    calls = await expert_says(env, "/saved portal-login", to=hd.query(qid)["expert_message_id"])
    texts = [html.unescape(c.text) for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    assert any("Log in to PRAIS with your focal point account." in t for t in texts)
    assert any(f"#{qid}" in t and "English" in t and "/saved add portal-login" in t for t in texts)
    assert copies_to(calls, FOCAL_KEN)
    assert "no saved reply" in one_text(await expert_says(env, "/saved nothing", to=hd.query(qid)["expert_message_id"]))


async def test_bad_saved_replies_get_a_clear_answer(env):
    assert "English text" in one_text(await expert_says(env, "/saved add x\nfr: seulement en français"))
    assert "lower-case" in one_text(await expert_says(env, "/saved add Bad Name!\nen: hi"))
    assert "line like" in one_text(await expert_says(env, "/saved add x\nno language here"))
    assert "thread" in one_text(await expert_says(env, "/saved portal-login"))
    assert "experts" in one_text(await env.send("/saved", user_id=GUEST))


async def test_answer_with_an_faq_entry_in_the_askers_language(env):
    hd, qid = await asked(env, FOCAL_FRA_SPEAKER, "fr", "Quel atelier régional pour mon pays ?")
    card = [c for c in env.api.calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT][-1]
    assert f"v1:hd:af:{qid}:n" in [b.get("callback_data") for b in card.buttons]
    calls = await hd.press_card(qid, "af")
    offer = [c for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT][-1]
    choices = [b["callback_data"] for b in offer.buttons]
    assert all(d.startswith(f"v1:hd:sf:{qid}:") for d in choices)
    # other words, in the thread
    calls = await expert_says(env, "/saved faq which workshop is my country in", to=hd.query(qid)["expert_message_id"])
    offer = [c for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT][-1]
    assert f"v1:hd:sf:{qid}:my-workshop" in [b["callback_data"] for b in offer.buttons]
    calls = await env.press(f"v1:hd:sf:{qid}:my-workshop", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                            message_id=77)
    posted = [html.unescape(c.text) for c in calls if c.method == "sendMessage" and c.chat_id == EXPERT_CHAT]
    # French, and resolved for the asker: Senegal's own workshop
    assert posted and "Sénégal a participé au projet pilote" in posted[0] and "À quel atelier" in posted[0]
    assert copies_to(calls, FOCAL_FRA_SPEAKER)
    assert any(e["kind"] == "answer_in_language" and e["detail"] == "faq:my-workshop" for e in hd.events(qid))
    assert hd.query(qid)["state"] == "open"


async def test_only_experts_may_send_entries(env):
    hd, qid = await asked(env, FOCAL_KEN, "en", "Which workshop for Kenya?")
    calls = await env.press(f"v1:hd:sf:{qid}:my-workshop", user_id=FOCAL_KEN, chat_id=EXPERT_CHAT, chat_type="supergroup")
    assert not copies_to(calls, FOCAL_KEN)
    assert not [m for m in store.messages(env.db, qid, ["expert"])]
