"""``ldn-bot user block|unblock ID`` beside the bot, and the intake's settings in ``ldn-bot check``."""
from __future__ import annotations

import pytest

from bot import intake
from bot.cli import main
from tests.util import FOCAL_KEN, texts


async def test_user_block_and_unblock_on_the_command_line_with_event_rows(bot, monkeypatch, capsys):
    monkeypatch.setenv("LDN_DB", bot.config.db_path)
    assert main(["user", "block", str(FOCAL_KEN)]) == 0
    assert "blocked" in capsys.readouterr().out
    assert main(["user", "block", str(FOCAL_KEN)]) == 0 and "already" in capsys.readouterr().out
    bot.env.services.blocked_read_at = 0.0  # the running bot reads the blocked ids every 30 s
    calls = await bot.send("/ask Please answer quickly")
    assert [x for x in texts(calls, FOCAL_KEN)] == [bot.env.services.t("en", "intake.blocked")]
    assert bot.last_query_id() is None
    calls = await bot.press("v1:lang:fr")
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [bot.env.services.t("en", "intake.blocked")]
    assert main(["user", "unblock", str(FOCAL_KEN)]) == 0 and "unblocked" in capsys.readouterr().out
    bot.env.services.blocked_read_at = 0.0
    await bot.send("/ask Please answer quickly")
    assert bot.last_query_id() == 1
    rows = bot.db.execute("SELECT action, how, by_user FROM block_events WHERE user_id = ? ORDER BY id", [FOCAL_KEN]).fetchall()
    assert rows == [("block", "cli", None), ("unblock", "cli", None)]


@pytest.mark.parametrize("section, problem", [({"visitors": "everyone"}, "helpdesk.visitors"),
                                              ({"daily_query_limit": 0}, "daily_query_limit"),
                                              ({"daily_query_limit": "ten"}, "daily_query_limit")])
def test_bad_intake_settings_are_refused(section, problem):
    with pytest.raises(ValueError, match=problem):
        intake.settings_from(section)


def test_intake_settings_defaults():
    settings = intake.settings_from({})
    assert settings.visitors is intake.Visitors.REGISTER and settings.daily_query_limit == 10
    assert intake.settings_from({"visitors": "ASK"}).visitors is intake.Visitors.ASK
