"""The milestone rules without Telegram: changes and history, overdue with the injected clock,
pending steps for reminders, progress by region, a template that gains steps later."""
from __future__ import annotations

import datetime as dt

from bot import milestones as ms
from bot.clock import FakeClock
from knowledge.checklist import Template, load_checklist
from storage import milestones as store
from storage.db import latest_version, migrate, schema_version
from tests.milestones.util import at, state

T0 = at("2016-06-01T09:00:00Z")


def test_status_change_is_recorded_with_date_author_and_history(db, template, registry):
    outcome = ms.set_status(db, template, registry, "KEN", "working_group", "in_progress", T0, 501)
    assert outcome.ok and outcome.previous == "not_started"
    s = outcome.state
    assert (s.status, s.status_date, s.changed_by, s.changed_via) == ("in_progress", dt.date(2016, 6, 1), 501, "chat")
    later = at("2016-09-30T22:30:00Z")  # already 1 October in Nairobi (UTC+3)
    ms.set_status(db, template, registry, "KEN", "working_group", "done", later, 501)
    ms.set_note(db, template, registry, "KEN", "working_group", "Decree 12/2016", later, 501)
    ms.set_evidence(db, template, registry, "KEN", "working_group", "link", "https://example.org/decree.pdf", later, 501)
    s = state(db, template, registry, "KEN", "working_group", later)
    assert s.status == "done" and s.status_date == dt.date(2016, 10, 1)
    assert s.note == "Decree 12/2016" and s.evidence_kind == "link"
    history = store.history(db, "KEN", "working_group")
    assert [h["action"] for h in history] == ["status", "status", "note", "evidence"]
    assert [h["previous_status"] for h in history[:2]] == ["not_started", "in_progress"]
    assert history[-1]["evidence"] == "https://example.org/decree.pdf" and history[-1]["note"] == "Decree 12/2016"


def test_same_status_unknown_step_country_or_status_change_nothing(db, template, registry):
    ms.set_status(db, template, registry, "KEN", "baseline", "done", T0, 501)
    assert ms.set_status(db, template, registry, "KEN", "baseline", "done", T0, 501).code == "same"
    assert ms.set_status(db, template, registry, "KEN", "nonsense", "done", T0, 501).code == "unknown_step"
    assert ms.set_status(db, template, registry, "XYZ", "baseline", "done", T0, 501).code == "unknown_country"
    assert ms.set_status(db, template, registry, "KEN", "baseline", "finished", T0, 501).code == "invalid"
    assert ms.set_evidence(db, template, registry, "KEN", "baseline", "link", "javascript:alert(1)", T0, 501).code == "invalid"
    assert ms.set_note(db, template, registry, "KEN", "baseline", "x" * 1001, T0, 501).code == "invalid"
    assert len(store.history(db, "KEN")) == 1


def test_overdue_uses_the_clock_and_the_countrys_time_zone(db, template, registry):
    clock = FakeClock("2017-02-28T20:00:00Z")  # 23:00 in Nairobi, 17:00 in Santiago: baseline due today
    assert not state(db, template, registry, "KEN", "baseline", clock.now()).overdue
    clock.advance(hours=1, minutes=30)          # 00:30 on 1 March in Nairobi, still 28 February in Santiago
    assert state(db, template, registry, "KEN", "baseline", clock.now()).overdue
    assert not state(db, template, registry, "CHL", "baseline", clock.now()).overdue
    clock.advance(hours=6)
    assert state(db, template, registry, "CHL", "baseline", clock.now()).overdue
    # done and not applicable steps are never overdue
    ms.set_status(db, template, registry, "KEN", "baseline", "done", clock.now(), 501)
    ms.set_status(db, template, registry, "CHL", "baseline", "not_applicable", clock.now(), 900)
    assert not state(db, template, registry, "KEN", "baseline", clock.now()).overdue
    assert not state(db, template, registry, "CHL", "baseline", clock.now()).overdue
    # in progress still counts
    ms.set_status(db, template, registry, "SEN", "baseline", "in_progress", clock.now(), 502)
    assert state(db, template, registry, "SEN", "baseline", clock.now()).overdue


def test_a_country_due_date_moves_the_deadline(db, template, registry):
    now = at("2017-03-10T12:00:00Z")
    assert state(db, template, registry, "KEN", "baseline", now).overdue
    ms.set_due(db, template, registry, "KEN", "baseline", dt.date(2017, 3, 31), now, 900)
    s = state(db, template, registry, "KEN", "baseline", now)
    assert s.due == dt.date(2017, 3, 31) and s.custom_due and not s.overdue
    assert state(db, template, registry, "UGA", "baseline", now).overdue  # other countries keep the default
    ms.set_due(db, template, registry, "KEN", "baseline", None, now, 900)
    s = state(db, template, registry, "KEN", "baseline", now)
    assert not s.custom_due and s.overdue
    assert [h["action"] for h in store.history(db, "KEN", "baseline")] == ["due", "due"]


