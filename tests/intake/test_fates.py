"""Each private message has one fate (bot/intake.py), through the real Application."""
from __future__ import annotations

from storage import helpdesk as hd_store
from tests.intake.util import buttons_of
from tests.util import EXPERT, EXPERT_CHAT, FOCAL_FRA_SPEAKER, FOCAL_KEN, GUEST, one_text, texts

FAQ_QUESTION = "What is land degradation neutrality?"
OFF_TOPIC = "bitcoin price today"


async def ask(bot, text: str, user_id: int = FOCAL_KEN, **kwargs) -> int:
    await bot.send(f"/ask {text}", user_id=user_id, **kwargs)
    return bot.last_query_id()


async def test_plain_text_after_ask_is_a_question_not_a_follow_up(bot):
    qid = await ask(bot, "How do we reconcile the SOC defaults with our soil map?")
    calls = await bot.send(FAQ_QUESTION)
    assert "Land Degradation Neutrality" in one_text(calls, FOCAL_KEN) or "land degradation neutrality" in one_text(calls, FOCAL_KEN).lower()
    assert bot.asker_texts(qid) == ["How do we reconcile the SOC defaults with our soil map?"]
    assert not [c for c in calls if c.chat_id == EXPERT_CHAT]  # nothing reached the experts
    # the answer offers to add the message to the open query instead
    labels = dict(buttons_of(calls, FOCAL_KEN))
    assert f"➕ Add to query #{qid} instead" in labels
    await bot.press(labels[f"➕ Add to query #{qid} instead"])
    assert FAQ_QUESTION in bot.asker_texts(qid)


async def test_a_reply_to_the_acknowledgement_is_a_follow_up_acknowledged_after_commit(bot):
    qid = await ask(bot, "Question about trends.earth")
    ack = bot.query(qid)["ack_message_id"]
    calls = await bot.reply_to(ack, OFF_TOPIC)  # even what looks like a new question: the reply decides
    assert f"Added to query #{qid}" in one_text(calls, FOCAL_KEN)
    assert bot.asker_texts(qid)[-1] == OFF_TOPIC
    assert [c for c in calls if c.method == "copyMessage" and c.chat_id == EXPERT_CHAT]


async def test_nothing_is_acknowledged_when_the_follow_up_is_not_committed(bot):
    qid = await ask(bot, "Question about the baseline")
    ack = bot.query(qid)["ack_message_id"]
    bot.db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON query_events BEGIN SELECT RAISE(ABORT, 'injected'); END")
    calls = await bot.reply_to(ack, "a detail that will not be stored")
    bot.db.execute("DROP TRIGGER boom")
    assert "Added to query" not in "".join(texts(calls, FOCAL_KEN))
    assert "a detail that will not be stored" not in bot.asker_texts(qid)  # its first write was rolled back too
    assert texts(calls, FOCAL_KEN)  # the person was told something went wrong


