"""The country registry keeps the Convention's annex apart from the programme's grouping."""
from __future__ import annotations

import pytest

from knowledge.countries import DEFAULT_PATH, load_countries
from knowledge.yamlfile import DataError


@pytest.fixture(scope="module")
def registry():
    return load_countries()


def test_central_asia_is_asia_in_the_convention_and_cee_in_the_programme(registry):
    for iso3 in ("KGZ", "UZB"):
        country = registry.get(iso3)
        assert (country.unccd_annex, country.programme_annex, country.annex) == ("II", "V", "V")
        assert country.workshop == "batumi"
    others = [c.iso3 for c in registry if c.unccd_annex != c.programme_annex]
    assert sorted(others) == ["KGZ", "UZB"]


def test_pilot_countries_have_their_own_workshop(registry):
    pilots = registry.pilots()
    assert len(pilots) == 14
    assert {c.workshop for c in pilots} == {"pilots"}
    assert all(c.workshop != "pilots" for c in registry if not c.pilot)
    # their annexes stay those of their geography
    assert registry.get("BTN").annex == "II" and registry.get("CHL").annex == "III" and registry.get("DZA").annex == "I"


def test_targeting_by_annex_follows_the_programme(registry):
    circle, members = registry.resolve_circle("europe")
    assert circle == "annex:IV+V"
    assert {"KGZ", "UZB", "GEO"} <= set(members)
    assert "KGZ" not in registry.resolve_circle("asia")[1]


def test_json_carries_both_annexes(registry):
    kgz = next(c for c in registry.to_json() if c["iso3"] == "KGZ")
    assert (kgz["annex"], kgz["unccd_annex"], kgz["programme_annex"]) == ("V", "II", "V")


def _load_changed(tmp_path, old, new, after="countries:"):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    start = text.index(after)
    assert old in text[start:]
    path = tmp_path / "countries.yaml"
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_countries(path)
    return str(exc.value)


def test_a_pilot_sent_to_a_regional_workshop_is_refused(tmp_path):
    message = _load_changed(tmp_path, "workshop: pilots", "workshop: konya", after="  - iso3: DZA")
    assert "DZA: the pilots workshop is for the 14 pilot countries" in message


def test_an_unknown_convention_annex_is_refused(tmp_path):
    message = _load_changed(tmp_path, "unccd_annex: II\n    programme_annex: V", "unccd_annex: VI\n    programme_annex: V")
    assert "KGZ: unccd_annex must be one of" in message
