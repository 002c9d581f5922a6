"""/channels: where a person's reminders and weekly digest go (Telegram, e-mail or both),
and the start of the e-mail channel: the receiver for ``LDN_MAIL_LISTEN``, the IMAP poller
for ``LDN_IMAP_URL`` and the mail job, with the experts' chat functions they need."""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.helpdesk import relay
from bot.mail import people
from bot.mail.config import mail_config
from bot.services import Services
from bot.telegram_errors import classify
from handlers.common import GROUP_COMMANDS, Context, answer_button, edit_or_reply, keyboard, parse_cb, person, reply, t, cb
from handlers.helpdesk import outbox
from handlers.helpdesk.settings import settings
from knowledge.vocabulary import ChannelsAction, Feature, ReminderChannel

if TYPE_CHECKING:
    from bot.mail.channel import Hooks

log = logging.getLogger("ldn.handlers.channels")


def _markup(context: Context, who, current: ReminderChannel | None):
    return keyboard([[(("• " if choice == current else "") + t(context, who, f"mail.channel.{choice}"),
                       cb(Feature.CHANNELS, ChannelsAction.SET, choice.value)) for choice in ReminderChannel]])


def _text(context: Context, who, found: people.Channels) -> str:
    return t(context, who, "mail.channels.show", address=found.address, channel=t(context, who, f"mail.channel.{found.channel}"))


async def channels_command(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None:
        return
    services = context.services
    found = await services.store.run(people.channels_of, who.user_id, services.clock.now())
    if found.address is None:
        await reply(update, context, t(context, who, "mail.channels.none"))
        return
    text = _text(context, who, found)
    if found.joined:
        text = t(context, who, "mail.channels.joined") + "\n\n" + text
    await reply(update, context, text, markup=_markup(context, who, found.channel))


async def channels_button(update: Update, context: Context) -> None:
    who = await person(update, context)
    if who is None or update.callback_query is None:
        return
    parts = parse_cb(update.callback_query.data, Feature.CHANNELS)
    if not parts or len(parts) != 2 or parts[0] != ChannelsAction.SET or parts[1] not in set(ReminderChannel):
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    found = await context.services.store.run(people.set_channel, who.user_id, parts[1])
    if found.address is None:
        await answer_button(update, t(context, who, "error.stale_button"), alert=True)
        return
    await answer_button(update)
    await edit_or_reply(update, context, _text(context, who, found), markup=_markup(context, who, found.channel))


def hooks_for(application) -> Hooks:
    """The experts' chat functions the mail channel calls, bound to this Application's bot."""
    from bot.mail.channel import Hooks
    services: Services = application.bot_data["services"]
    bot = application.bot

    async def post_card(qid: int) -> bool:
        return await outbox.post_query(bot, services, qid)

    async def notify_experts(query: dict, text: str, ref: str) -> None:
        await outbox.notify_experts(bot, services, query, text, ref)

    async def refresh_card(qid: int) -> None:
        await outbox.refresh_card(bot, services, qid)

    async def post_file(query: dict, name: str, content: bytes, caption: str) -> bool:
        chat_id = query.get("expert_chat_id") or settings(services).expert_chat_id
        try:
            sent = await bot.send_document(chat_id, InputFile(content, filename=name), caption=caption, parse_mode=ParseMode.HTML,
                                           api_kwargs=outbox.placement(query) or None)
        except TelegramError as exc:
            log.warning("mail.file_not_posted", extra={"query": query["id"], "error": classify(exc).reason})
            return False
        await services.store.run(relay.record_relay, query["id"], chat_id=chat_id, message_id=sent.message_id, role="relay",
                                 now=services.clock.now())
        return True

    async def download(file_id: str) -> bytes | None:
        try:
            found = await bot.get_file(file_id)
            return bytes(await found.download_as_bytearray())
        except (TelegramError, RuntimeError) as exc:  # RuntimeError: Telegram gave no file_path (over 20 MB)
            log.warning("mail.file_not_fetched", extra={"error": classify(exc).reason if isinstance(exc, TelegramError) else str(exc)})
            return None

    return Hooks(post_card, notify_experts, refresh_card, post_file, expert_lang=settings(services).expert_language, download=download)


async def mail_job(context: Context) -> None:
    channel = context.services.mail
    if channel is not None:
        await channel.tick()


async def on_startup(application) -> None:
    services: Services = application.bot_data["services"]
    try:
        cfg = mail_config(services.config.section("mail"), os.environ)
    except ValueError as exc:
        log.error("mail.bad_settings", extra={"error": str(exc), "hint": "ldn-bot check"})
        return
    if not cfg.enabled:
        return
    # start-up: the channel's e-mail modules (parsing, composing, SMTP) only for a bot that sends mail
    from bot.mail.channel import MailChannel

    channel = MailChannel(services, cfg, hooks_for(application))
    services.mail = channel
    if cfg.listen is not None:
        # start-up: aiosmtpd and imap-tools are imported only by a bot that listens or polls
        from bot.mail.receiver import MailReceiver

        channel.receiver = MailReceiver(channel, cfg.listen)
        await channel.receiver.start()
    if cfg.web_listen is not None:
        from bot.mail.web import MailWeb  # tornado, only for a bot that serves the unsubscribe links

        channel.web = MailWeb(channel, cfg.web_listen)
        await channel.web.start()
    if cfg.imap is not None:
        from bot.mail.imap import ImapPoller

        channel.poller = ImapPoller(channel, cfg)
        channel.poller.start()
    if application.job_queue is not None:
        application.job_queue.run_repeating(mail_job, interval=60, first=30, name="mail.tick")


def handlers():
    return [
        (GROUP_COMMANDS, CommandHandler("channels", channels_command)),
        (GROUP_COMMANDS, CallbackQueryHandler(channels_button, pattern=rf"^v1:{Feature.CHANNELS}:")),
    ]
