"""Fan-out benchmark: N recipients through a loopback Bot API server that enforces Telegram's limits.

The server (127.0.0.1, its own thread and event loop, HTTP/1.1 keep-alive) answers like the Bot
API and refuses with ``429 Too Many Requests`` + ``parameters.retry_after`` when a limit is exceeded:

* about 30 messages per second overall (a token bucket of 30, refilled at 30/s),
* 1 message per second per private chat,
* 20 messages per minute per group.

The bot side is the real thing: ``bot.app.build_application`` with ``rate_limit=True``
(:class:`bot.updates.QuietRateLimiter`: PTB's ``AIORateLimiter`` retrying each 429 after its
``retry_after``, one WARNING line per 429), the delivery ledger in a SQLite file, :class:`bot.delivery.Deliverer`
(claim -> send with retries -> mark) driven by the broadcast sender or the reminder tick.

    python bench/fanout.py                      # 500 recipients, a broadcast to everyone
    python bench/fanout.py --mode reminders     # the same fan-out as a reminder (CRIC 15, audience all)
    python bench/fanout.py --groups 5 --chaos 0.03   # plus linked groups, and random 429/500 answers

Prints messages/s, lost, duplicates and 429s seen; exits 1 if a recipient got nothing or twice.
Target: >= 25 msg/s, 0 lost, 0 duplicates.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import logging
import math
import random
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN = "123456789:BENCHtokenBENCHtokenBENCHtokenBENCH"
SECRETARIAT = 4242


class LimitedBotAPI:
    """A loopback Bot API that enforces Telegram's sending limits (see the module docstring)."""

    def __init__(self, rate: float = 30.0, burst: int = 30, per_chat: float = 1.0, group_per_minute: int = 20,
                 chaos: float = 0.0, seed: int = 7):
        self.rate, self.burst, self.per_chat, self.group_per_minute = rate, burst, per_chat, group_per_minute
        self.chaos = chaos
        self.random = random.Random(seed)
        self.tokens = float(burst)
        self.refilled = time.monotonic()
        self.last_private: dict[int, float] = {}
        self.group_times: dict[int, collections.deque] = collections.defaultdict(collections.deque)
        self.accepted: collections.Counter = collections.Counter()   # chat_id -> sendMessage accepted
        self.texts: dict[int, list[str]] = collections.defaultdict(list)
        self.refused_429 = 0
        self.errors_5xx = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.requests = 0
        self._next_id = 1
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopback-bot-api", daemon=True)

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> "LimitedBotAPI":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self._stop_event = asyncio.Event()
        self.loop.run_until_complete(self._serve())
        self.loop.close()

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop_event.wait()

    # -- HTTP ----------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                parts = request_line.decode("latin-1").split()
                if len(parts) < 2:
                    break
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = line.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload = self.answer(parts[1], body, headers.get("content-type", ""))
                raw = json.dumps(payload).encode()
                reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}[status]
                writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(raw)}\r\n"
                             f"Connection: keep-alive\r\n\r\n".encode() + raw)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _params(body: bytes, content_type: str) -> dict:
        if not body:
            return {}
        if "json" in content_type:
            return json.loads(body)
        if "x-www-form-urlencoded" in content_type:
            return {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        return {}

    # -- the Bot API -----------------------------------------------------------
    def _refused(self, retry_after: float, why: str) -> tuple[int, dict]:
        self.refused_429 += 1
        return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {max(1, math.ceil(retry_after))} ({why})",
                     "parameters": {"retry_after": max(1, math.ceil(retry_after))}}

    def answer(self, path: str, body: bytes, content_type: str) -> tuple[int, dict]:
        self.requests += 1
        method = path.rstrip("/").rsplit("/", 1)[-1]
        if not path.startswith(f"/bot{TOKEN}/"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        params = self._params(body, content_type)
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 7000000002, "is_bot": True, "first_name": "LDN TSP bench",
                                                "username": "ldn_bench_bot", "can_join_groups": True,
                                                "can_read_all_group_messages": False, "supports_inline_queries": False}}
        if method != "sendMessage":
            if method == "editMessageText":
                return 200, {"ok": True, "result": self._message(params)}
            return 200, {"ok": True, "result": True}
        now = time.monotonic()
        chat_id = int(params.get("chat_id"))
        if self.chaos and self.random.random() < self.chaos:
            if self.random.random() < 0.5:
                return self._refused(1, "chaos")
            self.errors_5xx += 1
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error (chaos)"}
        # 1) overall: token bucket
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens < 1:
            return self._refused((1 - self.tokens) / self.rate, "overall")
        # 2) per chat
        if chat_id < 0:
            times = self.group_times[chat_id]
            while times and now - times[0] >= 60:
                times.popleft()
            if len(times) >= self.group_per_minute:
                return self._refused(60 - (now - times[0]), "group")
        else:
            last = self.last_private.get(chat_id)
            if last is not None and now - last < self.per_chat:
                return self._refused(self.per_chat - (now - last), "chat")
        self.tokens -= 1
        if chat_id < 0:
            self.group_times[chat_id].append(now)
        else:
            self.last_private[chat_id] = now
        self.accepted[chat_id] += 1
        self.texts[chat_id].append(str(params.get("text", ""))[:40])
        self.first_at = self.first_at or now
        self.last_at = now
        return 200, {"ok": True, "result": self._message(params)}

    def _message(self, params: dict) -> dict:
        self._next_id += 1
        chat_id = int(params.get("chat_id") or 0)
        chat = {"id": chat_id, "type": "private", "first_name": "User"} if chat_id > 0 else {"id": chat_id, "type": "supergroup", "title": "Group"}
        return {"message_id": self._next_id, "date": int(time.time()), "chat": chat, "text": str(params.get("text", "")),
                "from": {"id": 7000000002, "is_bot": True, "first_name": "LDN TSP bench", "username": "ldn_bench_bot"}}


