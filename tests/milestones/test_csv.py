"""The spreadsheet interface: export, import back, row-by-row validation, all or nothing; and the CLI."""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest


from bot import milestones as ms
from bot.cli import main
from storage import milestones as store
from tests.milestones.util import at, png_size, state

NOW = at("2017-04-01T10:00:00Z")


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_every_country_and_step(db, template, registry):
    ms.set_status(db, template, registry, "KEN", "baseline", "done", NOW, 501)
    ms.set_note(db, template, registry, "KEN", "baseline", 'Report, "final" version\nsecond line', NOW, 501)
    ms.set_evidence(db, template, registry, "KEN", "measures", "document", "BQACAgQAAxkBAAIBbW", NOW, 501, "plan.pdf")
    ms.set_due(db, template, registry, "SEN", "targets_set", at("2017-08-31T00:00:00Z").date(), NOW, 900)
    db.execute("INSERT INTO users (user_id, first_name, created_at, updated_at) VALUES (501, 'Amina', 'x', 'x')")
    text = ms.export_milestones_csv(db, template, registry)
    rows = rows_of(text)
    assert list(rows[0]) == ms.CSV_COLUMNS
    assert len(rows) == 95 * 10
    ken = {r["step"]: r for r in rows if r["iso3"] == "KEN"}
    assert ken["baseline"]["status"] == "done" and ken["baseline"]["date"] == "2017-04-01"
    assert ken["baseline"]["note"] == 'Report, "final" version\nsecond line'
    assert ken["baseline"]["changed_by"] == "Amina (501)" and ken["baseline"]["changed_at"] == "2017-04-01T10:00:00Z"
    assert ken["measures"]["evidence"] == "document:BQACAgQAAxkBAAIBbW"
    assert ken["working_group"]["status"] == "not_started" and ken["working_group"]["due"] == "2016-10-31"
    sen = {r["step"]: r for r in rows if r["iso3"] == "SEN"}
    assert sen["targets_set"]["due"] == "2017-08-31"
    assert ken["baseline"]["country"] == "Kenya"


def test_round_trip_changes_nothing_and_an_edit_comes_back(db, template, registry):
    ms.set_status(db, template, registry, "KEN", "baseline", "done", NOW, 501)
    ms.set_note(db, template, registry, "KEN", "baseline", "multi\nline, with comma", NOW, 501)
    ms.set_evidence(db, template, registry, "KEN", "baseline", "link", "https://example.org/a?b=1&c=2", NOW, 501)
    ms.set_evidence(db, template, registry, "KEN", "measures", "photo", "AgACAgQAAxkBAAIBbW", NOW, 501)
    ms.set_due(db, template, registry, "SEN", "targets_set", at("2017-08-31T00:00:00Z").date(), NOW, 900)
    exported = ms.export_milestones_csv(db, template, registry)
    history_before = len(list(db.query("SELECT id FROM milestone_history")))

    result = ms.import_milestones_csv(db, template, registry, exported, at("2017-05-01T00:00:00Z"), None)
    assert result.ok and (result.rows, result.changed, result.unchanged) == (950, 0, 950)
    assert len(list(db.query("SELECT id FROM milestone_history"))) == history_before
    assert ms.export_milestones_csv(db, template, registry) == exported

    # edit it as a spreadsheet would: two countries progress, one gets a due date, a note is cleared
    rows = rows_of(exported)
    for r in rows:
        if (r["iso3"], r["step"]) == ("UGA", "working_group"):
            r.update(status="done", date="2016-10-20", note="validated by the ministry", evidence="https://example.org/uga")
        if (r["iso3"], r["step"]) == ("CHL", "baseline"):
            r.update(status="in_progress", due="2017-05-31")
        if (r["iso3"], r["step"]) == ("KEN", "baseline"):
            r.update(note="-")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ms.CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    result = ms.import_milestones_csv(db, template, registry, "\ufeff" + out.getvalue(), at("2017-05-01T00:00:00Z"), 900)
    assert result.ok and result.changed == 3, result.errors
    uga = state(db, template, registry, "UGA", "working_group", NOW)
    assert (uga.status, str(uga.status_date), uga.note, uga.evidence) == ("done", "2016-10-20", "validated by the ministry", "https://example.org/uga")
    assert (uga.changed_by, uga.changed_via) == (900, "import")
    chl = state(db, template, registry, "CHL", "baseline", NOW)
    assert chl.status == "in_progress" and str(chl.due) == "2017-05-31" and chl.custom_due
    assert str(chl.status_date) == "2017-04-30"  # no date given: the import's day in Santiago (UTC-4)
    assert state(db, template, registry, "KEN", "baseline", NOW).note is None
    assert state(db, template, registry, "KEN", "measures", NOW).evidence == "AgACAgQAAxkBAAIBbW"  # untouched
    assert store.history(db, "UGA", "working_group")[-1]["action"] == "import"
    again = ms.export_milestones_csv(db, template, registry)
    assert ms.import_milestones_csv(db, template, registry, again, at("2017-05-02T00:00:00Z"), 900).changed == 0


