"""The ``mail:`` settings and their secrets from the environment; ``ldn-bot check`` and
``ldn-bot mail test`` against a real SMTP server."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.mail.config import mail_config, problems
from tests.mail.util import body

ROOT = Path(__file__).resolve().parents[2]


def test_urls_ports_and_secrets_come_from_the_environment():
    cfg = mail_config({"from": "Helpdesk@LDN.example.org", "max_message_mb": 2}, {
        "LDN_SMTP_URL": "smtp://bot%40ldn@mail.example.org:587", "LDN_SMTP_PASSWORD": "s3cret",
        "LDN_MAIL_LISTEN": "127.0.0.1:2525", "LDN_IMAP_URL": "imaps://helpdesk@imap.example.org/INBOX",
        "LDN_IMAP_PASSWORD": "other"})
    assert cfg.address == "helpdesk@ldn.example.org" and cfg.max_message_bytes == 2 * 1024 * 1024
    assert (cfg.smtp.scheme, cfg.smtp.host, cfg.smtp.port, cfg.smtp.user, cfg.smtp.password) == (
        "smtp", "mail.example.org", 587, "bot@ldn", "s3cret")
    assert not cfg.smtp.implicit_tls and "s3cret" not in repr(cfg)
    assert (cfg.listen.host, cfg.listen.port, cfg.listen.scheme) == ("127.0.0.1", 2525, "smtp")
    assert (cfg.imap.host, cfg.imap.port, cfg.imap.path, cfg.imap.implicit_tls) == ("imap.example.org", 993, "INBOX", True)
    assert mail_config({"from": "h@x.org"}, {"LDN_SMTP_URL": "smtps://h@x.org"}).smtp.port == 465
    assert mail_config({"from": "h@x.org"}, {"LDN_SMTP_URL": "smtp://x.org", "LDN_MAIL_LISTEN": "lmtp://0.0.0.0:24"}).listen.scheme == "lmtp"
    assert not mail_config({}, {}).enabled


@pytest.mark.parametrize("section, env, says", [
    ({"from": "not an address"}, {}, "mail.from"),
    ({}, {"LDN_SMTP_URL": "smtp://mail.example.org"}, "mail.from"),
    ({"from": "h@x.org"}, {"LDN_SMTP_URL": "http://mail.example.org"}, "smtp:// or smtps://"),
    ({"from": "h@x.org"}, {"LDN_SMTP_URL": "smtp://u:pw@mail.example.org"}, "LDN_SMTP_PASSWORD"),
    ({"from": "h@x.org"}, {"LDN_SMTP_URL": "smtp://m.org", "LDN_MAIL_LISTEN": "2525"}, "HOST:PORT"),
    ({"from": "h@x.org"}, {"LDN_MAIL_LISTEN": "127.0.0.1:2525"}, "needs LDN_SMTP_URL"),
    ({"from": "h@x.org"}, {"LDN_SMTP_URL": "smtp://m.org", "LDN_IMAP_URL": "imaps://imap.x.org/INBOX"}, "mailbox user"),
    ({"from": "h@x.org", "max_message_mb": 0}, {}, "max_message_mb"),
])
def test_bad_settings_are_named(section, env, says):
    found = problems(section, env)
    assert found and says in found[0]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LDN_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    for name in ("LDN_SMTP_URL", "LDN_SMTP_PASSWORD", "LDN_MAIL_LISTEN", "LDN_IMAP_URL", "LDN_IMAP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ROOT)
    return monkeypatch


def test_check_validates_the_mail_variables(cli_env, capsys):
    cli_env.setenv("LDN_SMTP_URL", "ftp://mail.example.org")
    assert main(["check"]) == 1
    assert "LDN_SMTP_URL must start with smtp:// or smtps://" in capsys.readouterr().err
    cli_env.setenv("LDN_SMTP_URL", "smtp://127.0.0.1:2525")
    cli_env.setenv("LDN_CFG__MAIL__FROM", "helpdesk@ldn.example.org")
    assert main(["check"]) == 0


def test_mail_test_sends_a_message_and_prints_what_the_server_said(cli_env, capsys, outbox):
    cli_env.setenv("LDN_SMTP_URL", f"smtp://127.0.0.1:{outbox.port}")
    cli_env.setenv("LDN_CFG__MAIL__FROM", "helpdesk@ldn.example.org")
    assert main(["mail", "test", "ops@ldn.example.org", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "accepted: 250 2.0.0 Ok: queued as TEST" in out
    msg = outbox.last("ops@ldn.example.org")
    assert "helpdesk@ldn.example.org" in msg["From"] and "message de test" in body(msg)
    outbox.fail_next("554 5.7.1 Relay access denied")
    assert main(["mail", "test", "ops@ldn.example.org"]) == 1
    assert "refused: 554 5.7.1 Relay access denied" in capsys.readouterr().out


def test_mail_test_without_settings_says_what_to_set(cli_env, capsys):
    assert main(["mail", "test", "ops@ldn.example.org"]) == 1
    assert "LDN_SMTP_URL" in capsys.readouterr().err
