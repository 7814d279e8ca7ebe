"""The scenario loader: validation messages, unknown-key suggestions, path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from gigacov.errors import ConfigError
from gigacov.scenario import default_boundaries_path, load_scenario, scenario_from_dict

MINIMAL = '[scenario]\nname = "x"\nyear = 2024\n[sites]\npath = "sites.csv"\n'


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path, monkeypatch):
    sub = tmp_path / "cfg"
    sub.mkdir()
    p = write(
        sub,
        MINIMAL + '[broadband]\npath = "../data/bb.csv"\n[population]\nraster = "/abs/pop.tif"\n',
    )
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    scn = load_scenario(Path("cfg") / "s.toml")
    assert scn.sites.path == str(sub.resolve() / "sites.csv")
    # ".." is taken out, so that messages and the manifest name the file one way
    assert scn.broadband.path == str(tmp_path.resolve() / "data" / "bb.csv")
    assert scn.population.raster == "/abs/pop.tif"
    assert scn.out_dir == sub.resolve() / "out" / "x"
    assert scn.boundaries.counties == str(default_boundaries_path())
    assert scn.path == p.resolve()


def test_unknown_key_and_section_suggest_the_closest(tmp_path):
    with pytest.raises(ConfigError, match=r"\[sites\]: unknown key 'pth'; did you mean 'path'\?"):
        load_scenario(
            write(tmp_path, '[scenario]\nname = "x"\nyear = 2024\n[sites]\npth = "a.csv"\n')
        )
    with pytest.raises(
        ConfigError, match=r"unknown section 'boundary'; did you mean 'boundaries'\?"
    ):
        load_scenario(write(tmp_path, MINIMAL + '[boundary]\ncounties = "a.gpkg"\n'))
    with pytest.raises(
        ConfigError, match=r"unknown key 'region_margin'; did you mean 'region_margin_m'\?"
    ):
        load_scenario(write(tmp_path, MINIMAL + "region_margin = 100\n"))


def test_type_errors_name_the_key(tmp_path):
    with pytest.raises(
        ConfigError, match=r"\[sites\] region_margin_m: expected a number, got 'far'"
    ):
        load_scenario(write(tmp_path, MINIMAL + 'region_margin_m = "far"\n'))
    with pytest.raises(ConfigError, match=r"\[sites\] columns: expected a table such as"):
        load_scenario(write(tmp_path, MINIMAL + 'columns = "lon"\n'))
    with pytest.raises(ConfigError, match=r"\[sites\] columns.lon: expected a string, got \[1\]"):
        load_scenario(write(tmp_path, MINIMAL + "columns = { lon = [1] }\n"))
    with pytest.raises(
        ConfigError, match=r"'3gpp-38.901-um' is not one of.*did you mean '3gpp-38.901-um[ai]'"
    ):
        load_scenario(write(tmp_path, MINIMAL + '[radio]\nmodel = "3gpp-38.901-um"\n'))


def test_column_tables_are_read(tmp_path):
    scn = load_scenario(write(tmp_path, MINIMAL + 'columns = { lon = "X坐标", lat = "Y坐标" }\n'))
    assert scn.sites.columns == {"lon": "X坐标", "lat": "Y坐标"}
    assert scn.sites.region_margin_m == 5000.0


def test_required_values(tmp_path):
    with pytest.raises(ConfigError, match=r"\[scenario\] year is required, e.g. year = 2024"):
        load_scenario(write(tmp_path, '[scenario]\nname = "x"\n[sites]\npath = "a.csv"\n'))
    with pytest.raises(ConfigError, match=r"year must be a year such as 2024, got 24"):
        load_scenario(
            write(tmp_path, '[scenario]\nname = "x"\nyear = 24\n[sites]\npath = "a.csv"\n')
        )
    with pytest.raises(ConfigError, match=r"missing required section \[sites\]"):
        load_scenario(write(tmp_path, '[scenario]\nname = "x"\nyear = 2024\n'))
    with pytest.raises(ConfigError, match=r"region '35-05' must be an adcode prefix"):
        scenario_from_dict(
            {"scenario": {"name": "x", "year": 2024, "region": "35-05"}, "sites": {"path": "a"}}
        )


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
        load_scenario(write(tmp_path, '[scenario]\nname = "x\n'))
    with pytest.raises(ConfigError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")
    # region written as a number still works
    scn = scenario_from_dict(
        {"scenario": {"name": "x", "year": 2024, "region": 350500}, "sites": {"path": "a"}}
    )
    assert scn.scenario.region == "350500"


def test_the_readme_scenario_example_is_a_valid_scenario(tmp_path):
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example is not None, "README.md lost its scenario example"
    path = tmp_path / "scenario.toml"
    path.write_text(example.group(1), encoding="utf-8")
    scn = load_scenario(path)
    assert scn.year == 2024 and scn.scenario.region == "350500"
    assert scn.sites.path == str(tmp_path / "sites.csv") and scn.planning.budget == 50
