"""Nothing is dropped: random conversations (texts, replies, commands, button presses, documents,
experts' answers and restarts) through the real Application, checked after every step:

* every incoming message got a reply in its chat (a button press: an answer to it, or a message);
* no stored message of an asker is empty (nor a query, nor an offer without a file);
* no message lands on a query it was not meant for: only a reply to one of that query's messages,
  a press of "➕ Add to query #N" about it, the awaited message for N, or the query it created.
"""
from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import config_from_text
from bot.clock import FakeClock
from storage import helpdesk as hd_store
from tests.intake.util import IntakeBot
from tests.util import CONFIG_TEXT, EXPERT, EXPERT_CHAT, FOCAL_FRA_SPEAKER, FOCAL_KEN, GUEST

#: examples per run: each is a fresh database and up to 14 steps (about 0.5 s each on the 2-core machine)
EXAMPLES = 30
USERS = (FOCAL_KEN, FOCAL_FRA_SPEAKER, GUEST)
TEXTS = ("What is land degradation neutrality?", "bitcoin price today", "How do we set the LDN baseline?",
         "Comment fixer la ligne de base ?", "Thanks, one more detail", "   ", "ok", "\u00a0\n")
COMMANDS = ("/ask", "/ask How do we combine the three indicators?", "/cancel", "/language", "/help", "/myqueries",
            "/whoami", "/faq baseline", "/start")

user = st.sampled_from(USERS)
pick = st.integers(min_value=0, max_value=50)
step = st.one_of(
    st.tuples(st.just("text"), user, st.sampled_from(TEXTS)),
    st.tuples(st.just("reply"), user, st.sampled_from(TEXTS), pick),
    st.tuples(st.just("command"), user, st.sampled_from(COMMANDS)),
    st.tuples(st.just("press"), user, pick),
    st.tuples(st.just("document"), user, st.sampled_from(("", "our soil map", "  ")), st.booleans(), pick),
    st.tuples(st.just("expert"), pick),
    st.tuples(st.just("restart")),
)


@dataclass
class Model:
    """What the test expects: which queries each of the person's messages may go to."""

    allowed: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    awaiting_for: dict[int, int] = field(default_factory=dict)  # user -> query after "↩️ Reply" was pressed
    bot_messages: dict[int, list[tuple[int, list[str]]]] = field(default_factory=dict)  # user -> (message id, buttons)
    steps: int = 0


def _allowed_by_reply(bot: IntakeBot, user_id: int, reply_to: int | None) -> set[int]:
    if reply_to is None:
        return set()
    routed = hd_store.route(bot.db, user_id, reply_to)
    if routed is None:
        return set()
    query = hd_store.get_query(bot.db, routed["query_id"])
    return {query["id"]} if query and query["asker_id"] == user_id else set()


def _note_sent(model: Model, calls) -> None:
    for call in calls:
        if call.chat_id in USERS and call.message_id:
            data = [b.get("callback_data") for b in call.buttons if b.get("callback_data")]
            model.bot_messages.setdefault(call.chat_id, []).append((int(call.message_id), data))


async def _message(bot: IntakeBot, model: Model, user_id: int, text, *, reply_to: int | None = None, document: bool = False):
    reply = None
    if reply_to is not None:
        reply = {"message_id": reply_to, "date": 0, "chat": {"id": user_id, "type": "private", "first_name": "A"},
                 "from": {"id": 1, "is_bot": True, "first_name": "LDN TSP"}, "text": "…"}
    extra = {}
    if document:
        extra = {"document": {"file_id": f"DOC{model.steps}", "file_unique_id": f"u{model.steps}", "file_name": "map.tif",
                              "mime_type": "image/tiff", "file_size": 1000}}
        if text:
            extra["caption"] = text
        text = None
    update = bot.updates.message(text, user_id=user_id, reply_to=reply, language_code="fr" if user_id == FOCAL_FRA_SPEAKER else "en",
                                 **extra)
    key = (user_id, update.message.message_id)
    allowed = _allowed_by_reply(bot, user_id, reply_to)
    if user_id in model.awaiting_for:
        allowed.add(model.awaiting_for.pop(user_id))
    model.allowed[key] = allowed
    calls = await bot.env.process(update)
    assert [c for c in calls if c.chat_id == user_id], f"no reply to {text!r} from {user_id}: {[c.method for c in calls]}"
    _note_sent(model, calls)