def test_pending_steps_for_reminders(db, template, registry):
    now = at("2016-11-15T12:00:00Z")
    ms.set_status(db, template, registry, "KEN", "working_group", "done", now, 501)
    ms.set_status(db, template, registry, "SEN", "working_group", "in_progress", now, 502)
    pending = ms.pending_steps(db, template, registry, now)
    assert len(pending) == 95 * 10 - 1
    keys = {(p.iso3, p.step_id) for p in pending}
    assert ("KEN", "working_group") not in keys and ("SEN", "working_group") in keys
    first = pending[0]
    iso3, step_id, due, overdue = first  # a plain tuple for callers
    assert (step_id, due, overdue) == ("working_group", dt.date(2016, 10, 31), True)
    assert [p.due for p in pending] == sorted(p.due for p in pending)
    overdue = [p for p in pending if p.overdue]
    assert {p.step_id for p in overdue} == {"working_group"} and len(overdue) == 94
    assert ms.step_title(template, "baseline", "fr").startswith("Situation de référence")
    assert ms.step_title(template, "gone", "fr") == "gone"


def test_progress_by_region_and_pilot_group(db, template, registry):
    now = at("2017-01-15T12:00:00Z")
    for step in ("working_group", "leverage_plan"):
        ms.set_status(db, template, registry, "KEN", step, "done", now, 501)
    ms.set_status(db, template, registry, "KEN", "national_report_2018", "not_applicable", now, 900)
    ms.set_status(db, template, registry, "SEN", "working_group", "done", now, 502)  # a pilot in annex I
    p = ms.progress(db, template, registry, now)
    ken = p.country("KEN")
    assert (ken.done, ken.applicable, ken.overdue) == (2, 9, 0)
    assert round(ken.share, 3) == round(2 / 9, 3)
    africa = next(g for g in p.by_annex if g.key == "I")
    assert len(africa.countries) == 40 and africa.done == 3
    assert p.pilots.done == 1 and len(p.pilots.countries) == 14
    assert p.total.done == 3 and p.total.applicable == 949
    assert sum(len(g.countries) for g in p.by_annex) == 95
    data = p.to_json()
    assert data["total"]["done"] == 3 and data["regions"][0]["name"] == "Africa"
    sub = ms.progress(db, template, registry, now, ["KEN", "UGA"])
    assert [c.iso3 for c in sub.countries] == ["KEN", "UGA"]


def test_the_template_can_gain_and_lose_steps_without_losing_progress(db, template, registry, tmp_path):
    now = at("2016-08-01T00:00:00Z")
    ms.sync_template(db, template, now)
    ms.set_status(db, template, registry, "KEN", "baseline", "done", now, 501)
    ms.set_note(db, template, registry, "KEN", "country_report", "sent in draft", now, 501)

    # a new step is added and one removed, as an edited checklist.yaml would
    text = (load_checklist.__globals__["DEFAULT_PATH"]).read_text(encoding="utf-8")
    start = text.index("  - id: country_report")
    end = text.index("  - id: national_report_2018")
    removed = text[:start] + text[end:]
    extra = removed.replace("  - id: baseline\n    order: 3", "  - id: data_review\n    order: 11\n    phase: implementation\n"
                            "    due: 2017-01-31\n    title: {en: Data reviewed, fr: Données revues, es: Datos revisados, "
                            "ru: Данные проверены, ar: مراجعة البيانات, zh: 数据已审查}\n"
                            "    help: {en: h, fr: h, es: h, ru: h, ar: h, zh: h}\n  - id: baseline\n    order: 3")
    path = tmp_path / "checklist.yaml"
    path.write_text(extra, encoding="utf-8")
    new = load_checklist(path)
    assert "data_review" in new and "country_report" not in new
    result = ms.sync_template(db, new, now)
    assert result == {"added": 1, "retired": 1}
    assert state(db, new, registry, "KEN", "baseline", now).status == "done"
    assert state(db, new, registry, "KEN", "data_review", now).status == "not_started"
    steps = {r["step_id"]: r["active"] for r in store.step_rows(db)}
    assert steps["country_report"] == 0 and steps["data_review"] == 1
    assert store.get_state(db, "KEN", "country_report")["note"] == "sent in draft"  # kept, just not shown
    # the step comes back: its progress is there again
    ms.sync_template(db, template, now)
    assert state(db, template, registry, "KEN", "country_report", now).note == "sent in draft"


def test_migration_is_applied_once_and_keeps_data(db, template, registry):
    assert schema_version(db) == latest_version()
    ms.set_status(db, template, registry, "KEN", "baseline", "done", T0, 501)
    assert migrate(db, T0) == []
    assert store.get_state(db, "KEN", "baseline")["status"] == "done"
    assert isinstance(template, Template)
