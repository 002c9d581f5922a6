"""Start-up: parsed data files are kept beside the database (``knowledge.yamlfile.keep_parsed_in``)
and read back by the next process; a changed file is parsed anew, a damaged pickle is ignored,
and a command gives the same answer with or without them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from knowledge import yamlfile
from knowledge.countries import load_countries
from tests.util import ROOT


@pytest.fixture
def kept(tmp_path):
    yamlfile.keep_parsed_in(tmp_path / "cache")
    yamlfile._CACHE.clear()
    yield tmp_path / "cache"
    yamlfile.keep_parsed_in(None)
    yamlfile._CACHE.clear()


def _pickles(folder: Path) -> list[Path]:
    return sorted(folder.glob("yaml-*.pickle"))


def test_a_parsed_file_is_kept_and_read_back_with_its_lines(tmp_path, kept):
    source = tmp_path / "countries.yaml"
    shutil.copyfile(ROOT / "knowledge" / "countries.yaml", source)
    first = yamlfile.load_file(source)
    assert len(_pickles(kept)) == 1
    yamlfile._CACHE.clear()  # as in a new process
    again = yamlfile.load_file(source)
    assert again == first and again is not first
    entry, kept_entry = first["countries"][3], again["countries"][3]
    assert isinstance(kept_entry, yamlfile.Node) and kept_entry.line == entry.line > 1
    assert kept_entry.key_lines == entry.key_lines
    assert load_countries(source).to_json() == load_countries(ROOT / "knowledge" / "countries.yaml").to_json()


def test_a_changed_file_is_parsed_again_and_replaces_its_pickle(tmp_path, kept):
    source = tmp_path / "data.yaml"
    source.write_text("items:\n  - a\n", encoding="utf-8")
    assert yamlfile.load_file(source) == {"items": ["a"]}
    before = _pickles(kept)
    source.write_text("items:\n  - a\n  - b\n", encoding="utf-8")
    yamlfile._CACHE.clear()
    assert yamlfile.load_file(source) == {"items": ["a", "b"]}
    after = _pickles(kept)
    assert len(after) == 1 and after != before  # the old version's pickle is gone


def test_a_damaged_pickle_is_ignored_and_bad_yaml_is_never_kept(tmp_path, kept):
    source = tmp_path / "data.yaml"
    source.write_text("items: [1, 2]\n", encoding="utf-8")
    yamlfile.load_file(source)
    [pickle_file] = _pickles(kept)
    pickle_file.write_bytes(b"not a pickle")
    yamlfile._CACHE.clear()
    assert yamlfile.load_file(source) == {"items": [1, 2]}
    broken = tmp_path / "broken.yaml"
    broken.write_text("items: [1, 2\n", encoding="utf-8")
    with pytest.raises(yamlfile.DataError) as raised:
        yamlfile.load_file(broken)
    assert "broken.yaml:" in str(raised.value) and "invalid YAML" in str(raised.value)
    assert len(_pickles(kept)) == 1


def test_commands_keep_the_files_they_parse_beside_the_database_and_answer_the_same(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDN_DB", str(tmp_path / "bot.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    yamlfile._CACHE.clear()
    try:
        assert main(["countries", "--json"]) == 0
        parsed = capsys.readouterr().out
        assert _pickles(tmp_path / ".ldn-cache")  # countries.yaml, kept
        yamlfile._CACHE.clear()
        assert main(["countries", "--json"]) == 0
        assert capsys.readouterr().out == parsed
    finally:
        yamlfile.keep_parsed_in(None)
        yamlfile._CACHE.clear()