async def _press(bot: IntakeBot, model: Model, user_id: int, index: int):
    choices = [(mid, data) for mid, buttons in model.bot_messages.get(user_id, []) for data in buttons]
    if not choices:
        return
    mid, data = choices[index % len(choices)]
    parts = data.split(":")
    if parts[1:3] == ["hd", "fu"] and len(parts) >= 5 and parts[4].isdigit():  # ➕ Add to query #N, about message M
        model.allowed.setdefault((user_id, int(parts[4])), set()).add(int(parts[3]))
    if parts[1:3] == ["hd", "re"]:
        model.awaiting_for[user_id] = int(parts[3])
    calls = await bot.env.press(data, user_id=user_id, message_id=mid)
    assert [c for c in calls if c.method == "answerCallbackQuery" or c.chat_id == user_id], f"press {data} unanswered"
    _note_sent(model, calls)


async def _expert_answers(bot: IntakeBot, model: Model, index: int):
    cards = bot.db.execute("SELECT expert_message_id FROM queries WHERE expert_message_id IS NOT NULL AND state != 'closed' "
                           "ORDER BY id").fetchall()
    if not cards:
        return
    card = cards[index % len(cards)][0]
    calls = await bot.env.send(f"Expert answer {model.steps}", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                               reply_to={"message_id": card, "date": 0, "chat": {"id": EXPERT_CHAT, "type": "supergroup"},
                                         "from": {"id": 1, "is_bot": True, "first_name": "LDN TSP"}, "text": "…"})
    _note_sent(model, calls)


def _check_store(bot: IntakeBot, model: Model) -> None:
    db = bot.db
    assert db.execute("SELECT count(*) FROM queries WHERE trim(text) = ''").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM query_messages WHERE role = 'asker' AND kind = 'text' "
                      "AND trim(coalesce(text, '')) = ''").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM intake_offers WHERE trim(text) = '' AND attachment IS NULL").fetchone()[0] == 0
    created_from = {(r[0], r[1]): r[2] for r in db.execute(
        "SELECT chat_id, message_id, query_id FROM query_messages m WHERE role = 'asker' "
        "AND id = (SELECT min(id) FROM query_messages WHERE query_id = m.query_id AND role = 'asker')").fetchall()}
    for chat_id, message_id, query_id in db.execute("SELECT chat_id, message_id, query_id FROM query_messages WHERE role = 'asker'"):
        key = (chat_id, message_id)
        if created_from.get(key) == query_id:  # the message the query was made of
            continue
        assert query_id in model.allowed.get(key, set()), f"message {key} landed on query #{query_id}; allowed {model.allowed.get(key)}"


async def _play(steps) -> Model:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(TEMPLATE[0], Path(tmp) / "ldn.db")
        config = config_from_text(CONFIG_TEXT).with_overrides(storage={"path": str(Path(tmp) / "ldn.db")})
        bot = IntakeBot(config, FakeClock("2016-05-20T08:00:00Z"))
        await bot.start()
        await bot.env.make_focal_point(FOCAL_KEN, "KEN")
        await bot.env.make_focal_point(FOCAL_FRA_SPEAKER, "SEN")
        model = Model()
        try:
            for op in steps:
                model.steps += 1
                kind = op[0]
                if kind == "text":
                    await _message(bot, model, op[1], op[2])
                elif kind == "reply":
                    sent = model.bot_messages.get(op[1]) or []
                    target = sent[op[3] % len(sent)][0] if sent else None
                    await _message(bot, model, op[1], op[2], reply_to=target)
                elif kind == "command":
                    await _message(bot, model, op[1], op[2])
                elif kind == "press":
                    await _press(bot, model, op[1], op[2])
                elif kind == "document":
                    sent = model.bot_messages.get(op[1]) or []
                    target = sent[op[4] % len(sent)][0] if sent and op[3] else None
                    await _message(bot, model, op[1], op[2], reply_to=target, document=True)
                elif kind == "expert":
                    await _expert_answers(bot, model, op[1])
                else:
                    await bot.restart()
                bot.clock.advance(minutes=7)
                _check_store(bot, model)
        finally:
            await bot.stop()
        return model


TEMPLATE: list[Path] = []
RUNS: list[int] = []


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=3, max_size=14))
def test_every_message_gets_a_fate_nothing_empty_is_stored_nothing_lands_on_the_wrong_query(template_db, steps):
    TEMPLATE[:] = [template_db]
    asyncio.run(_play(steps))
    RUNS.append(len(steps))