async def test_relayed_answers_and_nudges_say_reply_to_answer_and_replies_to_them_follow_up(bot):
    a = await ask(bot, "Question A about productivity")
    b = await ask(bot, "Question B about land cover")
    card = bot.query(a)["expert_message_id"]
    calls = await bot.env.send("Use the default layers first.", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                               reply_to={"message_id": card, "date": 0, "chat": {"id": EXPERT_CHAT, "type": "supergroup"},
                                         "from": {"id": 1, "is_bot": True, "first_name": "LDN TSP"}, "text": "…"})
    copy = [c for c in calls if c.method == "copyMessage" and c.chat_id == FOCAL_KEN][0]
    assert [b["text"] for b in copy.buttons] == ["↩️ Reply to this message to answer"]
    answer = hd_store.messages(bot.db, a, ["answer"])[0]["message_id"]
    await bot.reply_to(answer, "Thanks, and for trends?")
    assert "Thanks, and for trends?" in bot.asker_texts(a) and "Thanks, and for trends?" not in bot.asker_texts(b)
    # the button does the same for those who do not use Telegram's replies
    calls = await bot.press(copy.buttons[0]["callback_data"])
    assert f"query #{a}" in one_text(calls, FOCAL_KEN)
    await bot.send("Here is one more detail")
    assert bot.asker_texts(a)[-1] == "Here is one more detail"
    # the pending notice asks for an answer in the asker's language, and a reply to it follows up
    fr = await ask(bot, "Comment fixer la ligne de base ?", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    await bot.env.send("/language", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    await bot.press("v1:lang:fr", user_id=FOCAL_FRA_SPEAKER)
    await bot.env.send("Which map do you use?", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                       reply_to={"message_id": bot.query(fr)["expert_message_id"], "date": 0, "text": "…",
                                 "chat": {"id": EXPERT_CHAT, "type": "supergroup"}, "from": {"id": 1, "is_bot": True, "first_name": "B"}})
    q = bot.query(fr)
    calls = await bot.press(f"v1:hd:pd:{fr}:o", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                            message_id=q["expert_message_id"])
    notice = [c for c in calls if c.chat_id == FOCAL_FRA_SPEAKER][-1]
    assert "Répondez à ce message pour répondre" in notice.text
    await bot.reply_to(notice.message_id, "Voici notre carte.", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    assert bot.asker_texts(fr)[-1] == "Voici notre carte." and bot.query(fr)["state"] == "open"


async def test_abstention_with_open_queries_offers_add_new_and_cancel_newest_first_at_most_three(bot):
    ids = [await ask(bot, f"Question number {i} about the baseline period") for i in range(4)]
    calls = await bot.send(OFF_TOPIC)
    labels = [label for label, _ in buttons_of(calls, FOCAL_KEN)]
    assert labels == [f"➕ Add to query #{n}" for n in reversed(ids[1:])] + ["🆕 New question to the experts", "✖ Cancel"]
    data = dict(buttons_of(calls, FOCAL_KEN))
    before = bot.last_query_id()
    calls = await bot.press(data["🆕 New question to the experts"])
    assert bot.last_query_id() == before + 1 and bot.query(before + 1)["text"] == OFF_TOPIC
    assert "logged" in one_text(calls, FOCAL_KEN)
    # cancel drops the offer: its buttons are spent
    calls = await bot.send(OFF_TOPIC)
    data = dict(buttons_of(calls, FOCAL_KEN))
    await bot.press(data["✖ Cancel"])
    calls = await bot.press(data[f"➕ Add to query #{ids[-1]}"])
    assert "filed already" in calls[0].params["text"]
    assert bot.asker_texts(ids[-1]) == ["Question number 3 about the baseline period"]


async def test_without_open_query_the_abstention_offers_an_expert_and_the_button_files_that_message(bot):
    calls = await bot.send(OFF_TOPIC)
    data = dict(buttons_of(calls, FOCAL_KEN))
    assert "🙋 Ask an expert" in data and not any(label.startswith("➕") for label in data)
    await bot.restart()  # the offer is in the database: the button still works after a restart
    calls = await bot.press(data["🙋 Ask an expert"])
    qid = bot.last_query_id()
    assert qid and bot.query(qid)["text"] == OFF_TOPIC and f"#{qid}" in one_text(calls, FOCAL_KEN)


async def test_empty_or_blank_text_gets_a_short_answer_and_nothing_is_stored(bot):
    await bot.send("/ask")
    for blank in ("   ", "\n\t", "\u00a0", "\u200b\u200d"):
        calls = await bot.send(blank)
        assert one_text(calls, FOCAL_KEN) == bot.env.services.t("en", "error.empty")
    assert bot.last_query_id() is None
    assert bot.db.execute("SELECT count(*) FROM query_messages WHERE trim(coalesce(text, '')) = '' AND role = 'asker'").fetchone()[0] == 0
    # the prompt is still waiting: the next real text is the question
    await bot.send("How are the three indicators combined?")
    assert bot.query(bot.last_query_id())["text"] == "How are the three indicators combined?"


async def test_ask_language_then_a_question_gets_its_fate_and_no_empty_row(bot):
    """The reported bug: /ask with no text, /language, a language button, then a question."""
    calls = await bot.send("/ask")
    assert "Type your question" in one_text(calls, FOCAL_KEN)
    calls = await bot.send("/language")
    assert "prompt was dropped" in one_text(calls, FOCAL_KEN) and "language" in one_text(calls, FOCAL_KEN).lower()
    await bot.press("v1:lang:fr")
    calls = await bot.send("Qu'est-ce que la neutralité en matière de dégradation des terres ?")
    assert one_text(calls, FOCAL_KEN)
    assert bot.last_query_id() is None  # the prompt was dropped: a question for the FAQ
    assert bot.db.execute("SELECT count(*) FROM query_messages").fetchone()[0] == 0


async def test_an_awaited_input_survives_a_restart_and_cancel_or_a_command_drops_it(bot):
    await bot.send("/ask")
    assert bot.db.execute("SELECT name FROM awaited_inputs WHERE user_id = ?", [FOCAL_KEN]).fetchone()[0] == "hd_question"
    await bot.restart()
    await bot.send("Which land cover classes does the default data use?")
    qid = bot.last_query_id()
    assert qid and bot.query(qid)["text"] == "Which land cover classes does the default data use?"
    assert bot.db.execute("SELECT count(*) FROM awaited_inputs").fetchone()[0] == 0
    # /cancel
    await bot.send("/ask")
    calls = await bot.send("/cancel")
    assert "Cancelled" in one_text(calls, FOCAL_KEN) or "cancel" in one_text(calls, FOCAL_KEN).lower()
    assert bot.db.execute("SELECT count(*) FROM awaited_inputs").fetchone()[0] == 0
    assert "Nothing to cancel" in one_text(await bot.send("/cancel"), FOCAL_KEN)
    # any other command: dropped, said so, and the command runs
    await bot.send("/ask")
    await bot.restart()
    calls = await bot.send("/whoami")
    text = one_text(calls, FOCAL_KEN)
    assert "prompt was dropped" in text and str(FOCAL_KEN) in text
    await bot.send(OFF_TOPIC)
    assert bot.last_query_id() == qid


async def test_a_reply_to_someone_elses_query_message_is_not_a_follow_up_of_it(bot):
    qid = await ask(bot, "Kenya's question", user_id=FOCAL_KEN)
    ack = bot.query(qid)["ack_message_id"]
    await bot.reply_to(ack, "not mine, but I reply to it", user_id=FOCAL_FRA_SPEAKER)
    assert "not mine, but I reply to it" not in bot.asker_texts(qid)


async def test_edits_of_a_query_message_update_it_and_other_edits_are_ignored(bot):
    await bot.send("/ask How do we fill in the SO1-1 table?")
    qid = bot.last_query_id()
    asked = hd_store.messages(bot.db, qid, ["asker"])[0]
    # the question itself, edited: the query's text follows, the experts see the edit
    calls = await bot.env.process(bot.env.updates.edited("/ask How do we fill in the SO1-2 table?", user_id=FOCAL_KEN,
                                                         message_id=asked["message_id"]))
    assert bot.query(qid)["text"] == "How do we fill in the SO1-2 table?"
    assert "SO1-2" in one_text(calls, EXPERT_CHAT) and not texts(calls, FOCAL_KEN)
    # a follow-up, edited: stored, an event row
    await bot.reply_to(bot.query(qid)["ack_message_id"], "Our first draft is attached.")
    detail = hd_store.messages(bot.db, qid, ["asker"])[-1]
    calls = await bot.env.process(bot.env.updates.edited("Our second draft is attached.", user_id=FOCAL_KEN,
                                                         message_id=detail["message_id"]))
    assert bot.asker_texts(qid)[-1] == "Our second draft is attached."
    assert bot.events(qid).count("edited") == 2
    assert "Our second draft is attached." in one_text(calls, EXPERT_CHAT)
    # an edit of a message that is no query's: nothing happens, nothing is said
    calls = await bot.env.process(bot.env.updates.edited("just an FAQ question, edited", user_id=FOCAL_KEN))
    assert not calls


async def test_visitors_register_are_never_offered_the_helpdesk(bot):
    help_text = one_text(await bot.send("/help", user_id=GUEST), GUEST)
    assert "/ask" not in help_text and "/myqueries" not in help_text and "invitation" in help_text
    focal_help = one_text(await bot.send("/help"), FOCAL_KEN)
    assert "/ask" in focal_help
    calls = await bot.send(OFF_TOPIC, user_id=GUEST)
    assert not [d for _, d in buttons_of(calls, GUEST) if d.startswith("v1:hd:")]
    assert "invitation link" in one_text(calls, GUEST)
    assert "invitation link" in one_text(await bot.send("/ask Can you check our report?", user_id=GUEST), GUEST)
    assert bot.last_query_id() is None
    # the menus: no /ask in the visitors' one, a full one per focal point
    await bot.restart()
    menus = [c for c in bot.api.calls if c.method == "setMyCommands"]
    def names(call):
        return [c["command"] for c in call.params["commands"]]

    everyone = [c for c in menus if c.params["scope"]["type"] == "all_private_chats"]
    assert len(everyone) >= 6 and all("ask" not in names(c) and "myqueries" not in names(c) for c in everyone)
    mine = [c for c in menus if c.params["scope"].get("chat_id") == FOCAL_KEN]
    assert mine and "ask" in names(mine[0]) and "myqueries" in names(mine[0])


async def test_visitors_ask_their_query_is_unverified_and_everyone_has_a_daily_limit(visitors_ask):
    bot = visitors_ask
    calls = await bot.send("/ask Can you check our national report?", user_id=GUEST)
    qid = bot.last_query_id()
    assert qid and bot.query(qid)["unverified"] == 1 and bot.query(qid)["country"] is None
    assert "Unverified" in one_text(calls, EXPERT_CHAT)
    assert "/ask" in one_text(await bot.send("/help", user_id=GUEST), GUEST)
    # the limit (2 here), in the asker's language
    await bot.send("/ask Une deuxième question ?", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    await bot.send("/ask Une troisième question ?", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    count = bot.last_query_id()
    calls = await bot.send("/ask Une quatrième question ?", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    assert bot.last_query_id() == count and "24 heures" in one_text(calls, FOCAL_FRA_SPEAKER)
    bot.clock.advance(hours=25)
    await bot.send("/ask Une quatrième question ?", user_id=FOCAL_FRA_SPEAKER, language_code="fr")
    assert bot.last_query_id() == count + 1


async def test_block_by_query_number_with_an_event_row_and_one_short_answer(bot):
    from tests.util import SECRETARIAT

    qid = await ask(bot, "A spam question")
    assert "not allowed" in one_text(await bot.send(f"/block {qid}", user_id=EXPERT), EXPERT).lower()
    calls = await bot.send(f"/block {qid}", user_id=SECRETARIAT)
    assert "blocked" in one_text(calls, SECRETARIAT)
    assert "asker_blocked" in bot.events(qid)
    assert bot.db.execute("SELECT action, how, query_id FROM block_events WHERE user_id = ?", [FOCAL_KEN]).fetchall() == [("block", "chat", qid)]
    for text in (FAQ_QUESTION, "/ask another one", OFF_TOPIC):
        calls = await bot.send(text)
        sent = texts(calls, FOCAL_KEN)
        assert len(sent) == 1 and "not available to you" in sent[0]
    assert bot.last_query_id() == qid
    assert "already" in one_text(await bot.send(f"/block {qid}", user_id=SECRETARIAT), SECRETARIAT)
    assert "no query #999" in one_text(await bot.send("/block 999", user_id=SECRETARIAT), SECRETARIAT).lower()
