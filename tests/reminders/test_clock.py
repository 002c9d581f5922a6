"""LDN_NOW starts the bot's clock at an instant of the programme and lets it run forward from there."""
from __future__ import annotations

import bot.clock
from bot.clock import ShiftedClock
from bot.config import load_config
from tests.reminders.util import messages, person, start_app, stop_app, tick


async def test_ldn_now_puts_the_bot_in_may_2016(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text(f"storage:\n  path: {tmp_path / 'now.db'}\nroles:\n  secretariat: [900]\n", encoding="utf-8")
    monkeypatch.setenv("LDN_NOW", "2016-05-25T05:59:00Z")   # one minute before Konya's 3-day reminder
    seconds = [1000.0]
    monkeypatch.setattr(bot.clock.time, "monotonic", lambda: seconds[0])  # real time, under the test's control
    config = load_config(tmp_path / "config.yaml")
    assert config.now_override == "2016-05-25T05:59:00Z"
    clock = bot.clock.clock_from_env(config.now_override)
    assert isinstance(clock, ShiftedClock)
    env = await start_app(config, clock)
    try:
        await person(env, 501, "KEN")
        await tick(env)
        assert not messages(env)
        seconds[0] += 61                                    # a minute of real time passes: the clock follows
        assert clock.now().isoformat() == "2016-05-25T06:00:01+00:00"
        await tick(env)
        assert "in 3 days" in messages(env, 501)[0].text
    finally:
        await stop_app(env)