def test_bad_rows_are_reported_by_line_and_nothing_is_applied(db, template, registry):
    text = (
        "iso3,step,status,date,note,evidence,due\n"
        "KEN,baseline,done,2017-03-01,,,\n"              # line 2: fine
        "XYZ,baseline,done,,,,\n"                         # line 3: unknown country
        "UGA,baselin,done,,,,\n"                          # line 4: unknown step
        "UGA,baseline,finished,,,,\n"                     # line 5: bad status
        "\"UGA\",\"measures\",done,\"2017-02-30\",\"a\nmulti-line note\",,\n"  # lines 6-7: bad date
        "SEN,baseline,done,2030-01-01,,,\n"               # line 8: future date
        "SEN,measures,,,,ftp://example.org,\n"            # line 9: bad evidence
        "SEN,targets_set,,,,,soon\n"                      # line 10: bad due
        "KEN,baseline,in_progress,,,,\n"                  # line 11: duplicate of line 2
        "\n"
        "KEN,3,,,,,\n"                                    # line 13: duplicate (order number) of line 2
    )
    result = ms.import_milestones_csv(db, template, registry, text, NOW, 900)
    assert not result.ok and result.changed == 0
    lines = [int(e.split(":")[0].split()[1]) for e in result.errors]
    assert lines == [3, 4, 5, 6, 8, 9, 10, 11, 13], result.errors
    joined = "\n".join(result.errors)
    for fragment in ("unknown country code 'XYZ'", "unknown step 'baselin'", "unknown status 'finished'",
                     "'2017-02-30' is not a date", "is in the future", "must be a link", "due 'soon'",
                     "appears twice (first on line 2)"):
        assert fragment in joined
    assert store.get_state(db, "KEN", "baseline") is None  # the good row was not applied either
    assert list(db.query("SELECT * FROM milestone_history")) == []


def test_header_problems_and_flexible_spreadsheets(db, template, registry):
    assert ms.import_milestones_csv(db, template, registry, "", NOW, None).errors == ["line 1: the file is empty"]
    missing = ms.import_milestones_csv(db, template, registry, "country,status\nKenya,done\n", NOW, None)
    assert missing.errors[0].startswith("line 1: missing column(s) step")
    # semicolons (European spreadsheets), names instead of codes, order numbers, status words, extra columns
    text = "Country;Step;Status;Comments\nKenya;1;Completed;ok\nCôte d'Ivoire;2;In progress;\nSwaziland;3;n/a;\n"
    result = ms.import_milestones_csv(db, template, registry, text, NOW, None)
    assert result.ok and result.changed == 3, result.errors
    assert state(db, template, registry, "KEN", "working_group", NOW).status == "done"
    assert state(db, template, registry, "CIV", "leverage_plan", NOW).status == "in_progress"
    assert state(db, template, registry, "SWZ", "baseline", NOW).status == "not_applicable"


