"""Polling an IMAP mailbox for ``LDN_IMAP_URL`` (``imaps://user@host/INBOX``) with imap-tools:
unseen messages are handed to the channel one by one and flagged ``\\Seen`` once their fate
is committed (a crash in between only means the message is read again, and recognised by
its Message-ID); between rounds the connection waits in IDLE, up to ``mail.imap_poll``.

The IMAP dialogue is blocking: it runs in a thread of its own, and hands each message to
the bot's event loop (``asyncio.run_coroutine_threadsafe``)."""
from __future__ import annotations

import asyncio
import logging
import threading

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags

from bot.mail.config import MailConfig
from bot.mail.outbound import tls_context

log = logging.getLogger("ldn.mail")

#: How long the thread waits before connecting again after an error (doubling up to the maximum).
RECONNECT_SECONDS = (5, 300)
BATCH = 50


def open_mailbox(cfg: MailConfig) -> BaseMailBox:
    ep = cfg.imap
    assert ep is not None
    if ep.implicit_tls:
        box: BaseMailBox = MailBox(ep.host, ep.port, timeout=cfg.timeout, ssl_context=tls_context())
    elif ep.loopback:
        box = MailBoxUnencrypted(ep.host, ep.port, timeout=cfg.timeout)  # a server on this machine (tests, a local Dovecot)
    else:
        box = MailBoxStartTls(ep.host, ep.port, timeout=cfg.timeout, ssl_context=tls_context())
    return box.login(ep.user or "", ep.password or "", initial_folder=ep.path or "INBOX")


class ImapPoller:
    def __init__(self, channel, cfg: MailConfig):
        self.channel, self.cfg = channel, cfg
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rounds = 0

    # -- one round (the thread's loop, and tests, call it) -----------------------------------

    def _hand_over(self, raw: bytes) -> None:
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(self.channel.receive(raw, None, [self.cfg.address or ""]), self.loop)
        future.result(timeout=300)

    def round(self, box: BaseMailBox) -> int:
        """Hand over every unseen message of the folder; the number handed over."""
        done = 0
        for msg in box.fetch(AND(seen=False), mark_seen=False, bulk=BATCH, limit=BATCH):
            self._hand_over(msg.obj.as_bytes())
            if msg.uid:
                box.flag(msg.uid, MailMessageFlags.SEEN, True)
            done += 1
        self.rounds += 1
        return done

    async def poll_once(self) -> int:
        """Connect, take what is unseen, log out (tests and ``ldn-bot``'s first round)."""
        self.loop = asyncio.get_running_loop()

        def work() -> int:
            box = open_mailbox(self.cfg)
            try:
                return self.round(box)
            finally:
                box.logout()

        return await asyncio.to_thread(work)

    # -- the background thread -----------------------------------------------------------------

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.Thread(target=self._run, name="ldn-imap", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        wait = RECONNECT_SECONDS[0]
        while not self.stopping.is_set():
            try:
                box = open_mailbox(self.cfg)
                try:
                    wait = RECONNECT_SECONDS[0]
                    while not self.stopping.is_set():
                        self.round(box)
                        box.idle.wait(timeout=self.cfg.imap_poll_seconds)
                finally:
                    box.logout()
            except Exception as exc:  # noqa: BLE001 - the mailbox comes back; the bot keeps running
                log.warning("mail.imap_error", extra={"error": f"{type(exc).__name__}: {exc}"[:300], "retry_in": wait})
                self.stopping.wait(wait)
                wait = min(RECONNECT_SECONDS[1], wait * 2)

    def stop(self) -> None:
        self.stopping.set()
