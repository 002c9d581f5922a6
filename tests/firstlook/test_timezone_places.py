"""/timezone by city or country name in the six languages; a shared name offers buttons;
the person's own country's zone is a button."""
from __future__ import annotations

import pytest

from bot.reminders.zones import city_index
from knowledge.vocabulary import LANGS
from tests.util import FOCAL_KEN, GUEST, one_text

UID = 4242


def zone_of(env, user_id):
    return env.db.execute("SELECT timezone FROM users WHERE user_id = ?", [user_id]).fetchone()[0]


@pytest.mark.parametrize("lang,typed,zone", [
    ("en", "Beijing", "Asia/Shanghai"), ("zh", "北京", "Asia/Shanghai"), ("ru", "Пекин", "Asia/Shanghai"),
    ("ar", "بكين", "Asia/Shanghai"), ("ru", "Москва", "Europe/Moscow"), ("en", "Nairobi", "Africa/Nairobi"),
    ("fr", "Sénégal", "Africa/Dakar"), ("es", "perú", "America/Lima"), ("zh", "中国", "Asia/Shanghai"),
    ("fr", "addis abeba", "Africa/Addis_Ababa"), ("en", "Asia/Kathmandu", "Asia/Kathmandu"),
])
async def test_city_or_country_in_any_script(env, lang, typed, zone):
    await env.press(f"v1:lang:{lang}", user_id=UID, language_code=lang)
    text = one_text(await env.send(f"/timezone {typed}", user_id=UID, language_code=lang))
    assert zone in text and "✅" in text
    assert zone_of(env, UID) == zone


@pytest.mark.parametrize("lang", LANGS)
async def test_a_shared_name_offers_one_button_per_zone(env, lang):
    await env.press(f"v1:lang:{lang}", user_id=UID, language_code=lang)
    tripoli = {"en": "Tripoli", "fr": "Tripoli", "es": "Trípoli", "ru": "Триполи", "ar": "طرابلس", "zh": "的黎波里"}[lang]
    calls = await env.send(f"/timezone {tripoli}", user_id=UID, language_code=lang)
    buttons = [b for c in calls for b in c.buttons]
    assert [b["callback_data"] for b in buttons] == ["v1:rem:tz:Africa/Tripoli", "v1:rem:tz:Asia/Beirut"]
    assert all(len(b["text"]) <= 64 and tripoli in b["text"] for b in buttons)
    assert zone_of(env, UID) is None  # nothing chosen yet
    text = one_text(await env.press("v1:rem:tz:Asia/Beirut", user_id=UID, language_code=lang))
    assert "Asia/Beirut" in text and zone_of(env, UID) == "Asia/Beirut"


async def test_the_country_zone_is_a_button_and_forged_zones_are_refused(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.send("/timezone Europe/Paris", user_id=FOCAL_KEN)
    calls = await env.send("/timezone", user_id=FOCAL_KEN)
    assert [b["callback_data"] for c in calls for b in c.buttons] == ["v1:rem:tz:Africa/Nairobi"]
    calls = await env.send("/timezone Atlantis", user_id=FOCAL_KEN)
    assert "Atlantis" in one_text(calls) and [b["callback_data"] for c in calls for b in c.buttons] == ["v1:rem:tz:Africa/Nairobi"]
    await env.press("v1:rem:tz:Africa/Nairobi", user_id=FOCAL_KEN)
    assert zone_of(env, FOCAL_KEN) == "Africa/Nairobi"
    calls = await env.press("v1:rem:tz:Mars/Olympus", user_id=GUEST)
    assert any(c.method == "answerCallbackQuery" for c in calls) and zone_of(env, GUEST) is None


def test_every_city_has_a_real_zone_and_six_names():
    from zoneinfo import ZoneInfo

    for places in city_index().values():
        for place in places:
            ZoneInfo(place.zone)
            assert set(place.names) == set(LANGS), place
