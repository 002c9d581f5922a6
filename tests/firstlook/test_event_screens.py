"""/event add: no arguments is a question of how, not a list of validator faults; the preview's
reminder line and recipient count read right."""
from __future__ import annotations

import pytest

from knowledge.vocabulary import LANGS
from tests.util import SECRETARIAT, one_text


@pytest.mark.parametrize("lang", LANGS)
async def test_event_add_alone_shows_how_to_write_one(env, lang):
    await env.press(f"v1:lang:{lang}", user_id=SECRETARIAT)
    text = one_text(await env.send("/event add", user_id=SECRETARIAT, language_code=lang))
    assert "/event add id=ken-nws" in text
    assert "None" not in text and "?:" not in text and "''" not in text
    assert text == env.services.t(lang, "ev.usage")


async def test_preview_of_an_event_for_one_country_in_the_past_window(env):
    env.clock.set("2016-09-11T12:00:00Z")  # the day before: the 7-day reminder is already past
    await env.make_focal_point(501, "KEN")
    text = one_text(await env.send('/event add id=ken-nws kind=workshop start=2016-09-12T09:00 end=2016-09-13T17:00 '
                                   'tz=Africa/Nairobi audience=KEN title="National LDN workshop" offsets=7d',
                                   user_id=SECRETARIAT))
    assert "1 recipient today" in text and "1 recipients" not in text
    assert "No reminders: every reminder time is already past" in text and "Reminders: —" not in text
