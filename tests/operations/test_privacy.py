"""/privacy tells what is stored; /forgetme (and ``ldn-bot user forget``) leaves no personal field behind,
while the programme's records stay, anonymised."""
from __future__ import annotations

import json

import pytest

from bot import helpdesk as hd
from bot import invites
from bot import milestones as ms
from bot.cli import main
from handlers.common import cb
from storage import deliveries, privacy
from storage import faq as faq_store
from storage import groups as groups_store
from storage import helpdesk as hd_store
from storage import reminders as rem_store
from tests.helpdesk.util import bot_message
from tests.util import EXPERT, EXPERT_CHAT, GUEST, SECRETARIAT, one_text

UID = 987654321
NAME = "Zebulonia"
USERNAME = "zeb_ldn_test"
ME = {"user_id": UID, "first_name": NAME, "username": USERNAME}


async def live_a_little(env) -> int:
    """The person registers, asks, follows up, votes, edits the checklist... through the real bot where possible."""
    db, now = env.db, env.clock.now()
    token, _ = await env.services.store.run(invites.create_invite, "KEN", SECRETARIAT, now, 14)
    assert "Kenya" in one_text(await env.send(f"/start {token}", **ME))
    await env.send(f"/ask How does {NAME} report the SOC baseline for Kenya? Write to @{USERNAME}", **ME)
    qid = db.execute("SELECT max(id) FROM queries").fetchone()[0]
    card = hd_store.get_query(db, qid)["expert_message_id"]
    await env.send(f"Dear {NAME}, use the national soil map.", user_id=EXPERT, chat_id=EXPERT_CHAT, chat_type="supergroup",
                   reply_to=bot_message(card))
    await env.send(f"Thanks! {NAME} will check with the ministry.", **ME)
    hd_store.rating_asked(db, qid, UID, now)
    assert hd.rate(db, qid, UID, 4, now) == "ok"
    assert hd.comment(db, qid, UID, f"Very useful for {NAME}", now)
    await env.send(f"I am {NAME}, what about xyzzy plugh frobnicate quux?", **ME)  # the FAQ abstains: a miss
    entry = db.execute("SELECT id FROM faq_entries LIMIT 1").fetchone()[0]
    faq_store.record_feedback(db, entry, False, lang="en", user_id=UID, country="KEN", query=f"{NAME} asked this", now=now)
    template = ms.get_template(env.services)
    assert ms.set_status(db, template, env.services.countries, "KEN", "working_group", "done", now, by=UID).ok
    ms.set_note(db, template, env.services.countries, "KEN", "working_group", f"decree signed, contact {NAME}", now, by=UID)
    rem_store.set_mute(db, UID, "workshops", True, now)
    groups_store.set_directory(db, UID, True, now)
    groups_store.record_group(db, -100777, title="KEN LDN working group", chat_type="supergroup", lang="en", added_by=UID, now=now)
    deliveries.enqueue(db, kind="reminder", ref="ev:ws-konya:v1:1d", chat_id=UID, method="sendMessage",
                       payload={"text": f"Hello {NAME}"}, due_at=now, now=now)
    deliveries.enqueue(db, kind="notice", ref=f"q{qid}", chat_id=EXPERT_CHAT, method="sendMessage",
                       payload={"text": f"{NAME} (@{USERNAME}) rated query #{qid}", "reply_markup": {"x": UID}}, due_at=now, now=now)
    return qid


