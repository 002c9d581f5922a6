"""The vocabulary ties every code to what must follow it: a translation key in each of the
six languages, a group setting, a reminder category. Adding a state, a kind or a category
without its strings or settings fails here, not at run time."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import groups as group_rules
from bot.i18n import load_translator
from knowledge import vocabulary as v
from knowledge.events import load_events

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


@pytest.fixture(scope="module")
def i18n():
    return load_translator(KNOWLEDGE / "strings")


def test_languages_are_the_six_un_languages_with_names():
    assert v.LANGS == ("en", "fr", "es", "ru", "ar", "zh")
    assert set(v.LANG_NAMES) == set(v.LANGS)


@pytest.mark.parametrize("lang", v.LANGS)
def test_every_state_priority_kind_and_category_has_a_label(i18n, lang):
    keys = ([f"hd.state.{s}" for s in v.QueryState] + [f"hd.priority.{p}" for p in v.Priority]
            + [f"rem.kind.{k}" for k in v.EventKind] + [f"rem.cat.{c}" for c in v.ReminderCategory]
            + [f"groups.reminder.{p}" for p in v.GroupPost] + [f"groups.feature.{f}" for f in v.GroupFeature])
    missing = [k for k in keys if k not in i18n]
    assert missing == []
    for key in keys:
        assert i18n.t(lang, key).strip()


def test_every_event_kind_has_a_reminder_category_and_a_group_switch():
    assert set(v.EVENT_CATEGORY) == set(v.EventKind)
    assert set(v.EVENT_CATEGORY.values()) == set(v.ReminderCategory)
    assert set(v.ReminderCategory) <= set(v.GroupPost)
    defaults = group_rules.default_settings()
    assert set(defaults["reminders"]) == set(v.GroupPost)
    assert set(defaults["features"]) == set(v.GroupFeature)


def test_the_calendar_uses_only_known_event_kinds():
    events = load_events(KNOWLEDGE / "events.yaml")
    assert {e.kind for e in events.events} <= set(v.EventKind)


def test_state_groups_are_made_of_states():
    assert set(v.ACTIVE_STATES) < set(v.FOLLOWABLE_STATES) <= set(v.QueryState)
    assert set(v.UNANSWERED_STATES) <= set(v.ACTIVE_STATES)


def test_callback_data_round_trips_and_refuses_other_features_and_long_data():
    data = v.callback_data(v.Feature.HELPDESK, v.HelpdeskAction.ASSIGN, 12, "n")
    assert data == "v1:hd:as:12:n"
    assert v.parse_callback(data, v.Feature.HELPDESK) == ["as", "12", "n"]
    assert v.parse_callback(data, v.Feature.MILESTONES) is None
    assert v.parse_callback("v0:hd:as:12", v.Feature.HELPDESK) is None
    assert v.parse_callback(None, v.Feature.HELPDESK) is None
    with pytest.raises(ValueError):
        v.callback_data(v.Feature.FAQ, v.FaqAction.SHOW, "x" * 80)


def test_callback_codes_are_unique_within_each_feature():
    for enum in (v.HelpdeskAction, v.MilestoneAction, v.FaqAction, v.GroupAction, v.ReminderAction,
                 v.EventAction, v.BroadcastAction, v.OperationsAction, v.ChannelsAction, v.PersonalAction):
        values = [m.value for m in enum]
        assert len(values) == len(set(values)), enum
        assert all(":" not in value for value in values)
