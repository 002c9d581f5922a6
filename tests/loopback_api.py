"""A small Bot API server on 127.0.0.1 for tests that run the real ``ldn-bot run`` process."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackBotAPI:
    """Serves getMe/getUpdates/sendMessage…; queue updates with :meth:`push`; read :attr:`calls`."""

    def __init__(self, token: str, username: str = "ldn_loop_bot"):
        self.token, self.username = token, username
        self.calls: list[tuple[str, dict]] = []
        self.updates: list[dict] = []
        self.lock = threading.Lock()
        self._next_id = 1
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                prefix = f"/bot{api.token}/"
                if not path.startswith(prefix):
                    return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                method = path[len(prefix):]
                params = api._parse(body, self.headers.get("Content-Type", ""))
                with api.lock:
                    api.calls.append((method, params))
                status, result = api.answer(method, params)
                self._send(status, {"ok": True, "result": result} if status == 200 else result)

            do_GET = do_POST

            def _send(self, status, data):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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

    def push(self, update: dict) -> None:
        with self.lock:
            update = dict(update, update_id=self._next_id)
            self._next_id += 1
            self.updates.append(update)

    def answer(self, method: str, params: dict):
        if method == "getMe":
            return 200, {"id": 4242, "is_bot": True, "first_name": "LDN", "username": self.username,
                         "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                with self.lock:
                    ready = [u for u in self.updates if u["update_id"] >= offset]
                if ready:
                    return 200, ready
                time.sleep(0.05)
            return 200, []
        if method == "sendMessage":
            return 200, {"message_id": len(self.calls), "date": int(time.time()),
                         "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "U"},
                         "from": {"id": 4242, "is_bot": True, "first_name": "LDN", "username": self.username},
                         "text": params.get("text", "")}
        return 200, True

    def sends(self) -> list[dict]:
        """The parameters of every message the bot sent (sendMessage and copyMessage), in order
        (a request cut off before its body arrived, as when the sender is killed, is not one)."""
        with self.lock:
            return [p for m, p in self.calls if m in ("sendMessage", "copyMessage") and "chat_id" in p]

    def sent(self, method: str) -> list[dict]:
        with self.lock:
            return [p for m, p in self.calls if m == method]