async def test_forgetme_leaves_no_personal_field_behind(env):
    qid = await live_a_little(env)
    db = env.db
    before = privacy.leftovers(db, UID, [NAME, USERNAME])
    tables_before = {item.split(".")[0] for item in before}
    assert {"users", "queries", "query_messages", "faq_misses", "faq_feedback", "milestones", "milestone_history",
            "reminder_mutes", "directory_optins", "deliveries", "invites", "role_events", "query_ratings"} <= tables_before
    history_rows = db.execute("SELECT count(*) FROM milestone_history").fetchone()[0]

    calls = await env.send("/forgetme", **ME)
    button = next(b for c in calls for b in c.buttons if b["callback_data"].startswith("v1:ops:forget:"))
    calls = await env.press(button["callback_data"], user_id=UID)
    assert "personal data are deleted" in one_text(calls, UID)

    left = privacy.leftovers(db, UID, [NAME, USERNAME])
    assert left == [], "\n".join(left)
    # the programme's records stay: the query (anonymised), the checklist attributed to the country
    q = hd_store.get_query(db, qid)
    assert q["country"] == "KEN" and q["asker_id"] == 0 and "SOC baseline" in q["text"] and "[removed]" in q["text"]
    assert db.execute("SELECT status, changed_by FROM milestones WHERE iso3 = 'KEN' AND step_id = 'working_group'").fetchone() == ("done", None)
    assert db.execute("SELECT count(*) FROM milestone_history").fetchone()[0] == history_rows
    assert db.execute("SELECT count(*) FROM query_messages WHERE query_id = ?", [qid]).fetchone()[0] >= 3
    assert db.execute("SELECT score FROM query_ratings WHERE query_id = ?", [qid]).fetchone() == (4,)
    assert db.execute("SELECT used_at IS NOT NULL, used_by FROM invites").fetchone() == (1, None)  # still used, by nobody
    assert db.execute("SELECT count(*) FROM group_chats WHERE chat_id = -100777 AND added_by IS NULL").fetchone()[0] == 1
    # the expert's answer and identity are untouched
    assert db.execute("SELECT count(*) FROM users WHERE user_id = ?", [EXPERT]).fetchone()[0] == 1
    # what was done is logged, never for whom
    log = db.execute("SELECT how, rows_changed, detail FROM privacy_log").fetchall()
    assert len(log) == 1 and log[0][0] == "chat" and log[0][1] > 10
    assert str(UID) not in log[0][2] and NAME not in log[0][2]
    # writing again starts from scratch
    calls = await env.send("/privacy", user_id=UID, first_name="New")
    assert "New" in one_text(calls, UID)


async def test_privacy_tells_what_is_stored_and_why(env):
    await live_a_little(env)
    text = one_text(await env.send("/privacy", **ME))
    assert NAME in text and f"@{USERNAME}" in text and str(UID) in text and "Kenya" in text
    assert "questions to the experts" in text and "checklist" in text and "/forgetme" in text
    fr = one_text(await env.send("/privacy", user_id=GUEST, language_code="fr"))
    assert "Ce que le bot enregistre" in fr and "aucun" not in fr.split("concernent")[0]
    group = one_text(await env.send("/privacy", user_id=UID, chat_id=-100777, chat_type="supergroup"))
    assert "private chat" in group


async def test_forgetme_can_be_declined_and_the_button_expires(env):
    await live_a_little(env)
    calls = await env.send("/forgetme", **ME)
    assert "no longer be registered as focal point" in one_text(calls, UID)
    keep = next(b for c in calls for b in c.buttons if b["callback_data"] == cb("ops", "keep"))
    assert "Nothing was deleted" in one_text(await env.press(keep["callback_data"], user_id=UID), UID)
    forget = next(b for c in calls for b in c.buttons if b["callback_data"].startswith("v1:ops:forget:"))
    env.clock.advance(minutes=11)
    calls = await env.press(forget["callback_data"], user_id=UID)
    assert any(c.method == "answerCallbackQuery" and c.params.get("show_alert") for c in calls)
    assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [UID]).fetchone()[0] == 1
    # forged data changes nothing
    await env.press("v1:ops:forget:notanumber", user_id=UID)
    await env.press("v1:ops:explode", user_id=UID)
    assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [UID]).fetchone()[0] == 1


async def test_a_confirmation_works_once_for_the_person_who_asked_and_nobody_else(env):
    await live_a_little(env)
    await env.send("/start", user_id=GUEST)
    calls = await env.send("/forgetme", **ME)
    data = next(b for c in calls for b in c.buttons if b["callback_data"].startswith("v1:ops:forget:"))["callback_data"]
    # someone else pressing a copy of the button: nobody is forgotten, and they are told why
    calls = await env.press(data, user_id=GUEST)
    assert any(c.method == "answerCallbackQuery" and "not valid" in (c.params.get("text") or "") for c in calls)
    assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [GUEST]).fetchone()[0] == 1
    assert env.db.execute("SELECT first_name FROM users WHERE user_id = ?", [UID]).fetchone() == (NAME,)
    # the old forgeable form (a timestamp) and a made-up nonce do nothing either
    now = int(env.clock.now().timestamp())
    for forged in (f"v1:ops:forget:{now}", "v1:ops:forget:AAAAAAAAAAAA", "v1:ops:forget:" + data.split(":")[-1] + "x"):
        await env.press(forged, user_id=UID)
        assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [UID]).fetchone()[0] == 1
    # the person who asked: forgotten once; a replay of the same button finds nothing to do
    assert "deleted" in one_text(await env.press(data, user_id=UID), UID).lower()
    assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [UID]).fetchone()[0] == 0
    await env.send("/start", user_id=UID)
    calls = await env.press(data, user_id=UID)
    assert any(c.method == "answerCallbackQuery" and c.params.get("show_alert") for c in calls)
    assert env.db.execute("SELECT count(*) FROM users WHERE user_id = ?", [UID]).fetchone()[0] == 1


