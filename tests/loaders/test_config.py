"""Region presets are configuration; a wrong value is named with its file and key."""

from pathlib import Path

import pytest

from loaders.config import load_regions
from loaders.errors import ConfigError
from store.settings import store_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_presets_are_the_four_regions_with_avon_and_somerset_default():
    regions = load_regions()
    assert list(regions) == ["avon_and_somerset", "worcestershire", "west_midlands_ca",
                             "england_and_wales"]
    assert [r.name for r in regions.values() if r.default] == ["avon_and_somerset"]
    assert regions["england_and_wales"].lads is None
    somerset_districts = {"E07000187", "E07000188", "E07000189", "E07000246"}
    assert somerset_districts <= set(regions["avon_and_somerset"].lads)
    assert all(r.vintage == 2011 for r in regions.values())


def test_bad_presets_name_every_problem():
    with pytest.raises(ConfigError) as err:
        load_regions(FIXTURES / "regions_bad.toml")
    message = err.value.user_message
    assert "regions_bad.toml" in message
    assert "[regions.bad] lads has malformed LAD codes" in message
    assert "vintage was 2015" in message
    assert "lsoa_boundaries was 'everywhere'" in message
    assert "exactly one region must set default" in message


def test_unreadable_toml_is_refused(tmp_path):
    path = tmp_path / "regions.toml"
    path.write_text("[regions.x\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_regions(path)


def test_store_path_prefers_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ODA_STORE", str(tmp_path / "env.duckdb"))
    assert store_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"
    assert store_path() == tmp_path / "env.duckdb"
