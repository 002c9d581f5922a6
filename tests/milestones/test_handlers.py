"""/checklist, buttons, notes and evidence, forged callbacks, and the secretariat's commands,
through the real Application and the offline Bot API."""
from __future__ import annotations

import csv
import io

from bot import milestones as ms
from storage import milestones as store
from tests.milestones.util import png_size
from tests.util import EXPERT, GUEST, SECRETARIAT, one_text

FOCAL_KEN = 501
FOCAL_SEN = 502


def answers(calls):
    return [c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery"]


def buttons(calls):
    return [b for c in calls for b in c.buttons]


def current(env, iso3, step):
    return ms.step_state(env.db, ms.get_template(env.services), env.services.countries, iso3, step, env.clock.now())


async def test_focal_point_sees_their_checklist_and_updates_a_step(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    env.clock.set("2016-11-02T08:00:00Z")  # working group (due 31 Oct 2016) is overdue
    calls = await env.send("/checklist", user_id=FOCAL_KEN)
    text = one_text(calls)
    assert "Kenya" in text and "0 of 10 steps done" in text
    assert "⚠️ 1. National LDN working group" in text and "⬜ 2. LDN leverage" in text
    assert "✅ done · 🔄 in progress · ⬜ not started · ➖ not applicable · ⚠️ overdue" in text
    step_buttons = [b["callback_data"] for b in buttons(calls)]
    assert step_buttons[0] == "v1:ms:step:KEN:working_group" and len(step_buttons) == 10

    calls = await env.press("v1:ms:step:KEN:working_group", user_id=FOCAL_KEN)
    text = one_text(calls)
    assert "government-led national LDN working group" in text and "Overdue" in text
    datas = [b["callback_data"] for b in buttons(calls)]
    assert "v1:ms:set:KEN:working_group:done" in datas and "v1:ms:note:KEN:working_group" in datas
    assert "v1:ms:due:KEN:working_group" not in datas  # only the secretariat sets due dates

    calls = await env.press("v1:ms:set:KEN:working_group:in_progress", user_id=FOCAL_KEN)
    assert "Saved: in progress." in answers(calls)
    assert "🔄 in progress (2016-11-02)" in one_text(calls)
    calls = await env.press("v1:ms:set:KEN:working_group:done", user_id=FOCAL_KEN)
    s = current(env, "KEN", "working_group")
    assert (s.status, s.changed_by, s.overdue) == ("done", FOCAL_KEN, False)
    calls = await env.send("/checklist", user_id=FOCAL_KEN)
    assert "✅ 1. National LDN working group" in one_text(calls) and "1 of 10 steps done" in one_text(calls)
    assert [h["status"] for h in store.history(env.db, "KEN", "working_group")] == ["in_progress", "done"]


async def test_pressing_the_current_status_again_is_a_stale_button(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press("v1:ms:set:KEN:baseline:done", user_id=FOCAL_KEN)
    calls = await env.press("v1:ms:set:KEN:baseline:done", user_id=FOCAL_KEN)
    assert any("out of date" in a for a in answers(calls))
    assert len(store.history(env.db, "KEN", "baseline")) == 1


async def test_focal_point_cannot_change_another_country(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.make_focal_point(FOCAL_SEN, "SEN")
    for data in ("v1:ms:set:SEN:baseline:done", "v1:ms:note:SEN:baseline", "v1:ms:ev:SEN:baseline",
                 "v1:ms:due:KEN:baseline", "v1:ms:step:SEN:baseline", "v1:ms:view:SEN", "v1:ms:prog:I", "v1:ms:chart"):
        calls = await env.press(data, user_id=FOCAL_KEN)
        assert any("not allowed" in a for a in answers(calls)), data
        assert not [c for c in calls if c.method in ("sendMessage", "editMessageText", "sendPhoto")], data
    calls = await env.send("/checklist SEN", user_id=FOCAL_KEN)
    assert "not allowed" in one_text(calls)
    assert list(env.db.query("SELECT * FROM milestone_history")) == []
    assert env.app.user_data[FOCAL_KEN].get("awaiting") is None
    # guests and experts cannot change anything either
    for user in (GUEST, EXPERT):
        calls = await env.press("v1:ms:set:KEN:baseline:done", user_id=user)
        assert any("not allowed" in a for a in answers(calls))
    assert store.get_state(env.db, "KEN", "baseline") is None


async def test_forged_and_malformed_callbacks_change_nothing(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    forged = [
        "v1:ms:set:KEN:baseline:finished",        # unknown status
        "v1:ms:set:KEN:no_such_step:done",        # unknown step
        "v1:ms:set:XYZ:baseline:done",            # unknown country
        "v1:ms:set:ken:baseline:done",            # not the canonical code
        "v1:ms:set:KEN:baseline",                 # missing part
        "v1:ms:set:KEN:baseline:done:extra",      # extra part
        "v1:ms:explode:KEN",                      # unknown action
        "v1:ms:set:KEN:baseline:done'; DROP TABLE milestones;--",
    ]
    for data in forged:
        calls = await env.press(data, user_id=FOCAL_KEN)
        assert answers(calls) and any(("out of date" in a) or ("not allowed" in a) for a in answers(calls)), data
    assert list(env.db.query("SELECT * FROM milestone_history")) == []
    assert "milestones" in env.db.table_names()


async def test_note_and_link_evidence(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    calls = await env.press("v1:ms:note:KEN:baseline", user_id=FOCAL_KEN)
    assert "Type the note" in one_text(calls)
    calls = await env.send("Baseline from national land cover <2015>", user_id=FOCAL_KEN)
    text = one_text(calls)
    assert "Note saved" in text and "Baseline from national land cover &lt;2015&gt;" in text
    assert current(env, "KEN", "baseline").note == "Baseline from national land cover <2015>"

    await env.press("v1:ms:ev:KEN:baseline", user_id=FOCAL_KEN)
    calls = await env.send("see the shared drive", user_id=FOCAL_KEN)
    assert "not a link" in one_text(calls)
    calls = await env.send("https://example.org/ken/baseline.pdf", user_id=FOCAL_KEN)
    assert "Evidence saved" in one_text(calls)
    assert '<a href="https://example.org/ken/baseline.pdf">' in one_text(calls)
    s = current(env, "KEN", "baseline")
    assert (s.evidence_kind, s.evidence) == ("link", "https://example.org/ken/baseline.pdf")
    # a later text is a question again, not evidence
    assert env.app.user_data[FOCAL_KEN].get("awaiting") is None
    await env.press("v1:ms:note:KEN:baseline", user_id=FOCAL_KEN)
    calls = await env.send("-", user_id=FOCAL_KEN)
    assert "Note removed" in one_text(calls) and current(env, "KEN", "baseline").note is None


async def test_document_and_photo_evidence(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press("v1:ms:ev:KEN:targets_set", user_id=FOCAL_KEN)
    document = {"file_id": "BQACAgQAAxkBAAIBbWZ", "file_unique_id": "AgADbW", "file_name": "targets-decree.pdf"}
    calls = await env.process(env.updates.message(None, user_id=FOCAL_KEN, document=document))
    assert "Evidence saved" in one_text(calls) and "targets-decree.pdf" in one_text(calls)
    s = current(env, "KEN", "targets_set")
    assert (s.evidence_kind, s.evidence, s.evidence_name) == ("document", "BQACAgQAAxkBAAIBbWZ", "targets-decree.pdf")
    assert "only read text" not in one_text(calls)  # consumed: the fallback did not answer too

    # the secretariat can open it
    calls = await env.press("v1:ms:file:KEN:targets_set", user_id=SECRETARIAT)
    sent = [c for c in calls if c.method == "sendDocument"]
    assert sent and sent[0].params["document"] == "BQACAgQAAxkBAAIBbWZ"

    await env.press("v1:ms:ev:KEN:measures", user_id=FOCAL_KEN)
    photo = [{"file_id": "AgACAgQsmall", "file_unique_id": "s", "width": 90, "height": 90},
             {"file_id": "AgACAgQlarge", "file_unique_id": "l", "width": 1280, "height": 960}]
    await env.process(env.updates.message(None, user_id=FOCAL_KEN, photo=photo))
    assert (current(env, "KEN", "measures").evidence_kind, current(env, "KEN", "measures").evidence) == ("photo", "AgACAgQlarge")

    # a document sent when no evidence was asked for is not taken as evidence
    calls = await env.process(env.updates.message(None, user_id=FOCAL_KEN, document=dict(document, file_id="BQother")))
    assert current(env, "KEN", "measures").evidence == "AgACAgQlarge"
    assert "Evidence saved" not in "\n".join(c.text for c in calls)


async def test_group_chats_show_nothing_private(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    for command, user in (("/checklist", FOCAL_KEN), ("/progress", SECRETARIAT), ("/overdue", SECRETARIAT)):
        calls = await env.send(command, user_id=user, chat_id=-100777, chat_type="supergroup")
        text = one_text(calls)
        assert "private chat" in text and "Kenya" not in text and "%" not in text


async def test_guests_and_experts(env):
    assert "invitation link" in one_text(await env.send("/checklist", user_id=GUEST))
    assert "/checklist ISO3" in one_text(await env.send("/checklist", user_id=EXPERT))
    calls = await env.send("/checklist KEN", user_id=EXPERT)
    text = one_text(calls)
    assert "Kenya" in text and "Tap a step to see its details" in text
    calls = await env.press("v1:ms:step:KEN:baseline", user_id=EXPERT)
    datas = [b["callback_data"] for b in buttons(calls)]
    assert datas == ["v1:ms:view:KEN"]  # read only
    for command in ("/progress", "/overdue", "/due KEN baseline 2017-03-31"):
        assert "not allowed" in one_text(await env.send(command, user_id=EXPERT))


async def test_checklist_in_the_users_language(env):
    await env.make_focal_point(FOCAL_SEN, "SEN")
    text = one_text(await env.send("/checklist", user_id=FOCAL_SEN, language_code="fr"))
    assert "Sénégal" in text and "Groupe de travail national sur la NDT" in text and "étapes terminées" in text
    text = one_text(await env.send("/checklist", user_id=FOCAL_SEN, language_code="zh"))
    assert "塞内加尔" in text and "里程碑" in text


async def test_secretariat_edits_any_country_and_sets_due_dates(env):
    calls = await env.send("/checklist KEN", user_id=SECRETARIAT)
    assert "Kenya" in one_text(calls)
    calls = await env.press("v1:ms:step:KEN:baseline", user_id=SECRETARIAT)
    assert "v1:ms:due:KEN:baseline" in [b["callback_data"] for b in buttons(calls)]
    await env.press("v1:ms:set:KEN:baseline:not_applicable", user_id=SECRETARIAT)
    assert current(env, "KEN", "baseline").status == "not_applicable"

    env.clock.set("2017-03-10T09:00:00Z")
    calls = await env.send("/due KEN baseline 2017-03-31", user_id=SECRETARIAT)
    assert "2017-03-31" in one_text(calls)
    s = current(env, "KEN", "baseline")
    assert s.custom_due and str(s.due) == "2017-03-31"
    calls = await env.send("/due KEN 4 someday", user_id=SECRETARIAT)
    assert "not a date" in one_text(calls)
    calls = await env.send("/due KEN nope 2017-03-31", user_id=SECRETARIAT)
    assert "There is no step nope" in one_text(calls)
    calls = await env.send("/due", user_id=SECRETARIAT)
    assert "Usage: /due" in one_text(calls)

    # by button: ask, then type the date
    await env.press("v1:ms:due:KEN:trends_drivers", user_id=SECRETARIAT)
    calls = await env.send("2017-06-30", user_id=SECRETARIAT)
    assert "2017-06-30" in one_text(calls) and str(current(env, "KEN", "trends_drivers").due) == "2017-06-30"
    await env.press("v1:ms:due:KEN:trends_drivers", user_id=SECRETARIAT)
    calls = await env.send("default", user_id=SECRETARIAT)
    assert "back to the programme's due date" in one_text(calls)
    assert not current(env, "KEN", "trends_drivers").custom_due


async def test_progress_overview_regions_pilots_and_country(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    env.clock.set("2017-01-10T09:00:00Z")
    for step in ("working_group", "leverage_plan"):
        await env.press(f"v1:ms:set:KEN:{step}:done", user_id=FOCAL_KEN)
    await env.press("v1:ms:set:SEN:working_group:done", user_id=SECRETARIAT)

    text = one_text(await env.send("/progress", user_id=SECRETARIAT))
    assert "Milestones of the 95 countries" in text and "3 of 950 steps done" in text
    assert "<b>Africa (annex I)</b> (40): ✅ 0 · 🔄 2 · ⬜ 38" in text and "Pilot countries — 14 countries" in text
    assert "overdue steps in" in text

    text = one_text(await env.send("/progress Africa", user_id=SECRETARIAT))
    assert "Africa (annex I)" in text and "40 countries" in text and "page 1 of 4" in text
    text = one_text(await env.press("v1:ms:pp:I:3", user_id=SECRETARIAT))  # the least advanced first: KEN last
    lines = [line for line in text.splitlines() if "<b>KEN</b>" in line or "<b>SEN</b>" in line]
    assert "1/10" in lines[0] and "SEN" in lines[0] and "2/10" in lines[1] and "KEN" in lines[1]

    text = one_text(await env.press("v1:ms:pp:pilots:1", user_id=SECRETARIAT))
    assert "Pilot countries" in text and "<b>SEN</b>" in text and "<b>KEN</b>" not in text

    text = one_text(await env.send("/progress KEN", user_id=SECRETARIAT))
    assert "Kenya" in text and "✅ 1. National LDN working group" in text

    text = one_text(await env.send("/progress Atlantis", user_id=SECRETARIAT))
    assert "I do not know Atlantis" in text

    calls = await env.press("v1:ms:prog:III", user_id=SECRETARIAT)
    assert "Latin America and the Caribbean" in one_text(calls)
    calls = await env.press("v1:ms:prog:overview", user_id=SECRETARIAT)
    assert "Milestones of the 95 countries" in one_text(calls)


async def test_overdue_lists_steps_by_country(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    env.clock.set("2016-11-15T09:00:00Z")
    text = one_text(await env.send("/overdue", user_id=SECRETARIAT))
    assert "95 in 95 countries" in text  # many countries: the counts, then pages (tests/firstlook)
    assert text.index("(DZA)") < text.index("(ARG)")  # by name
    text = one_text(await env.send("/overdue KEN", user_id=SECRETARIAT))  # few countries: every step
    assert "1 in 1 country" in text and "<b>Kenya</b> (KEN)" in text
    assert "1. National LDN working group established and stakeholders mapped — due 2016-10-31, 15 days late" in text
    await env.press("v1:ms:set:KEN:working_group:done", user_id=FOCAL_KEN)
    text = one_text(await env.send("/overdue Africa", user_id=SECRETARIAT))
    assert "Kenya" not in text and "39 countries" in text
    env.clock.set("2016-06-01T00:00:00Z")
    assert "No overdue steps" in one_text(await env.send("/overdue", user_id=SECRETARIAT))


async def test_progress_chart_is_a_real_png(env):
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press("v1:ms:set:KEN:working_group:done", user_id=FOCAL_KEN)
    calls = await env.send("/progress chart", user_id=SECRETARIAT)
    photos = [c for c in calls if c.method == "sendPhoto"]
    assert len(photos) == 5 and {p.chat_id for p in photos} == {SECRETARIAT}  # one per region
    assert "Africa (annex I): 1 of 400 steps done (0%)" in photos[0].text
    _, data, mimetype = photos[0].files["photo"][:3] if isinstance(photos[0].files["photo"], tuple) else (None, photos[0].files["photo"], None)
    width, height = png_size(data)
    assert width == 1080 and 1000 < height < 2000
    assert 20_000 < len(data) < 2_000_000
    calls = await env.press("v1:ms:chart", user_id=SECRETARIAT)
    assert [c for c in calls if c.method == "sendPhoto"]


async def test_export_milestones_sends_a_csv(env):
    # /export milestones is dispatched by the shared /export command (handlers/helpdesk.py)
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press("v1:ms:set:KEN:baseline:in_progress", user_id=FOCAL_KEN)
    assert "not allowed" in one_text(await env.send("/export milestones", user_id=FOCAL_KEN))
    calls = await env.send("/export milestones", user_id=SECRETARIAT)
    docs = [c for c in calls if c.method == "sendDocument"]
    assert len(docs) == 1 and "95 countries × 10 steps" in docs[0].text
    filename, data = docs[0].files["document"][:2]
    assert filename.startswith("ldn-milestones-") and filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert len(rows) == 950
    assert {(r["iso3"], r["step"], r["status"]) for r in rows if r["iso3"] == "KEN" and r["step"] == "baseline"} == {
        ("KEN", "baseline", "in_progress")}


async def test_a_checklist_update_is_written_whole_or_not_at_all(env):
    """The state row and its history row are one service call: SQLite failing on the second
    write leaves no trace of the first (issue #13)."""
    await env.make_focal_point(FOCAL_KEN, "KEN")
    await env.press("v1:ms:set:KEN:baseline:in_progress", user_id=FOCAL_KEN)
    env.db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON milestone_history "
                   "BEGIN SELECT RAISE(ABORT, 'injected'); END")
    calls = await env.press("v1:ms:set:KEN:baseline:done", user_id=FOCAL_KEN)
    assert not any("Saved" in a for a in answers(calls))
    s = current(env, "KEN", "baseline")
    assert (s.status, s.changed_by) == ("in_progress", FOCAL_KEN)
    assert [h["status"] for h in store.history(env.db, "KEN", "baseline")] == ["in_progress"]
    await env.send("/checklist", user_id=FOCAL_KEN)
    env.db.execute("DROP TRIGGER boom")
    await env.press("v1:ms:set:KEN:baseline:done", user_id=FOCAL_KEN)
    assert [h["status"] for h in store.history(env.db, "KEN", "baseline")] == ["in_progress", "done"]


async def test_due_dates_out_of_range_are_refused_with_the_range(env):
    for date in ("0001-01-01", "9999-12-31", "1989-12-31"):
        calls = await env.send(f"/due KEN baseline {date}", user_id=SECRETARIAT)
        assert "1990-01-01" in one_text(calls) and "2100-12-31" in one_text(calls), date
        assert not current(env, "KEN", "baseline").custom_due
    await env.press("v1:ms:due:KEN:trends_drivers", user_id=SECRETARIAT)
    calls = await env.send("9999-01-01", user_id=SECRETARIAT)
    assert "2100-12-31" in one_text(calls)
    calls = await env.send("2100-12-31", user_id=SECRETARIAT)  # still asked: the edge itself is fine
    assert str(current(env, "KEN", "trends_drivers").due) == "2100-12-31"
    calls = await env.send("/due KEN ٣ 2017-03-31", user_id=SECRETARIAT)  # step 3 in Arabic-Indic digits: no crash
    assert "2017-03-31" in one_text(calls) and str(current(env, "KEN", "baseline").due) == "2017-03-31"
