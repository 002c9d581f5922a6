"""The group rules as plain Python: permissions, settings, circles, question-likeness, rate limits."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import groups as rules
from knowledge.countries import load_countries

NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text", [
    "How do I set the baseline", "what is LDN", "Is there a deadline for the report", "baseline period?",
    "Qu'est-ce que la NDT", "Comment fixer la cible", "où est l'atelier", "¿Cuál es el plazo",
    "cómo se fija la línea de base", "Что такое НБДЗ", "Как установить исходный уровень",
    "ما هو تحييد أثر تدهور الأراضي", "كيف أحدد خط الأساس", "أين الورشة", "هل هناك موعد نهائي",
    "什么是土地退化零增长", "基线怎么设定", "有截止日期吗", "Ist das so？", "متى الاجتماع؟",
])
def test_questions_in_six_languages(text):
    assert rules.is_question_like(text)


@pytest.mark.parametrize("text", [
    "", "   ", "Thanks everyone, see you in Konya", "Merci à tous", "Gracias por la información",
    "Спасибо всем", "شكرا جزيلا", "谢谢大家", "The report is attached.", "👍",
])
def test_chatter_is_not_a_question(text):
    assert not rules.is_question_like(text)


def test_mentions_are_found_and_stripped():
    assert rules.mentions("@LDN_TSP_BOT what is a baseline?", "ldn_tsp_bot")
    assert not rules.mentions("@ldn_tsp_bot2 hello", "ldn_tsp_bot")
    assert not rules.mentions("email me at x@y.org", "ldn_tsp_bot")
    assert rules.strip_mention("@ldn_tsp_bot, what is a baseline?", "ldn_tsp_bot") == "what is a baseline?"
    assert rules.strip_mention("what is a baseline @ldn_tsp_bot", "ldn_tsp_bot") == "what is a baseline"
    assert rules.strip_mention("@ldn_tsp_bot", "ldn_tsp_bot") == ""


def test_only_admins_and_the_secretariat_change_settings():
    assert rules.may_change_settings(is_secretariat=True, member_status="member")
    assert rules.may_change_settings(is_secretariat=False, member_status="administrator")
    assert rules.may_change_settings(is_secretariat=False, member_status="creator")
    assert rules.may_change_settings(is_secretariat=False, member_status=None, anonymous_admin=True)
    for status in ("member", "restricted", "left", "kicked", None):
        assert not rules.may_change_settings(is_secretariat=False, member_status=status)


def test_settings_changes_are_validated():
    settings = rules.default_settings()
    assert settings["features"] == {"faq": True, "ask": True, "auto": False}
    assert all(settings["reminders"][k] for k in rules.GROUP_POSTS)
    changed = rules.change(settings, "features", "auto", True)
    assert changed["features"]["auto"] is True and settings["features"]["auto"] is False
    assert rules.change(settings, "features", "root", True) is None
    assert rules.change(settings, "admins", "auto", True) is None
    assert rules.change(settings, "reminders", "workshops", "yes") is None
    assert rules.normalise_settings({"features": {"auto": "1", "faq": False, "evil": True}}) == {
        "features": {"faq": False, "ask": True, "auto": False}, "reminders": rules.DEFAULT_REMINDERS}
    assert rules.reminder_on({"reminders": {"workshops": False}}, "workshops") is False
    assert rules.reminder_on(None, "something-new") is True


def test_circles_and_regions():
    registry = load_countries()
    circle, countries = rules.resolve_circle(registry, "Africa")
    assert circle == "annex:I" and "KEN" in countries and "CHN" not in countries
    assert rules.resolve_circle(registry, "pilots")[0] == "pilots"
    assert rules.resolve_circle(registry, "ken") == ("KEN", ["KEN"])
    assert rules.resolve_circle(registry, "atlantis") is None
    assert rules.resolve_circle(registry, "") is None
    assert rules.region_of(registry, "KEN")[0] == "annex:I"
    assert rules.region_of(registry, None) is None


def decide(**kwargs):
    base = dict(enabled=True, privacy_off=True, text="how do I set the baseline?", top_score=0.95, runner_up=0.5,
                last_auto_at=None, now=NOW, minutes=10, threshold=0.75, margin=0.1)
    base.update(kwargs)
    return rules.auto_answer_decision(**base)


def test_auto_answer_needs_everything_and_is_rate_limited():
    assert decide().answer
    assert decide(enabled=False).reason == "disabled"
    assert decide(privacy_off=False).reason == "privacy_mode"
    assert decide(text="thanks all").reason == "not_a_question"
    assert decide(top_score=0.6).reason == "not_confident"  # above the FAQ threshold, below the stricter one
    assert decide(top_score=None).reason == "not_confident"
    assert decide(runner_up=0.9).reason == "ambiguous"
    assert decide(last_auto_at=NOW - dt.timedelta(minutes=9)).reason == "rate_limited"
    assert decide(last_auto_at=NOW - dt.timedelta(minutes=10)).answer
    assert decide(last_auto_at=NOW - dt.timedelta(minutes=3), minutes=2).answer


def test_what_privacy_mode_delivers():
    bot = "ldn_tsp_bot"
    assert rules.delivered_with_privacy_mode("/faq baseline", bot_username=bot)
    assert rules.delivered_with_privacy_mode("/faq@ldn_tsp_bot baseline", bot_username=bot)
    assert not rules.delivered_with_privacy_mode("/faq@other_bot baseline", bot_username=bot)
    assert rules.delivered_with_privacy_mode("@ldn_tsp_bot what is LDN?", bot_username=bot)
    assert rules.delivered_with_privacy_mode("thanks", bot_username=bot, reply_to_bot=True)
    assert not rules.delivered_with_privacy_mode("what is LDN?", bot_username=bot)


def test_send_slots_keep_twenty_per_minute_per_group():
    slots = rules.send_slots(45, NOW)
    assert slots[:20] == [NOW] * 20
    assert slots[20] == NOW + dt.timedelta(minutes=1) and slots[40] == NOW + dt.timedelta(minutes=2)
    for at in slots:
        assert sum(1 for other in slots if at - dt.timedelta(minutes=1) < other <= at) <= 20
    busy = [NOW - dt.timedelta(seconds=30)] * 20
    assert rules.send_slots(1, NOW, already_sent=busy) == [NOW + dt.timedelta(seconds=30)]