async def run(recipients: int = 500, mode: str = "broadcast", groups: int = 0, chaos: float = 0.0, timeout: float = 180.0,
              quiet: bool = False, retry_base_delay: float = 1.0) -> dict:
    """Fan one message out to ``recipients`` users (+ ``groups`` linked groups); return the figures."""
    from bot import broadcast as bc
    from bot.app import build_application
    from bot.clock import FakeClock
    from bot.config import config_from_text
    from bot.reminders import get_reminders
    from storage import reminders as store
    from storage import users

    server = LimitedBotAPI(chaos=chaos).start()
    tmp = tempfile.TemporaryDirectory(prefix="ldn-fanout-")
    try:
        config = config_from_text("").with_overrides(
            telegram={"api_base_url": server.base_url}, storage={"path": str(Path(tmp.name) / "bench.db")},
            roles={"secretariat": [SECRETARIAT]}, reminders={"concurrency": 16}, delivery={"base_delay": retry_base_delay})
        config = dataclasses.replace(config, token=TOKEN)
        clock = FakeClock("2016-09-01T08:00:00Z")
        application = build_application(config, clock=clock, rate_limit=True)
        services = application.bot_data["services"]
        registry = list(services.countries)
        chat_ids = [10_000 + i for i in range(recipients)]

        def populate(db):
            now = clock.now()
            for i, uid in enumerate(chat_ids):
                users.touch_user(db, uid, f"FP{i}", None, now)
                users.set_role(db, uid, "focal_point", registry[i % len(registry)].iso3, now, None, "cli")

        await services.store.run(populate)
        group_ids = [-1_000_000_000_000 - i for i in range(groups)]
        if groups:
            import bot.reminders.service as reminders

            reminders.groups_for_countries = lambda db, countries, kind: [{"chat_id": g, "lang": "en"} for g in group_ids]
        await application.initialize()
        rem = get_reminders(services)
        await rem.ensure_loaded()
        started = time.monotonic()
        if mode == "reminders":
            clock.set("2016-10-04T07:00:00Z")  # CRIC 15 (audience: all) is 14 days away: its reminder falls due
            result = await asyncio.wait_for(rem.tick(application.bot), timeout)
            figures = result.as_dict()
        else:
            now = clock.now()
            segment = "all"
            ids = []
            for seg in ([segment] + (["groups"] if groups else [])):
                bid = await services.store.run(store.create_broadcast, SECRETARIAT, seg, now)
                await services.store.run(store.update_draft, bid, text="Bench: the <b>2018 reporting</b> template is online.")
                await services.store.run(bc.start, services, bid, now)
                ids.append(bid)
            figures = {}
            for bid in ids:
                out = await asyncio.wait_for(bc.send(services, application.bot, bid), timeout)
                for key in ("sent", "failed", "blocked"):
                    figures[key] = figures.get(key, 0) + out[key]
        elapsed = time.monotonic() - started
        ledger = await services.store.run(lambda db: {r["status"]: r["n"] for r in db.query(
            "SELECT status, count(*) AS n FROM deliveries GROUP BY status")})
        await application.shutdown()
        services.store.close()
    finally:
        server.stop()
        tmp.cleanup()
    expected = chat_ids + group_ids
    lost = [c for c in expected if server.accepted[c] == 0]
    duplicates = [c for c in expected if server.accepted[c] > 1]
    delivered = sum(server.accepted[c] for c in expected)
    window = (server.last_at - server.first_at) if server.first_at and server.last_at and server.last_at > server.first_at else elapsed
    report = {
        "mode": mode, "recipients": len(expected), "delivered": delivered, "seconds": round(elapsed, 2),
        "msgs_per_s": round(delivered / elapsed, 1) if elapsed else 0.0,
        "msgs_per_s_sending_window": round(max(delivered - 1, 0) / window, 1) if window else 0.0,
        "lost": len(lost), "duplicates": len(duplicates), "429s_seen": server.refused_429, "5xx_seen": server.errors_5xx,
        "deliverer_retries": dict(services.deliverer.stats), "ledger": ledger, "outcome": figures,
    }
    if not quiet:
        print(f"fan-out ({mode}): {report['recipients']} recipients in {report['seconds']} s")
        print(f"  messages/s : {report['msgs_per_s']} (sending window {report['msgs_per_s_sending_window']})")
        print(f"  lost       : {report['lost']}")
        print(f"  duplicates : {report['duplicates']}")
        print(f"  429s seen  : {report['429s_seen']}" + (f" · 5xx seen: {report['5xx_seen']}" if report["5xx_seen"] else ""))
        print(f"  ledger     : {json.dumps(ledger, sort_keys=True)}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--mode", choices=["broadcast", "reminders"], default="broadcast")
    parser.add_argument("--groups", type=int, default=0, help="linked groups that get it too (20 msgs/min per group)")
    parser.add_argument("--chaos", type=float, default=0.0, help="share of sendMessage calls answered 429 or 500 at random")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    report = asyncio.run(run(args.recipients, args.mode, args.groups, args.chaos, args.timeout, quiet=args.json))
    if args.json:
        print(json.dumps(report, indent=1, sort_keys=True))
    ok = report["lost"] == 0 and report["duplicates"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
