"""``ldn-bot faq search|eval|reload|gaps`` through argparse, on a database built per test."""
from __future__ import annotations

import argparse
import csv
import io
import json
import re

import pytest

from bot.cli_faq import add_faq_commands
from storage import faq as store
from tests.knowledge.util import FIXTURE_DEVSET, FIXTURE_FAQ


class Ctx:
    def __init__(self, db):
        self.db = db


def run(ctx, *argv, takes_args=False):
    """Parse and run ``faq ...``; return (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="ldn-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    if takes_args:
        add_faq_commands(sub, lambda args: ctx)
    else:
        add_faq_commands(sub, lambda: ctx)
    args = parser.parse_args(["faq", *argv])
    return args.func(args)


@pytest.fixture
def ctx(loaded_db):
    return Ctx(loaded_db)


def test_search_json_shape(ctx, capsys):
    assert run(ctx, "search", "что такое НБДЗ", "--json") == 0
    items = json.loads(capsys.readouterr().out)
    assert items and items[0]["id"] == "ldn-definition"
    assert set(items[0]) == {"id", "score", "question", "answer", "lang"}
    assert items[0]["lang"] == "en" and items[0]["question"].startswith("What is land")
    assert 0 <= items[0]["score"] <= 1
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_search_lang_chooses_the_answer_language_and_keeps_unicode(ctx, capsys):
    assert run(ctx, "search", "soil organic carbon", "--lang", "zh", "--limit", "1", "--json", takes_args=True) == 0
    out = capsys.readouterr().out
    assert "土壤有机碳" in out  # ensure_ascii=False
    items = json.loads(out)
    assert len(items) == 1 and items[0]["lang"] == "zh" and items[0]["id"] == "soc-indicator"


def test_search_abstains_with_an_empty_list(ctx, capsys):
    assert run(ctx, "search", "bitcoin price", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(ctx, "search", 'NEAR("  * AND ((', "--json") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_search_json_falls_back_to_english_for_a_promoted_entry(ctx, capsys):
    draft = store.add_draft(ctx.db, topic="data", q="Where is the drought toolbox?", a="On the UNCCD website.",
                            alt=["drought toolbox"])
    entry_id = store.approve_draft(ctx.db, draft, by=900)
    assert run(ctx, "search", "drought toolbox", "--lang", "ru", "--json") == 0
    item = json.loads(capsys.readouterr().out)[0]
    assert item["id"] == entry_id and item["lang"] == "en" and item["answer"] == "On the UNCCD website."


def test_search_plain_text(ctx, capsys):
    run(ctx, "search", "baseline period")
    out = capsys.readouterr().out
    assert "baseline-period" in out and "2000-2015" in out
    run(ctx, "search", "bitcoin price")
    assert "no answer" in capsys.readouterr().out


def test_search_loads_the_yaml_into_a_never_loaded_database(db, capsys):
    ctx = Ctx(db)
    assert run(ctx, "search", "land degradation neutrality", "--json") == 0
    items = json.loads(capsys.readouterr().out)
    assert store.knowledge_version(db) == 1  # the real knowledge/faq was loaded
    assert {item["id"] for item in items} <= {e.id for e in store.read_entries(db)}


def test_eval_prints_figures_per_language(ctx, capsys):
    assert run(ctx, "eval", str(FIXTURE_DEVSET), "--failures") == 0
    out = capsys.readouterr().out
    assert "top-1" in out and "top-3" in out and "abstain" in out
    assert any(line.startswith("all ") and "100.0%" in line for line in out.splitlines())
    for lang in ("en", "fr", "ru", "zh"):
        assert any(line.startswith(lang) for line in out.splitlines())
    assert run(ctx, "eval", str(FIXTURE_DEVSET), "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["overall"]["top1"] == 1.0 and figures["overall"]["abstention"] == 1.0


def test_reload_loads_and_bumps_the_version(ctx, capsys):
    assert run(ctx, "reload", "--dir", str(FIXTURE_FAQ)) == 0
    assert "knowledge version 2" in capsys.readouterr().out
    assert store.knowledge_version(ctx.db) == 2


def test_reload_rejects_invalid_yaml_and_keeps_the_old_knowledge(ctx, faq_copy, capsys):
    (faq_copy / "basics.yaml").write_text("entries:\n  - id: x\n    en: {q: [unclosed\n", encoding="utf-8")
    assert run(ctx, "reload", "--dir", str(faq_copy)) == 1
    err = capsys.readouterr().err
    assert re.search(re.escape(str(faq_copy / "basics.yaml")) + r":\d+: invalid YAML", err)
    assert "still served" in err
    assert store.knowledge_version(ctx.db) == 1
    run(ctx, "search", "SDG 15.3", "--json")
    assert json.loads(capsys.readouterr().out)[0]["id"] == "sdg-15-3"


def test_gaps_csv(ctx, capsys):
    store.log_miss(ctx.db, 'weather, "Paris"', lang="fr", best_score=0.2, country="SEN", user_id=502)
    store.record_feedback(ctx.db, "soc-indicator", False, lang="en", query="soil carbon", country="KEN")
    assert run(ctx, "gaps", "--csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(r["kind"] for r in rows) == ["abstain", "not_helpful"]
    miss = next(r for r in rows if r["kind"] == "abstain")
    assert miss["query"] == 'weather, "Paris"' and miss["country"] == "SEN" and miss["lang"] == "fr"
    assert "user_id" not in miss
    assert run(ctx, "gaps") == 0
    assert "weather" in capsys.readouterr().out


def test_gaps_empty(ctx, capsys):
    assert run(ctx, "gaps") == 0
    assert "No misses" in capsys.readouterr().out


def test_main_cli_registers_faq(tmp_path, monkeypatch, capsys):
    """The project's ``ldn-bot`` finds these commands (``bot.cli_faq.add_commands``)."""
    from bot import cli as main_cli

    monkeypatch.setenv("LDN_DB", str(tmp_path / "ldn.db"))
    monkeypatch.chdir(tmp_path)
    code = main_cli.main(["faq", "search", "land degradation neutrality", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)[0]["score"] > 0
