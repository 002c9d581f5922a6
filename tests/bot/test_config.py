"""Configuration: defaults, environment overrides, validation with file:line."""
from __future__ import annotations

import pytest

from bot.config import DEFAULT_API_BASE_URL, load_config
from knowledge.yamlfile import DataError


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={})
    assert cfg.api_base_url == DEFAULT_API_BASE_URL
    assert cfg.api_file_url == "https://api.telegram.org/file/bot"
    assert cfg.token is None and cfg.db_path == "data/ldn.db"


def test_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("storage:\n  path: from-file.db\nhelpdesk:\n  expert_chat_id: -1\n")
    env = {"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
           "LDN_DB": "/tmp/x.db", "LDN_EXPERT_CHAT_ID": "-100123", "LDN_NOW": "2016-05-20T08:00:00Z",
           "LDN_SECRETARIAT_IDS": "5, 6", "LDN_CFG__REMINDERS__GRACE": "2h"}
    cfg = load_config(path, env=env)
    assert cfg.token == "1:abc"
    assert cfg.api_base_url == "http://127.0.0.1:8081/bot"
    assert cfg.api_file_url == "http://127.0.0.1:8081/file/bot"
    assert cfg.db_path == "/tmp/x.db"
    assert cfg.expert_chat_id == -100123
    assert cfg.secretariat_ids == (5, 6)
    assert cfg.section("reminders")["grace"] == "2h"
    assert cfg.now_override == "2016-05-20T08:00:00Z"
    assert "1:abc" not in repr(cfg)


def test_invalid_settings_are_reported_with_their_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("telegram:\n  api_base_url: ftp://nope\n  token: 123:secret\ni18n:\n  default_language: pt\n")
    with pytest.raises(DataError) as info:
        load_config(path, env={})
    lines = [str(p) for p in info.value.problems]
    assert f"{path}:2: telegram.api_base_url must start with http:// or https://" in lines
    assert any(line.startswith(f"{path}:3:") and "TELEGRAM_BOT_TOKEN" in line for line in lines)
    assert any(line.startswith(f"{path}:5:") for line in lines)


def test_malformed_yaml_is_a_data_error_with_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("telegram:\n  api_base_url: [unclosed\nroles: {}\n")
    with pytest.raises(DataError) as info:
        load_config(path, env={})
    assert str(info.value.problems[0]).startswith(f"{path}:")