def test_a_failure_while_applying_rolls_everything_back(db, template, registry):
    text = "iso3,step,status\nKEN,baseline,done\nUGA,baseline,done\n"
    # SQLite itself fails on the second row's history, after the first row was written
    db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON milestone_history WHEN NEW.iso3 = 'UGA' "
               "BEGIN SELECT RAISE(ABORT, 'injected'); END")
    with pytest.raises(sqlite3.IntegrityError, match="injected"):
        ms.import_milestones_csv(db, template, registry, text, NOW, None)
    assert store.get_state(db, "KEN", "baseline") is None
    assert store.get_state(db, "UGA", "baseline") is None
    assert list(db.query("SELECT * FROM milestone_history")) == []


def _cli(tmp_path, monkeypatch, *argv):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"storage:\n  path: {tmp_path / 'ldn.db'}\n", encoding="utf-8")
    monkeypatch.setenv("LDN_NOW", "2017-04-01T10:00:00Z")
    return main([*argv, "--config", str(cfg)])


def test_cli_import_export_and_progress(tmp_path, monkeypatch, capsys):
    good = tmp_path / "update.csv"
    good.write_text("iso3,step,status,date\nKEN,working_group,done,2016-10-15\nKEN,baseline,in_progress,\n", encoding="utf-8")
    assert _cli(tmp_path, monkeypatch, "milestones", "import", str(good), "--dry-run") == 0
    assert "would change 2" in capsys.readouterr().out
    assert _cli(tmp_path, monkeypatch, "milestones", "import", str(good)) == 0
    assert "changed 2" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_text("iso3,step,status\nKEN,leverage_plan,done\nKEN,nope,done\n", encoding="utf-8")
    assert _cli(tmp_path, monkeypatch, "milestones", "import", str(bad)) == 1
    err = capsys.readouterr().err
    assert f"{bad}: line 3: unknown step 'nope'" in err and "nothing imported" in err

    assert _cli(tmp_path, monkeypatch, "milestones", "export") == 0
    rows = rows_of(capsys.readouterr().out)
    ken = {r["step"]: r["status"] for r in rows if r["iso3"] == "KEN"}
    assert ken["working_group"] == "done" and ken["baseline"] == "in_progress" and ken["leverage_plan"] == "not_started"

    chart = tmp_path / "progress.png"
    assert _cli(tmp_path, monkeypatch, "progress", "--chart", str(chart), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"]["done"] == 1 and data["as_of"].startswith("2017-04-01T10:0")
    assert [c["region"] for c in data["charts"]] == ["I", "II", "III", "IV", "V"]
    africa = tmp_path / "progress-I.png"
    assert data["charts"][0]["path"] == str(africa) and data["charts"][0]["bytes"] == africa.stat().st_size
    width, height = png_size(africa.read_bytes())
    assert width == 1080 and height > 1000  # 40 countries, one row each
    assert _cli(tmp_path, monkeypatch, "progress") == 0
    out = capsys.readouterr().out
    assert "Africa (annex I)" in out and "KEN" in out


def test_notes_that_look_like_formulas_are_exported_as_text_and_come_back_intact(db, template, registry):
    ms.set_note(db, template, registry, "KEN", "baseline", '=HYPERLINK("http://evil.example","click")', NOW, 501)
    ms.set_note(db, template, registry, "KEN", "measures", "- draft sent\n- comments due", NOW, 501)
    text = ms.export_milestones_csv(db, template, registry)
    ken = {r["step"]: r for r in rows_of(text) if r["iso3"] == "KEN"}
    assert ken["baseline"]["note"].startswith("'=HYPERLINK")
    assert ken["measures"]["note"].startswith("'- draft")
    result = ms.import_milestones_csv(db, template, registry, text, NOW, None)
    assert result.ok and result.changed == 0
    assert state(db, template, registry, "KEN", "baseline", NOW).note.startswith("=HYPERLINK")
