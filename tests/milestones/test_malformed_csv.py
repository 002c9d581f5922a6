"""Malformed spreadsheets are refused whole, with ``line N: ...``, through ``ldn-bot milestones
import`` (issue #15): duplicate headers, a quote left open, mixed delimiters, a byte-order mark
in the middle, binary content, dates and step numbers out of range."""
from __future__ import annotations

import csv
import io

import pytest

from bot.cli import main

GOOD_ROW = "KEN,working_group,done"  # a valid row in every file: it must not be applied either


def _cli(tmp_path, monkeypatch, *argv):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"storage:\n  path: {tmp_path / 'ldn.db'}\n", encoding="utf-8")
    monkeypatch.setenv("LDN_NOW", "2017-04-01T10:00:00Z")
    return main([*argv, "--config", str(cfg)])


def _exported(tmp_path, monkeypatch, capsys) -> dict[tuple[str, str], dict]:
    assert _cli(tmp_path, monkeypatch, "milestones", "export") == 0
    rows = csv.DictReader(io.StringIO(capsys.readouterr().out))
    return {(r["iso3"], r["step"]): r for r in rows}


def _import(tmp_path, monkeypatch, capsys, content: str | bytes) -> str:
    """Import ``content``; it must be refused. Returns stderr."""
    path = tmp_path / "sheet.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert _cli(tmp_path, monkeypatch, "milestones", "import", str(path)) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    return err


def _nothing_applied(tmp_path, monkeypatch, capsys) -> None:
    rows = _exported(tmp_path, monkeypatch, capsys)
    assert all(r["status"] == "not_started" and not r["note"] and r["due"] for r in rows.values())
    assert rows[("KEN", "working_group")]["changed_at"] == ""


CASES = {
    "duplicate header": (f"iso3,step,status,iso3\n{GOOD_ROW},UGA\n", "line 1: column 'iso3' appears twice"),
    "duplicate header by alias": (f"iso3,step,status,code\n{GOOD_ROW},UGA\n",
                                  "line 1: column 'iso3' appears twice (column 1 'iso3' and column 4 'code')"),
    "duplicate status": (f"iso3,step,status,Status\n{GOOD_ROW},in_progress\n", "line 1: column 'status' appears twice"),
    "unterminated quote": (f"iso3,step,status,note\n{GOOD_ROW},ok\nUGA,baseline,done,\"started\nSEN,baseline,done,x\n"
                           "ETH,baseline,done,y\n", "line 3: a quote opened on this row is never closed"),
    "quote closed by a later row": (f"iso3,step,status,note\n{GOOD_ROW},\"open\nUGA,baseline,done,\"closed\"\n",
                                    "line 2: cannot read this row"),
    "quote that swallows rows": (f"iso3,step,status,note\n{GOOD_ROW},\"open\nUGA,baseline,done,\nSEN,baseline,done,\"\n",
                                 "line 2: the note runs over line 3, which reads like a row of its own"),
    "line break in a code cell": ("iso3,step,status\n\"KEN\nUGA\",working_group,done\n",
                                  "line 2: a line break inside the iso3 cell"),
    "mixed delimiters in rows": (f"iso3,step,status\n{GOOD_ROW}\nUGA;baseline;done\n",
                                 "line 3: cells separated by ';' but the header by ','"),
    "mixed delimiters in the header": (f"iso3,step;status\n{GOOD_ROW}\n", "line 1: the header mixes delimiters (',' and ';')"),
    "tab rows in a semicolon file": ("iso3;step;status\nKEN;working_group;done\nUGA\tbaseline\tdone\n",
                                     "line 3: cells separated by '\\t' but the header by ';'"),
    "byte-order mark in the middle": (f"iso3,step,status\n{GOOD_ROW}\n\ufeffiso3,step,status\nUGA,baseline,done\n",
                                      "line 3: a byte-order mark (U+FEFF) in the middle of the file"),
    "NUL byte": (f"iso3,step,status\n{GOOD_ROW}\nUGA,baseline,do\x00ne\n", "line 3: binary content (control character U+0000)"),
    "binary file": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00\x00\x00L\x02\x00\x00",
                    "line 1: binary content (control character U+0003)"),
    "status date before the range": (f"iso3,step,status,date\n{GOOD_ROW},2016-10-01\nUGA,baseline,done,0001-01-01\n",
                                     "line 3: date 0001-01-01 is outside 1990-01-01..2100-12-31"),
    "due date after the range": ("iso3,step,due\nKEN,working_group,2017-01-31\nUGA,baseline,9999-12-31\n",
                                 "line 3: due 9999-12-31 is outside 1990-01-01..2100-12-31"),
    "step number out of range": (f"iso3,step,status\n{GOOD_ROW}\nUGA,99999,done\n", "line 3: step number 99999 is outside 1..10"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_file_is_refused_whole_with_its_line(case, tmp_path, monkeypatch, capsys):
    content, expected = CASES[case]
    err = _import(tmp_path, monkeypatch, capsys, content)
    assert expected in err, err
    _nothing_applied(tmp_path, monkeypatch, capsys)


def test_an_unclosed_quote_does_not_turn_the_rest_of_the_file_into_a_note(tmp_path, monkeypatch, capsys):
    rest = "".join(f"{iso3},baseline,in_progress,\n" for iso3 in ("SEN", "ETH", "CHN", "THA", "PER"))
    err = _import(tmp_path, monkeypatch, capsys, f"iso3,step,status,note\n{GOOD_ROW},\"the note starts here\n{rest}")
    assert "line 2: a quote opened on this row is never closed" in err
    rows = _exported(tmp_path, monkeypatch, capsys)
    assert not any(r["note"] for r in rows.values())


def test_a_multi_line_note_and_a_leading_byte_order_mark_are_fine(tmp_path, monkeypatch, capsys):
    path = tmp_path / "sheet.csv"
    path.write_text("\ufeffiso3;step;status;note\nKEN;working_group;done;\"met twice;\nminutes sent\"\n", encoding="utf-8")
    assert _cli(tmp_path, monkeypatch, "milestones", "import", str(path)) == 0
    assert "changed 1" in capsys.readouterr().out
    row = _exported(tmp_path, monkeypatch, capsys)[("KEN", "working_group")]
    assert (row["status"], row["note"]) == ("done", "met twice;\nminutes sent")
