"""Private messages in, one fate each: :func:`bot.intake.decide` decides, this module renders.

* a private text (``GROUP_INPUT``): blocked / empty / a follow-up by reply / the comment on a
  rated query / the awaited input / a question for the FAQ, with "➕ Add to query #N" buttons
  when the person has queries in progress (see :func:`bot.intake.choices`);
* any private command (``GROUP_PROMPT``, before the commands): an awaited input is dropped,
  the bot says so, and the command runs;
* an edited private message: if it is part of a query, the query is updated and the experts
  see the edit; any other edit is ignored quietly;
* ``/block N`` (secretariat): the asker of query N is blocked.

Photos and documents go through :func:`handlers.helpdesk.asking.private_message`, which asks
the same :func:`bot.intake.decide`.
"""
from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, MessageHandler, TypeHandler, filters

from bot import intake
from bot.intake import AskRight, Choice, Decision, Fate
from bot.roles import Person
from handlers import faq
from handlers.common import (GROUP_COMMANDS, GROUP_INPUT, INPUTS, MAX_QUESTION, PRIVATE_TEXT, Context, answer_button, authorised, clear_input,
                             is_private, keyboard, message_of, person, reply, t, user_data)
from handlers.helpdesk import asking
from handlers.helpdesk.outbox import notify_experts
from handlers.helpdesk.render import button
from handlers.helpdesk.settings import now, number, xt
from knowledge.vocabulary import HelpdeskAction

log = logging.getLogger("ldn.handlers.intake")

#: before the commands: a command drops an awaited input (and then runs)
GROUP_PROMPT = -1
#: before that: a blocked person's private message gets one short answer
GROUP_GATE = -2
#: seconds the intake trusts "nothing of this user's in the database" (a CLI block shows up after this)
QUIET_SECONDS = 30.0


def _quiet(context: Context) -> bool:
    """True when a recent read found no awaited input, no query in progress, no block for this user
    (then a plain, non-reply text is a question: no database round trip)."""
    user_data = context.user_data
    if user_data is None or user_data.get("awaiting"):
        return False
    at = user_data.get(asking.QUIET)
    return at is not None and time.monotonic() - at < QUIET_SECONDS


async def private_text(update: Update, context: Context) -> None:
    """Every new private text that is not a command."""
    message = message_of(update)
    services = context.services
    who = await person(update, context)
    if who is None:
        return
    right = asking.right_of(context, who)
    reply_to = message.reply_to_message.message_id if message.reply_to_message is not None else None
    text = message.text or ""
    if reply_to is None and text.strip() and _quiet(context):
        decision = Decision(Fate.QUESTION)
    else:
        decision = await services.store.run(intake.decide, who, chat_id=message.chat_id, reply_to=reply_to, text=text,
                                            now=now(services), right=right)
        if decision.fate is Fate.QUESTION and not decision.active and context.user_data is not None:
            context.user_data[asking.QUIET] = time.monotonic()
    log.debug("intake.fate", extra={"user": who.user_id, "fate": decision.fate, "query": decision.query_id})
    qid = decision.query_id
    match decision.fate:
        case Fate.BLOCKED:
            await reply(update, context, t(context, who, "intake.blocked"))
        case Fate.EMPTY:
            await reply(update, context, t(context, who, "error.empty"))
        case Fate.FOLLOW_UP if qid is not None:
            await asking.add_followup(update, context, who, qid, asking._pending_message(message))
        case Fate.COMMENT if qid is not None:
            await asking.comment_reply(update, context, who, qid)
        case Fate.INPUT:
            await _awaited(update, context, who, decision)
        case _:
            await question(update, context, who, decision, right)
    raise ApplicationHandlerStop


async def _awaited(update: Update, context: Context, who: Person, decision: Decision) -> None:
    awaited = decision.awaited or {}
    await clear_input(context)  # as before: an input handler that wants another try asks again
    fn = INPUTS.get(awaited.get("name") or "")
    if fn is None:  # a prompt of a feature this version no longer has: the text is a question
        await question(update, context, who, Decision(Fate.QUESTION), asking.right_of(context, who))
        return
    await fn(update, context, who, awaited.get("data") or {})


