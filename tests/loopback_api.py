"""A small Bot API server on 127.0.0.1 for tests and benches that talk HTTP to it: the real
``ldn-bot run`` process, an Application polling it, ``bench/throughput.py``.

* :meth:`LoopbackBotAPI.push` queues an update (an ``update_id`` is given); :meth:`push_raw`
  queues one exactly as given (a malformed one, say). ``getUpdates`` honours ``offset`` and
  ``limit`` as Telegram does (at most 100) and records each offset asked for (:attr:`offsets`).
* ``limits=TelegramLimits()`` makes ``sendMessage`` obey Telegram's sending limits: about 30 messages
  per second overall (a token bucket of 30 refilled at 30/s), 1 per second per private chat and 20 per
  minute per group; a request over a limit is answered ``429 Too Many Requests`` with
  ``parameters.retry_after``, as Telegram does. ``latency`` adds a network round trip to every answer.
* :attr:`files` (``file_id`` -> bytes): ``getFile`` describes them and ``GET /file/bot<token>/<file_path>``
  serves them, as Telegram's file server (an expert's document the bot downloads).
* :attr:`accepted` lists every accepted ``sendMessage`` as ``(monotonic time, chat_id, text)``.
"""
from __future__ import annotations

import json
import math
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # a burst of new connections (a bot with a pool of 256) is accepted, not reset

    def handle_error(self, request, client_address):
        """A client gone mid-answer (a killed bot) is what some tests do: no traceback for that."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class TelegramLimits:
    overall_per_second: float = 30.0
    burst: int = 30
    per_private_chat_seconds: float = 1.0
    per_group_per_minute: int = 20


class LoopbackBotAPI:
    """Serves getMe/getUpdates/sendMessage…; queue updates with :meth:`push`; read :attr:`calls`."""

    def __init__(self, token: str, username: str = "ldn_loop_bot", *, limits: TelegramLimits | None = None,
                 latency: float = 0.0, poll_seconds: float = 0.5, record_calls: bool = True):
        self.token, self.username = token, username
        self.limits, self.latency, self.poll_seconds = limits, latency, poll_seconds
        self.record_calls = record_calls
        self.calls: list[tuple[str, dict]] = []
        self.updates: list[dict] = []
        self.offsets: list[int] = []
        self.accepted: list[tuple[float, int, str]] = []
        self.refused_429 = 0
        self.files: dict[str, bytes] = {}  # file_id -> content: getFile describes it, GET /file/bot<token>/<path> serves it
        self.lock = threading.Lock()
        self._next_id = 1
        self._tokens = float(limits.burst) if limits else 0.0
        self._refilled = time.monotonic()
        self._last_private: dict[int, float] = {}
        self._group_times: dict[int, list[float]] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real Bot API
            disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK stall

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                if self.command == "GET" and urllib.parse.unquote(path).startswith(f"/file/bot{api.token}/documents/"):
                    content = api.files.get(path.rsplit("/", 1)[-1])
                    if content is None:
                        return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return self._send_bytes(content)
                prefix = f"/bot{api.token}/"
                if not path.startswith(prefix):
                    return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                method = path[len(prefix):]
                params = api._parse(body, self.headers.get("Content-Type", ""))
                if api.record_calls:
                    with api.lock:
                        api.calls.append((method, params))
                if api.latency:
                    time.sleep(api.latency)
                status, result = api.answer(method, params)
                self._send(status, {"ok": True, "result": result} if status == 200 else result)

            do_GET = do_POST

            def _send_bytes(self, content: bytes):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _send(self, status, data):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _parse(body: bytes, content_type: str) -> dict:
        if not body:
            return {}
        if "json" in content_type:
            return json.loads(body)
        params = {}
        for key, values in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items():
            value = values[0]
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def push(self, update: dict) -> int:
        """Queue an update; returns the ``update_id`` it was given."""
        with self.lock:
            update = dict(update, update_id=self._next_id)
            self._next_id += 1
            self.updates.append(update)
            return update["update_id"]

    def push_raw(self, update: dict) -> None:
        """Queue an update exactly as given (it must carry its ``update_id``)."""
        with self.lock:
            self.updates.append(dict(update))
            self._next_id = max(self._next_id, int(update["update_id"]) + 1)

    @property
    def confirmed_offset(self) -> int:
        """The highest offset the bot has asked for: every update below it is confirmed."""
        with self.lock:
            return max(self.offsets, default=0)

    def answer(self, method: str, params: dict):
        if method == "getMe":
            return 200, {"id": 4242, "is_bot": True, "first_name": "LDN", "username": self.username,
                         "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            limit = max(1, min(100, int(params.get("limit") or 100)))
            with self.lock:
                self.offsets.append(offset)
            timeout = float(params.get("timeout") or 0)  # 0: short polling, answered at once
            deadline = time.monotonic() + min(self.poll_seconds, timeout)
            while True:
                with self.lock:
                    ready = [u for u in self.updates if u["update_id"] >= offset][:limit]
                if ready or time.monotonic() >= deadline:
                    return 200, ready
                time.sleep(0.02)
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            refused = self._over_limit(chat_id)
            if refused is not None:
                return 429, {"ok": False, "error_code": 429,
                             "description": f"Too Many Requests: retry after {refused}",
                             "parameters": {"retry_after": refused}}
            with self.lock:
                self.accepted.append((time.monotonic(), chat_id, str(params.get("text", ""))))
                message_id = len(self.accepted)
            chat = ({"id": chat_id, "type": "private", "first_name": "U"} if chat_id > 0
                    else {"id": chat_id, "type": "supergroup", "title": "G"})
            return 200, {"message_id": message_id, "date": int(time.time()), "chat": chat,
                         "from": {"id": 4242, "is_bot": True, "first_name": "LDN", "username": self.username},
                         "text": params.get("text", "")}
        if method == "getFile":
            file_id = str(params.get("file_id"))
            content = self.files.get(file_id)
            if content is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return 200, {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(content),
                         "file_path": f"documents/{file_id}"}
        return 200, True

    def _over_limit(self, chat_id: int) -> int | None:
        """``retry_after`` (whole seconds, at least 1) if this message breaks a limit, else ``None``."""
        limits = self.limits
        if limits is None:
            return None
        with self.lock:
            now = time.monotonic()
            self._tokens = min(limits.burst, self._tokens + (now - self._refilled) * limits.overall_per_second)
            self._refilled = now
            wait = 0.0
            if self._tokens < 1:
                wait = (1 - self._tokens) / limits.overall_per_second
            elif chat_id > 0:
                last = self._last_private.get(chat_id)
                if last is not None and now - last < limits.per_private_chat_seconds:
                    wait = limits.per_private_chat_seconds - (now - last)
            else:
                times = [t for t in self._group_times.get(chat_id, []) if now - t < 60]
                self._group_times[chat_id] = times
                if len(times) >= limits.per_group_per_minute:
                    wait = 60 - (now - times[0])
            if wait > 0:
                self.refused_429 += 1
                return max(1, math.ceil(wait))
            self._tokens -= 1
            if chat_id > 0:
                self._last_private[chat_id] = now
            else:
                self._group_times[chat_id].append(now)
            return None

    def sends(self) -> list[dict]:
        """The parameters of every message the bot sent (sendMessage and copyMessage), in order
        (a request cut off before its body arrived, as when the sender is killed, is not one)."""
        with self.lock:
            return [p for m, p in self.calls if m in ("sendMessage", "copyMessage") and "chat_id" in p]

    def sent(self, method: str) -> list[dict]:
        with self.lock:
            return [p for m, p in self.calls if m == method]
