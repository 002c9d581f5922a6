# ldn-bot: the LDN TSP Telegram bot. Small image, runs as a non-root user, database on a volume.
#
#   docker build -t ldn-bot .
#   docker run -d --name ldn-bot --restart unless-stopped \
#     -e TELEGRAM_BOT_TOKEN=123456:ABC... -e LDN_SECRETARIAT_IDS=11111111 \
#     -v ldn-data:/data ldn-bot
#
# Webhook mode: add  -e LDN_WEBHOOK_SECRET=... -e LDN_CFG__TELEGRAM__WEBHOOK__URL=https://bot.example.org/telegram
# -p 127.0.0.1:8443:8443  and the command  run --webhook  (TLS is terminated by a reverse proxy in front).
# A config file: -v /etc/ldn-bot/config.yaml:/config/config.yaml:ro  and  run --config /config/config.yaml
# Operator commands run in the same container: docker exec ldn-bot ldn-bot status | backup | export ...
# Dashboard (read-only Datasette): add  -p 127.0.0.1:8001:8001  to docker run, then
#   docker exec -d -e LDN_DASHBOARD_PASSWORD_HASH='pbkdf2_sha256$...' ldn-bot ldn-bot dashboard --host 0.0.0.0
# (inside the container 0.0.0.0 is needed for the published port; it refuses to start without the hash;
#  make one with: docker exec -it ldn-bot datasette hash-password)

# PYTHON_IMAGE: any Debian-based image with CPython 3.11+ as python3 and its venv module: a registry
# mirror's copy of python:3.11-slim, say (docker build --build-arg PYTHON_IMAGE=mirror.example.org/python:3.11-slim .),
# or a plain Debian bookworm with the python3.11 and python3-venv packages (what .ci/docker-check builds).
# The bot lives in the virtual environment /opt/ldn-bot, made from the base image's python3.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
# PIP_INDEX_URL: the package index pip installs from (a build argument of this stage only, so a machine
# behind a mirror can pass its own; it is not recorded in the final image)
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY knowledge ./knowledge
# the webhooks extra adds tornado (PTB's webhook server); the dashboard extra adds Datasette, its login
# (datasette-auth-passwords) and chart (datasette-dashboards) plugins for `ldn-bot dashboard`
RUN python3 -m venv /opt/ldn-bot && /opt/ldn-bot/bin/pip install ".[webhooks,dashboard]"

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LDN_DB=/data/ldn.db \
    PATH=/opt/ldn-bot/bin:$PATH
# a CJK font for the Chinese labels of the /progress charts (matplotlib's own fonts have no CJK glyphs)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin ldn \
 && mkdir -p /data && chown ldn:ldn /data && chmod 700 /data
COPY --from=build /opt/ldn-bot /opt/ldn-bot
WORKDIR /data
USER ldn
# the database (ldn.db, its -wal/-shm and .lock files) and the daily backups (/data/backups)
VOLUME ["/data"]
# webhook mode only (telegram.webhook.port); 8001: `ldn-bot dashboard --host 0.0.0.0`
EXPOSE 8443 8001
# healthy while the bot runs with a fresh heartbeat (it writes one every minute)
HEALTHCHECK --interval=2m --timeout=20s --start-period=2m --retries=3 CMD ["ldn-bot", "status", "--check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["ldn-bot"]
CMD ["run"]