def _rows(context: Context, who: Person, choices, mid: int, answered: bool) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    last: list[tuple[str, str]] = []
    for choice, n in choices:
        if choice is Choice.ADD_TO:
            key = "intake.btn.add_to_instead" if answered else "intake.btn.add_to"
            rows.append([(t(context, who, key, n=n), button(HelpdeskAction.FOLLOW_UP, n, mid))])
        elif choice is Choice.NEW_QUESTION:
            last.append((t(context, who, "intake.btn.new_question"), button(HelpdeskAction.FILE_AS_NEW, mid)))
        elif choice is Choice.CANCEL:
            last.append((t(context, who, "intake.btn.cancel"), button(HelpdeskAction.CANCEL, mid)))
        elif choice is Choice.ASK_EXPERT:
            rows.append([(t(context, who, "button.ask_expert"), button(HelpdeskAction.FILE_AS_NEW, mid))])
    if last:
        rows.append(last)
    return rows


async def question(update: Update, context: Context, who: Person, decision: Decision, right: AskRight) -> None:
    """The FAQ's answer or its abstention, with the buttons :func:`bot.intake.choices` gives."""
    services = context.services
    message = message_of(update)
    text = (message.text or "").strip()
    asked = text
    if len(asked) > MAX_QUESTION:
        await reply(update, context, t(context, who, "error.too_long", limit=MAX_QUESTION))
        asked = asked[:MAX_QUESTION]
    hits, best = await faq.lookup(services, who, asked)
    active = [n for n, _ in decision.active]
    choices = intake.choices(bool(hits), active, right)
    if choices:  # the buttons name this message: keep what it said (a press after a restart still knows)
        await services.store.run(intake.keep_offer, who, chat_id=message.chat_id, message_id=message.message_id, text=text,
                                 candidates=[h.id for h in hits], now=now(services))
    rows = _rows(context, who, choices, message.message_id, bool(hits))
    user_data(context)["last_question"] = {"text": asked, "lang": who.lang, "candidates": [h.id for h in hits],
                                          "score": hits[0].score if hits else None}
    if hits:
        log.info("faq.answer", extra={"user": who.user_id, "lang": who.lang, "entry": hits[0].id, "score": round(hits[0].score, 3)})
        await faq.send_entry(update, context, who, hits[0].entry, related=[h.entry for h in hits[1:3]], private=True,
                             extra=tuple(tuple(row) for row in rows))
        return
    log.info("faq.abstain", extra={"user": who.user_id, "lang": who.lang, "best": best})
    if active and right.may_ask:
        await reply(update, context, t(context, who, "intake.abstain_active"), markup=keyboard(rows))
        return
    topics = [(t(context, who, "button.browse_topics"), faq.cb("faq", "topics", 0))]
    key = {AskRight.REGISTER: "intake.abstain_visitor", AskRight.STAFF: "intake.abstain_staff"}.get(right, "faq.abstain")
    await reply(update, context, t(context, who, key), markup=keyboard(rows + [topics]))


# -- blocked people --------------------------------------------------------------------------------------


async def _blocked(context: Context) -> frozenset[int]:
    """The blocked ids, read again every QUIET_SECONDS (so a block from the command line shows up)."""
    services = context.services
    if time.monotonic() - services.blocked_read_at > QUIET_SECONDS:
        services.blocked_users = await services.store.read(intake.blocked_ids)
        services.blocked_read_at = time.monotonic()
    return services.blocked_users


async def gate(update: Update, context: Context) -> None:
    """A blocked person's private message or button press: one short answer, nothing else
    (their edits are ignored quietly)."""
    user = update.effective_user
    if user is None or not is_private(update) or user.id not in await _blocked(context):
        return
    who = await person(update, context) if update.message is not None or update.callback_query is not None else None
    if who is not None:
        if update.callback_query is not None:
            await answer_button(update, t(context, who, "intake.blocked"), alert=True)
        else:
            await reply(update, context, t(context, who, "intake.blocked"))
    raise ApplicationHandlerStop


