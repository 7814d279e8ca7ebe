"""The pipeline's contract with the run directory: stages (until / skip), the manifest as the mark of
a finished run, atomic writes, and reading a run back (docs/design.md §7)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from support.places import JINJIANG_SITES, write_county_scenario

import gigacov.compliance as compliance
from gigacov.errors import InputError, RunError
from gigacov.pipeline import STAGES, run
from gigacov.rundir import (
    COMPLIANCE,
    INDICATORS,
    MANIFEST,
    REJECTED_ROWS,
    SKIPPED_ROWS,
    atomic_path,
    read_run,
    write_atomic,
    write_gpkg_layers,
)


def _partials(folder):
    return sorted(p.name for p in folder.rglob("*partial*"))


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """One small run up to the check stage, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("checked")
    return run(write_county_scenario(folder), until="check")


def test_until_validate_reads_inputs_and_computes_nothing(tmp_path, county_scenario):
    result = run(county_scenario, until="validate")
    run_dir = tmp_path / "run"
    # validate checks inputs only: it writes the rejected rows and no manifest (not a run)
    assert sorted(p.name for p in run_dir.iterdir()) == [REJECTED_ROWS, SKIPPED_ROWS]
    assert result.grid is None and result.coverage == {} and result.compliance is None
    assert set(result.timings) == {"ingest"}
    assert [r.input for r in result.inputs.reports if r.input == "sites"] == ["sites"]


def test_until_check_writes_rasters_and_tables_but_no_plan_map_or_report(checked):
    run_dir = checked.run_dir
    names = {p.name for p in run_dir.iterdir()}
    assert {MANIFEST, REJECTED_ROWS, COMPLIANCE, INDICATORS, "rsrp.tif", "covered.tif"} <= names
    assert not names & {"gaps.gpkg", "recommended_sites.csv", "report.html", "compliance.xlsx"}
    assert checked.plan is None and "map" not in checked.outputs
    assert {"ingest", "population", "coverage_5g", "indicators", "compliance"} <= set(
        checked.timings
    )
    assert _partials(run_dir) == []


def test_a_run_read_back_matches_the_run_in_memory(checked):
    stored = read_run(checked.run_dir)
    assert stored.manifest["scenario"]["name"] == "jinjiang-small"
    mine = checked.compliance.reset_index(drop=True)
    back = stored.compliance[list(mine.columns)]
    assert back["admin_code"].tolist() == mine["admin_code"].astype(str).tolist()
    assert back["status"].tolist() == mine["status"].tolist()
    pd.testing.assert_series_equal(back["value"], mine["value"].astype(float), check_names=False)
    county = stored.units["county"].set_index("admin_code")
    assert county.loc["350582", "pop_coverage_5g"] == pytest.approx(
        checked.indicators.table("county").set_index("admin_code").loc["350582", "pop_coverage_5g"],
        nan_ok=True,
    )
    assert county.loc["350582", "sites_5g"] == len(JINJIANG_SITES)


def test_skip_leaves_a_stage_out_and_later_stages_still_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the map goes to maps/<name>.html under the working directory
    result = run(
        write_county_scenario(tmp_path, extra='[map]\nbasemap = "none"\noffline = true\n'),
        until="map",
        skip={"plan"},
    )
    assert result.plan is None
    assert not (tmp_path / "run" / "gaps.gpkg").exists()
    assert result.outputs["map"].is_file() and "map" in result.timings
    assert result.outputs["map"].resolve().is_relative_to(tmp_path.resolve())
    assert "planning" not in result.timings
    assert json.loads((tmp_path / "run" / MANIFEST).read_text("utf-8"))["outputs"]["map"]


def test_unknown_stage_is_refused_before_anything_is_written(tmp_path, county_scenario):
    with pytest.raises(ValueError, match="until must be one of"):
        run(county_scenario, until="everything")
    assert not (tmp_path / "run").exists()
    assert STAGES == ("validate", "coverage", "check", "plan", "map", "report")


def test_a_rerun_with_unusable_inputs_leaves_the_complete_run_as_it_was(tmp_path, county_scenario):
    path = county_scenario
    run(path, until="check")
    before = (tmp_path / "run" / MANIFEST).read_bytes()
    (tmp_path / "sites.csv").write_text("name,lat\nA,24.7\n", "utf-8")  # no lon column
    with pytest.raises(InputError, match="sites.csv"):
        run(path, until="check")
    assert (tmp_path / "run" / MANIFEST).read_bytes() == before
    assert read_run(tmp_path / "run").manifest["scenario"]["name"] == "jinjiang-small"


def test_a_run_interrupted_in_a_stage_leaves_no_run_and_no_partial_file(tmp_path, monkeypatch):
    path = write_county_scenario(tmp_path)

    def broken_evaluate(*args, **kwargs):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C during the compliance stage

    monkeypatch.setattr(compliance, "evaluate", broken_evaluate)
    with pytest.raises(KeyboardInterrupt):
        run(path, until="check")
    run_dir = tmp_path / "run"
    # the run was being built in a staging folder: nothing of it reached the run directory
    assert not run_dir.exists() or list(run_dir.iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if ".gigacov-staging-" in p.name]
    assert _partials(tmp_path) == []
    with pytest.raises(RunError, match="does not exist|missing manifest.json"):
        read_run(run_dir)


def test_atomic_path_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n", "utf-8")

    def half_then_fail(tmp):
        tmp.write_text("half a fi", "utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, half_then_fail)
    assert target.read_text("utf-8") == "old\n"
    assert _partials(tmp_path) == []
    with atomic_path(tmp_path / "sub" / "new.csv") as tmp:
        assert tmp.name == "new.csv" and tmp.parent.parent == tmp_path / "sub"
        tmp.write_text("new\n", "utf-8")
    assert (tmp_path / "sub" / "new.csv").read_text("utf-8") == "new\n"
    assert _partials(tmp_path) == []


def test_a_geopackage_is_replaced_whole_or_not_at_all(tmp_path, checked):
    import pyogrio

    target = tmp_path / INDICATORS
    county = checked.indicators.table("county")
    write_gpkg_layers(target, [("county", county)])
    before = target.read_bytes()
    not_a_layer = pd.DataFrame({"admin_code": ["350582"]})  # no geometry: fails after "city"
    with pytest.raises(AttributeError):
        write_gpkg_layers(target, [("city", county), ("county", not_a_layer)])
    assert target.read_bytes() == before
    assert [str(r[0]) for r in pyogrio.list_layers(target)] == ["county"]
    assert _partials(tmp_path) == []
