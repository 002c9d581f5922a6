"""/privacy and /status read as finished screens: no "—" where the bot does know, no "-" placeholders."""
from __future__ import annotations

import re

import pytest

from knowledge.vocabulary import LANGS
from tests.util import FOCAL_KEN, GUEST, SECRETARIAT, one_text


async def test_privacy_says_which_language_and_zone_are_used_before_any_choice(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    text = one_text(await env.send("/privacy", user_id=FOCAL_KEN))
    assert "Language: English (from your Telegram settings; /language to choose)" in text
    assert "time zone: Africa/Nairobi (your country's; /timezone to choose)" in text
    whoami = one_text(await env.send("/whoami", user_id=FOCAL_KEN))
    assert "English" in whoami and "Africa/Nairobi" in whoami
    text = one_text(await env.send("/privacy", user_id=GUEST, language_code="fr"))
    assert "Langue : Français (selon vos réglages Telegram" in text and "UTC (non choisi" in text


async def test_privacy_after_choices_shows_them_plainly(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press("v1:lang:es", user_id=FOCAL_KEN)
    await env.send("/timezone Europe/Madrid", user_id=FOCAL_KEN, language_code="es")
    text = one_text(await env.send("/privacy", user_id=FOCAL_KEN, language_code="es"))
    assert "Idioma: Español · zona horaria: Europe/Madrid\n" in text


@pytest.mark.parametrize("lang", LANGS)
async def test_status_has_no_placeholder(env, lang):
    await env.press(f"v1:lang:{lang}", user_id=SECRETARIAT)
    env.clock.advance(minutes=5)
    text = one_text(await env.send("/status", user_id=SECRETARIAT, language_code=lang))
    assert not re.search(r"(?<![\w/])-(?![\w/])", text.replace("ldn-bot", "")), text
    assert "None" not in text
    never = {"en": "never", "fr": "jamais", "es": "nunca", "ru": "ни разу", "ar": "لم يحدث بعد", "zh": "从未"}[lang]
    assert never in text  # no backup yet