# -- commands drop a prompt; /cancel -----------------------------------------------------------------


async def command_drops_prompt(update: Update, context: Context) -> None:
    """A private command while the bot awaits an input: the prompt is dropped (and said so); the
    command then runs as usual. ``/cancel`` says it itself."""
    if context.user_data is None or not context.user_data.get("awaiting") or not is_private(update):
        return
    command = (message_of(update).text or "").split()[0].split("@")[0].lower()
    if command == "/cancel":
        return
    await clear_input(context)
    who = await person(update, context)
    if who is None:
        return
    await reply(update, context, t(context, who, "intake.prompt_dropped"))


async def cancel_command(update: Update, context: Context) -> None:
    """/cancel: the awaited input (if any) is dropped."""
    who = await person(update, context)
    if who is None:
        return
    dropped = await clear_input(context)
    asking.stir(context)
    await reply(update, context, t(context, who, "common.cancelled" if dropped else "intake.nothing_to_cancel"))


# -- edits --------------------------------------------------------------------------------------------------


async def edited_message(update: Update, context: Context) -> None:
    """An edited private message: part of a query -> updated there, the experts see it; else ignored."""
    message = update.edited_message
    if message is None or not is_private(update):
        return
    text = message.text or message.caption or ""
    services = context.services
    who = await person(update, context)
    edit = await services.store.run(intake.record_edit, who, chat_id=message.chat_id, message_id=message.message_id,
                                    text=text, now=now(services))
    if edit.query is None:
        if text.startswith("/"):
            return  # an edited command that made nothing runs again, as Telegram clients expect
        raise ApplicationHandlerStop  # any other edit: ignored quietly
    qid = edit.query["id"]
    log.info("intake.edited", extra={"query": qid})
    await notify_experts(context.bot, services, edit.query, xt(services, "intake.notice_edited", n=qid, text=edit.text),
                         f"edited:{message.chat_id}:{message.message_id}:{int(message.edit_date.timestamp()) if message.edit_date else 0}")
    raise ApplicationHandlerStop


# -- /block N ------------------------------------------------------------------------------------------------


async def block_command(update: Update, context: Context) -> None:
    who = await authorised(update, context, secretariat=True)
    if who is None:
        return
    qid = number(context.args[0]) if context.args else None
    if qid is None:
        await reply(update, context, t(context, who, "intake.block_usage"))
        return
    services = context.services
    result = await services.store.run(intake.block_asker, qid, by_user=who.user_id, now=now(services))
    if result.user_id is None:
        await reply(update, context, t(context, who, "intake.block_not_found", n=qid))
        return
    log.info("intake.blocked", extra={"query": qid, "by": who.user_id})
    services.blocked_read_at = 0.0  # read the blocked ids again
    await reply(update, context, t(context, who, "intake.block_done" if result.done else "intake.block_already", n=qid))


# -- start-up: the prompts awaiting an answer come back --------------------------------------------------


async def on_startup(application) -> None:
    services = application.bot_data["services"]
    restored = await services.store.run(intake.live_inputs, services.clock.now())
    for row in restored:
        application.user_data[row["user_id"]]["awaiting"] = {"name": row["name"], "data": row["data"]}
    if restored:
        log.info("intake.prompts_restored", extra={"count": len(restored)})


def handlers():
    private_command = filters.ChatType.PRIVATE & filters.COMMAND & filters.UpdateType.MESSAGE
    return [
        (GROUP_GATE, TypeHandler(Update, gate)),
        (GROUP_PROMPT, MessageHandler(private_command, command_drops_prompt)),
        (GROUP_COMMANDS, CommandHandler("cancel", cancel_command)),
        (GROUP_COMMANDS, CommandHandler("block", block_command)),
        (GROUP_INPUT, MessageHandler(PRIVATE_TEXT, private_text)),
        # before the commands too: an edited "/ask ..." is an edit, never a second query
        (GROUP_PROMPT, MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, edited_message)),
    ]
