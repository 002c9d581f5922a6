"""Group rows, circles, reminder recipients, migration and the directory, on a real database."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.groups import change, default_settings, groups_for_countries
from knowledge.countries import load_countries
from storage import groups as store
from storage import users
from storage.db import migrate, open_db

NOW = dt.datetime(2016, 5, 20, 8, 0, tzinfo=dt.timezone.utc)
REGISTRY = load_countries()


@pytest.fixture
def db():
    database = open_db(None)
    migrate(database, NOW)
    return database


def link(db, chat_id, circle_text, **kwargs):
    store.record_group(db, chat_id, title=f"g{chat_id}", chat_type="supergroup", lang=kwargs.get("lang", "en"),
                       added_by=1, now=NOW)
    circle, countries = REGISTRY.resolve_circle(circle_text)
    store.set_circle(db, chat_id, circle, countries, 900, NOW)


def test_groups_for_countries_follow_circle_activity_mute_and_kinds(db):
    link(db, -1, "Africa", lang="fr")
    link(db, -2, "asia")
    link(db, -3, "KEN")
    store.record_group(db, -4, title="unlinked", chat_type="group", lang="en", added_by=1, now=NOW)
    ids = lambda rows: [r["chat_id"] for r in rows]  # noqa: E731
    assert ids(groups_for_countries(db, ["KEN"], "workshops")) == [-3, -1]
    assert groups_for_countries(db, ["KEN"], "workshops")[1]["lang"] == "fr"
    assert ids(groups_for_countries(db, ["CHN"], "broadcast")) == [-2]
    assert ids(groups_for_countries(db, ["FRA_NOT_IN_PROGRAMME"], "broadcast")) == []
    assert groups_for_countries(db, [], "broadcast") == []
    store.set_settings(db, -1, change(default_settings(), "reminders", "deadlines", False), NOW)
    assert ids(groups_for_countries(db, ["KEN"], "deadlines")) == [-3]
    assert ids(groups_for_countries(db, ["KEN"], "milestones")) == [-3, -1]
    store.set_muted(db, -3, True, NOW)
    assert ids(groups_for_countries(db, ["KEN"], "milestones")) == [-1]
    store.mark_group_inactive(db, -1, NOW)
    assert groups_for_countries(db, ["KEN"], "milestones") == []


def test_readding_keeps_settings_and_circle(db):
    link(db, -1, "pilots", lang="es")
    store.set_settings(db, -1, change(default_settings(), "features", "auto", True), NOW)
    store.mark_group_inactive(db, -1, NOW)
    row = store.record_group(db, -1, title="new title", chat_type="supergroup", lang="en", added_by=2, now=NOW)
    assert row["active"] == 1 and row["lang"] == "es" and row["circle"] == "pilots"
    assert row["settings"]["features"]["auto"] is True and row["title"] == "new title"
    store.mark_group_inactive(db, -1, NOW)
    assert store.touch_group(db, -1, title=None, chat_type="supergroup", lang=None, now=NOW)["active"] == 1
    assert store.get_group(db, -1)["title"] == "new title"  # hearing from a group means the bot is in it


def test_migration_moves_everything_and_is_idempotent(db):
    link(db, -5, "Africa", lang="ar")
    store.set_settings(db, -5, change(default_settings(), "reminders", "broadcast", False), NOW)
    new = store.migrate_group(db, -5, -1005, NOW)
    assert new["chat_id"] == -1005 and new["lang"] == "ar" and new["circle"] == "annex:I"
    assert new["settings"]["reminders"]["broadcast"] is False and new["migrated_from"] == -5
    assert store.get_group(db, -5) is None
    again = store.migrate_group(db, -5, -1005, NOW)
    assert again["circle"] == "annex:I"
    assert [r["chat_id"] for r in groups_for_countries(db, ["KEN"], "workshops")] == [-1005]


def test_migration_when_the_new_chat_was_recorded_first(db):
    link(db, -6, "asia", lang="zh")
    store.record_group(db, -1006, title="fresh", chat_type="supergroup", lang="en", added_by=3, now=NOW)
    new = store.migrate_group(db, -6, -1006, NOW)
    assert (new["lang"], new["circle"]) == ("zh", "annex:II")
    assert store.get_group(db, -6) is None


def test_directory_lists_only_opted_in_focal_points_with_usernames(db):
    for user_id, username, country in [(1, "ken_fp", "KEN"), (2, None, "SEN"), (3, "eth_fp", "ETH"), (4, "chn_fp", "CHN")]:
        users.touch_user(db, user_id, "X", username, NOW)
        users.set_role(db, user_id, "focal_point", country, NOW, 900, "cli")
    users.touch_user(db, 5, "Guest", "guest_user", NOW)
    for user_id in (1, 2, 4, 5):
        store.set_directory(db, user_id, True, NOW)
    africa = REGISTRY.resolve_circle("Africa")[1]
    assert [r["username"] for r in store.listed_peers(db, africa)] == ["ken_fp"]  # 2 has no username, 3 did not opt in
    assert store.listed_peers(db, africa, exclude_user=1) == []
    store.set_directory(db, 1, False, NOW)
    assert store.listed_peers(db, africa) == []
    assert store.is_listed(db, 4) and not store.is_listed(db, 3)
