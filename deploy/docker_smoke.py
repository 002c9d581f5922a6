"""Smoke test of the Docker image, where a Docker engine runs (CI: .ci/docker-check builds the image and runs this).

    docker build -t ldn-bot .          # or --build-arg PYTHON_IMAGE=<a mirror's python:3.11-slim>
    .venv/bin/python deploy/docker_smoke.py [--image ldn-bot]

It starts the project's loopback Bot API server on this machine, runs the image against it with
``--network host`` and checks, printing one line per step:

1. the container answers /start through the Bot API (the bot really runs, database on the volume);
2. ``docker exec … ldn-bot status`` works beside the running bot;
3. ``docker exec … ldn-bot dashboard --host 0.0.0.0`` refuses to start without
   LDN_DASHBOARD_PASSWORD_HASH, and with it serves a login page, the read-only database and no download;
4. ``docker stop`` (SIGTERM) ends the bot with exit code 0, and the token never appears in its logs.

Exit code 0 when every step passed.
"""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.loopback_api import LoopbackBotAPI  # noqa: E402 - after the path is set
from tests.util import start_update  # noqa: E402

TOKEN = "424242:SMOKE-token-never-printed"
NAME = "ldn-bot-smoke"


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 to the login page is what we check for
        return None


def wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise SystemExit(f"FAIL: {what} within {seconds:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="ldn-bot")
    args = parser.parse_args()
    docker("rm", "-f", NAME, check=False)
    docker("volume", "rm", "-f", f"{NAME}-data", check=False)
    with LoopbackBotAPI(TOKEN) as api:
        api.push(start_update())
        docker("run", "-d", "--name", NAME, "--network", "host", "-e", f"TELEGRAM_BOT_TOKEN={TOKEN}",
               "-e", f"TELEGRAM_API_BASE_URL={api.base_url}", "-v", f"{NAME}-data:/data", args.image)
        try:
            wait(lambda: bool(api.sent("sendMessage")), 90, "an answer to /start")
            print(f"ok 1: /start answered from the container: {api.sent('sendMessage')[0]['text'][:60]!r}…")

            status = docker("exec", NAME, "ldn-bot", "status")
            print("ok 2: docker exec ldn-bot status:", status.stdout.strip().splitlines()[0])

            port = free_port()
            refused = docker("exec", NAME, "ldn-bot", "dashboard", "--host", "0.0.0.0", "--port", str(port),
                             check=False, timeout=60)
            assert refused.returncode != 0 and "LDN_DASHBOARD_PASSWORD_HASH" in refused.stderr + refused.stdout, \
                refused
            hashed = docker("exec", NAME, "python", "-c",
                            "from datasette_auth_passwords.utils import hash_password; print(hash_password('smoke'))")
            docker("exec", "-d", "-e", f"LDN_DASHBOARD_PASSWORD_HASH={hashed.stdout.strip()}", NAME,
                   "ldn-bot", "dashboard", "--host", "0.0.0.0", "--port", str(port))
            base = f"http://127.0.0.1:{port}"

            def serving() -> bool:
                try:
                    return http_status(base + "/-/login")[0] == 200
                except OSError:
                    return False

            wait(serving, 60, "the dashboard's login page")
            home = http_status(base + "/")
            download = http_status(base + "/ldn.db")
            assert home == (302, "/-/login"), home
            assert download[0] in (302, 403, 404), download
            print(f"ok 3: dashboard refused without a password; with one: / -> {home[0]} {home[1]}, "
                  f"/ldn.db -> {download[0]}")
        finally:
            stopped = docker("stop", "-t", "30", NAME, check=False)
            code = docker("inspect", "-f", "{{.State.ExitCode}}", NAME, check=False).stdout.strip()
            logs = docker("logs", NAME, check=False)
            docker("rm", "-f", NAME, check=False)
            docker("volume", "rm", "-f", f"{NAME}-data", check=False)
    output = logs.stdout + logs.stderr
    assert stopped.returncode == 0 and code == "0", (stopped.stderr, code, output[-2000:])
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    last = [line for line in output.splitlines() if line.strip()][-1:]
    print(f"ok 4: docker stop -> exit code {code}; token absent from {len(output.splitlines())} log lines; "
          f"last: {json.dumps(last[0][:120]) if last else '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