async def test_the_secretariat_forgets_an_expert_from_the_command_line(env, monkeypatch, capsys):
    qid = await live_a_little(env)
    db, now = env.db, env.clock.now()
    hd.assign(db, qid, EXPERT, SECRETARIAT, now)
    hd.change_state(db, qid, "resolved", EXPERT, now)
    monkeypatch.setenv("LDN_DB", env.services.config.db_path)
    assert main(["user", "show", str(EXPERT), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["profile"] and shown["counts"]["queries"] >= 2
    assert main(["user", "forget", str(EXPERT)]) == 0
    out = capsys.readouterr()
    assert "forgotten" in out.out and "generic sweep" not in out.err
    assert privacy.leftovers(db, EXPERT, [], person_columns_only=True) == []
    q = hd_store.get_query(db, qid)
    assert q["assignee_id"] is None and q["first_response_by"] is None and q["state"] == "resolved"
    assert all(e["actor_id"] != EXPERT for e in hd_store.events(db, qid))
    assert main(["user", "forget", str(EXPERT)]) == 0
    assert "nothing stored" in capsys.readouterr().out


def test_every_table_is_classified(env):
    """A new table must be added to storage/privacy.py: REGISTRY (personal data) or NOT_PERSONAL."""
    assert privacy.unclassified_tables(env.db) == []


def test_an_unregistered_table_is_swept_generically(tmp_path):
    from storage.db import migrate, open_db

    db = open_db(tmp_path / "x.db")
    migrate(db)
    db.execute("CREATE TABLE future_feature (id INTEGER PRIMARY KEY, voter_id INTEGER NOT NULL, owner_user INTEGER, note TEXT)")
    db.execute("CREATE TABLE future_optin (member_id INTEGER PRIMARY KEY, flag INTEGER)")
    db.execute("INSERT INTO users (user_id, first_name, created_at, updated_at) VALUES (424242, 'Quirinus', 'x', 'x')")
    db.execute("INSERT INTO future_feature (voter_id, owner_user, note) VALUES (424242, 424242, 'Quirinus was here')")
    db.execute("INSERT INTO future_feature (voter_id, owner_user, note) VALUES (7, 7, 'someone else: Quirinus too')")
    db.execute("INSERT INTO future_optin VALUES (424242, 1)")
    result = privacy.forget(db, 424242)
    assert sorted(result.unregistered) == ["future_feature.owner_user", "future_feature.voter_id", "future_optin.member_id"]
    assert privacy.leftovers(db, 424242, []) == []
    assert db.execute("SELECT voter_id, owner_user, note FROM future_feature ORDER BY id").fetchall() == [
        (0, None, "[removed] was here"), (7, 7, "someone else: Quirinus too")]
    assert db.execute("SELECT count(*) FROM future_optin").fetchone()[0] == 0


@pytest.mark.parametrize("text, expected", [
    ("Zebulonia asks", "[removed] asks"),
    ("ask @zeb_ldn_test now", "ask [removed] now"),
    ("zebulonia's map", "[removed]'s map"),
    ("Zebuloniaville is a town", "Zebuloniaville is a town"),
    ("id 987654321, not 9876543210", "id [removed], not 9876543210"),
])
def test_scrubbing_is_by_whole_words(text, expected):
    pattern = privacy._pattern(privacy.Identity(UID, [NAME, "@" + USERNAME, USERNAME]))
    assert privacy.scrub_text(text, pattern) == expected
