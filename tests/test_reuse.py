"""A run is computed once: map, report, check and plan read the run directory back.

The end-to-end tests drive the real command line (``python -m gigacov.cli``) in subprocesses on
a small synthetic demo scenario (2 km grid, few sites), so that stdout and stderr are what a
script piping gigacov would see. The unit tests at the end exercise :mod:`gigacov.reuse`'s
decisions on fingerprints directly.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gigacov.reuse import decide, fingerprints
from gigacov.scenario import load_scenario

pytestmark = pytest.mark.slow

RUN_NAME = "quanzhou-2024-synthetic"
DATA_FILES = (
    "rsrp.tif",
    "sinr.tif",
    "server.tif",
    "covered.tif",
    "compliance.csv",
    "indicators.gpkg",
    "gaps.gpkg",
    "recommended_sites.gpkg",
    "recommended_sites.csv",
)


def gigacov(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "gigacov.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    if check:
        assert proc.returncode == 0, f"gigacov {' '.join(args)} failed:\n{proc.stderr}"
    return proc


def state(run_dir: Path) -> dict[str, tuple[int, str]]:
    """File → (mtime in ns, SHA-256) of the run's data files (those it has)."""
    return {
        name: (
            (run_dir / name).stat().st_mtime_ns,
            hashlib.sha256((run_dir / name).read_bytes()).hexdigest(),
        )
        for name in DATA_FILES
        if (run_dir / name).exists()
    }


def map_layers(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    data = re.search(
        r'<script type="application/json" id="gigacov-data">(.*?)</script>', text, re.S
    )
    assert data, "map data missing"
    return list(json.loads(data.group(1))["layerNames"].values())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo scenario after ``gigacov run --json`` (its stdout kept for the JSON test)."""
    from gigacov.demo import build_demo

    root = tmp_path_factory.mktemp("reuse")
    inputs = build_demo(root / "demo", resolution_m=2000.0, scale=0.03, terrain=False)
    scenario = inputs["scenario_2024"]
    # 2024's report compares with the 2023 run ([report] previous_run).
    gigacov("-q", "run", str(inputs["scenario_2023"]), "--no-plan", cwd=root)
    proc = gigacov("run", str(scenario), "--json", cwd=root)
    run_dir = scenario.parent / "runs" / RUN_NAME
    return {"root": root, "scenario": scenario, "run_dir": run_dir, "run": proc}


def test_run_json_is_one_document_with_the_warnings(demo):
    proc = demo["run"]
    doc = json.loads(proc.stdout)  # nothing but the JSON document on stdout
    assert doc["ok"] is True and doc["run_dir"] == str(demo["run_dir"])
    assert doc["warnings"], "the demo has counties without broadband statistics: a warning"
    assert any("no broadband statistics" in w for w in doc["warnings"])
    assert "WARNING" in proc.stderr and "no broadband statistics" in proc.stderr
    # Each warning once, however many stages met it.
    flat = "".join(proc.stderr.split())  # the log wraps long lines, even inside words
    for w in doc["warnings"]:
        assert flat.count("".join(w.split())) <= 1, w
    levels = {(s["standard"], s["level"]) for s in doc["compliance"]}
    assert ("fujian-2024", "county") in levels
    manifest = json.loads((demo["run_dir"] / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stages"]) == {"coverage", "check", "plan"}
    assert manifest["warnings"] == list(dict.fromkeys(manifest["warnings"]))


@pytest.mark.parametrize("verbosity", [[], ["-v"]])
def test_check_and_validate_json_parse_whatever_the_log_level(demo, verbosity):
    scenario, root = str(demo["scenario"]), demo["root"]
    # check recomputed: the indicators' warning is logged (on stderr).
    proc = gigacov(*verbosity, "check", scenario, "--recompute", "--json", cwd=root)
    rows = json.loads(proc.stdout)
    assert {"admin_code", "standard", "indicator", "status"} <= set(rows[0])
    assert "WARNING" in proc.stderr and "no broadband statistics" in proc.stderr
    # check reusing the run: the run's warnings are counted in the one line, -v repeats them.
    proc = gigacov(*verbosity, "check", scenario, "--json", cwd=root)
    assert json.loads(proc.stdout) == rows
    assert "warning" in proc.stderr and "when it was computed" in proc.stderr
    proc = gigacov(*verbosity, "validate", scenario, "--json", cwd=root)
    assert {r["input"] for r in json.loads(proc.stdout)["inputs"]} >= {"sites", "broadband"}
    if verbosity:
        assert "INFO" in proc.stderr or "DEBUG" in proc.stderr


def test_map_and_report_reuse_the_run_and_show_everything_it_holds(demo):
    root, scenario, run_dir = demo["root"], demo["scenario"], demo["run_dir"]
    # A run in the terminal ends with the compliance summary (logs are on stderr).
    out = gigacov("run", str(scenario), cwd=root).stdout
    assert re.match(r"compliance \(units: pass / .*no data\):", out)
    assert re.search(r"fujian-2024\s+county\s+\d+ units: \d+ pass, .*\d+ fail, \d+ no data", out)
    assert f"run directory: {run_dir}" in out and "WARNING" not in out
    before = state(run_dir)
    proc = gigacov("map", str(scenario), cwd=root)
    assert "reusing coverage, check, plan" in proc.stderr
    assert "recomputing" not in proc.stderr
    layers = map_layers(root / "maps" / f"{RUN_NAME}.html")
    assert "弱覆盖区域 / Weak-coverage areas" in layers
    assert "建议新建站址 / Recommended new sites" in layers
    assert "实测样本 RSRP 误差 / Field samples — RSRP error" in layers  # the field check too
    assert "中国移动自有5G覆盖 / 5G covered — China Mobile" in layers  # per-operator, read back
    proc = gigacov("report", str(scenario), cwd=root)
    assert "reusing coverage, check, plan" in proc.stderr
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<section id="planning">' in html and '<section id="field-check">' in html
    assert '<section id="by-operator">' in html
    assert '<section id="yoy">' in html and 'id="yoy-refused"' not in html
    assert state(run_dir) == before  # no raster or table rewritten: same bytes, same mtime
    # The manifest still marks a complete run and lists the new map.
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["map"].endswith(f"{RUN_NAME}.html")
    assert (
        manifest["plan"]["sites_recommended"]
        == len((run_dir / "recommended_sites.csv").read_text(encoding="utf-8-sig").splitlines()) - 1
    )


def test_presentation_settings_do_not_recompute(demo, tmp_path):
    scenario = demo["scenario"]
    before = state(demo["run_dir"])
    proc = gigacov("map", str(scenario), "--basemap", "none", "--cdn", cwd=tmp_path)
    assert "reusing coverage, check, plan" in proc.stderr
    assert state(demo["run_dir"]) == before


def _copy_demo(demo, tmp_path) -> tuple[Path, Path]:
    """The scenario folder with its inputs and runs, moved elsewhere (paths change, bytes do not)."""
    dest = tmp_path / "moved"
    shutil.copytree(demo["scenario"].parent, dest)
    return dest / demo["scenario"].name, dest / "runs" / RUN_NAME


def test_a_moved_run_is_reused_and_one_changed_byte_makes_it_stale(demo, tmp_path):
    scenario, run_dir = _copy_demo(demo, tmp_path)
    proc = gigacov("check", str(scenario), "--json", cwd=tmp_path)
    assert "reusing coverage, check" in proc.stderr
    json.loads(proc.stdout)
    sites = next(scenario.parent.glob("sites-2024-synthetic.csv"))
    data = bytearray(sites.read_bytes())
    i = data.rindex(b".") + 1  # a decimal digit of the last coordinate
    data[i] = ord("1") if data[i] != ord("1") else ord("2")
    sites.write_bytes(bytes(data))
    before = state(run_dir)
    proc = gigacov("map", str(scenario), cwd=tmp_path)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("gigacov:")]
    assert len(line) == 1, proc.stderr
    assert "stale run" in line[0]
    assert "input file sites-2024-synthetic.csv changed ([sites] path; SHA-256 differs)" in line[0]
    assert "recomputing coverage, check, plan" in line[0]
    after = state(run_dir)
    assert after["rsrp.tif"][0] != before["rsrp.tif"][0]  # recomputed, not reused
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    recorded = {i["input"]: i["sha256"] for i in manifest["inputs"]}
    assert recorded["sites"] == hashlib.sha256(sites.read_bytes()).hexdigest()
    # Now the run matches again and is reused.
    proc = gigacov("report", str(scenario), cwd=tmp_path)
    assert "reusing coverage, check, plan" in proc.stderr


def test_plan_for_one_operator_uses_its_carrier(demo, tmp_path):
    scenario, run_dir = _copy_demo(demo, tmp_path)
    # --recompute: independent of what earlier tests left in the copied run directory
    proc = gigacov(
        "plan",
        str(scenario),
        "--operator",
        "广电",
        "--budget",
        "2",
        "--json",
        "--recompute",
        cwd=tmp_path,
    )
    summary = json.loads(proc.stdout)
    assert summary["settings"]["operator"] == "China Broadnet"
    assert summary["settings"]["freq_mhz"] == 773.0  # its n28 carrier, 758–788 MHz
    assert summary["settings"]["carrier_mhz"] == [758.0, 788.0]
    rows = (run_dir / "recommended_sites.csv").read_text(encoding="utf-8-sig").splitlines()
    if len(rows) > 1:
        header = rows[0].split(",")
        assert {r.split(",")[header.index("operator")] for r in rows[1:]} == {"China Broadnet"}
    bad = gigacov("plan", str(scenario), "--operator", "铁塔", cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "'铁塔' is not an operator gigacov knows" in bad.stderr


def test_coverage_on_a_fresh_run_reuses_it_and_keeps_every_output(demo, tmp_path):
    """Before, `gigacov coverage` recomputed the rasters and the run lost its compliance table,
    plan and report without a word."""
    scenario, run_dir = _copy_demo(demo, tmp_path)
    before = state(run_dir)
    names = sorted(p.name for p in run_dir.iterdir())
    proc = gigacov("coverage", str(scenario), "--json", cwd=tmp_path)
    assert "reusing coverage" in proc.stderr and "recomputing" not in proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
    assert state(run_dir) == before and sorted(p.name for p in run_dir.iterdir()) == names


def test_recompute_forces_a_fresh_run(demo, tmp_path):
    scenario, run_dir = _copy_demo(demo, tmp_path)
    before = state(run_dir)
    proc = gigacov("check", str(scenario), "--recompute", cwd=tmp_path)
    assert "recomputing coverage, check: forced (--recompute)" in proc.stderr
    after = state(run_dir)
    assert after["rsrp.tif"][0] != before["rsrp.tif"][0]
    assert after["rsrp.tif"][1] == before["rsrp.tif"][1]  # same inputs, same rasters


def test_a_changed_parameter_is_named_and_only_later_stages_recompute(demo, tmp_path):
    scenario, run_dir = _copy_demo(demo, tmp_path)
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text.replace("[indicators]", "[indicators]\nsubpixel = 2\n", 1), "utf-8")
    if "[indicators]" not in text:
        scenario.write_text(text + "\n[indicators]\nsubpixel = 2\n", "utf-8")
    old = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    the_map = Path(old["outputs"]["map"])  # the run has its map and report
    assert the_map.is_file() and (run_dir / "report.html").is_file()
    before = state(run_dir)
    proc = gigacov("check", str(scenario), cwd=tmp_path)
    assert "reusing coverage" in proc.stderr
    assert "recomputing check: [indicators] subpixel: 4 → 2" in proc.stderr
    after = state(run_dir)
    assert after["rsrp.tif"] == before["rsrp.tif"]  # coverage kept
    # The plan, the map and the report were made from the old indicators: they leave the run,
    # and the user is told which and how to make them again (before, they stayed silently).
    assert "dropping the earlier plan (made from the check now recomputed)" in proc.stderr
    flat = " ".join(proc.stderr.split())
    assert "check recomputed, so the earlier outputs made from the old data leave the run" in flat
    assert "gaps.gpkg, recommended_sites.csv, recommended_sites.gpkg, report.html" in flat
    assert "'gigacov plan', 'gigacov map', 'gigacov report' makes them again" in flat
    for name in ("gaps.gpkg", "recommended_sites.csv", "recommended_sites.gpkg", "report.html"):
        assert not (run_dir / name).exists(), name
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "map" not in manifest["outputs"] and "gaps" not in json.dumps(manifest["outputs"])
    assert manifest["stages"]["plan"]["dropped"] == "made from the check now recomputed"
    assert any("leave the run" in w for w in manifest["warnings"])
    # The run had a plan: the map makes it again from the new indicators.
    proc = gigacov("map", str(scenario), cwd=tmp_path)
    assert "recomputing plan: dropped earlier: made from the check now recomputed" in proc.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "dropped" not in manifest["stages"]["plan"]
    assert (run_dir / "gaps.gpkg").is_file() and Path(manifest["outputs"]["map"]).is_file()


# ------------------------------------------------------------------------------------------------
# Decisions on fingerprints (no run needed)
# ------------------------------------------------------------------------------------------------


def _scenario(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "sites.csv").write_text("lon,lat\n118.6,24.9\n", "utf-8")
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario]\nname = "t"\nyear = 2024\nregion = "350500"\n'
        '[sites]\npath = "sites.csv"\n' + extra,
        "utf-8",
    )
    return path


def _write_manifest(run_dir: Path, fps: dict, stages=("coverage", "check", "plan")) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    records = {}
    for s in stages:
        records[s] = {"fingerprint": fps[s], "technologies": ["5G"]}
    for name in (
        "rsrp.tif",
        "sinr.tif",
        "server.tif",
        "covered.tif",
        "compliance.csv",
        "indicators.gpkg",
        "gaps.gpkg",
        "recommended_sites.gpkg",
        "recommended_sites.csv",
    ):
        (run_dir / name).write_text("x", "utf-8")
    (run_dir / "manifest.json").write_text(json.dumps({"stages": records}), "utf-8")


def test_decide_reuses_a_matching_run_and_names_every_change(tmp_path):
    path = _scenario(tmp_path)
    scn = load_scenario(path)
    fps = fingerprints(scn, [])
    _write_manifest(tmp_path / "run", json.loads(json.dumps(fps)))
    d = decide(tmp_path / "run", fps, needed=("coverage", "check"), optional=("plan",))
    assert (d.reuse, d.compute) == (["coverage", "check", "plan"], [])
    # Title, basemap and report settings are presentation only.
    scn2 = load_scenario(
        _scenario(tmp_path, '[map]\nbasemap = "none"\n[report]\nlanguage = "en"\n')
    )
    d = decide(tmp_path / "run", fingerprints(scn2, []), needed=("coverage", "check"))
    assert d.compute == []
    # A radio parameter and an input byte: both named, coverage and what follows recomputed.
    scn3 = load_scenario(_scenario(tmp_path, "[radio]\nload = 0.7\n"))
    (tmp_path / "sites.csv").write_text("lon,lat\n118.6,24.8\n", "utf-8")
    d = decide(tmp_path / "run", fingerprints(scn3, []), needed=("coverage", "check"))
    assert d.compute == ["coverage", "check"] and d.stale
    line = d.line()
    assert (
        "[radio] load: 0.5 → 0.7" in line and "input file sites.csv changed ([sites] path" in line
    )
    assert "check" in d.reasons and d.reasons["check"] == ["follows coverage"]
    # check does not need the plan, but the plan was made from the old coverage: dropped
    assert d.dropped == {"plan": ["follows check"]}
    assert "dropping the earlier plan (made from the check now recomputed)" in line


def test_a_plan_is_dropped_only_when_what_it_was_made_from_changed(tmp_path):
    scn = load_scenario(_scenario(tmp_path))
    fps = fingerprints(scn, [])
    _write_manifest(tmp_path / "run", json.loads(json.dumps(fps)))
    # forced, or a missing raster: coverage comes out as it was, the plan still holds
    d = decide(tmp_path / "run", fps, needed=("coverage", "check"), force=True)
    assert d.compute == ["coverage", "check"] and d.dropped == {}
    (tmp_path / "run" / "sinr.tif").unlink()
    d = decide(tmp_path / "run", fps, needed=("coverage", "check"))
    assert d.compute == ["coverage", "check"] and d.dropped == {}
    # only the plan's own [planning] settings differ: the plan as 'gigacov plan' made it stays
    other = fingerprints(scn, [], plan_counties=["350521"])
    assert decide(tmp_path / "run", other, needed=("coverage", "check")).dropped == {}
    # an indicator setting: check recomputed, the plan made from the old check is dropped
    scn2 = load_scenario(_scenario(tmp_path, "[indicators]\nsubpixel = 2\n"))
    d = decide(tmp_path / "run", fingerprints(scn2, []), needed=("coverage", "check"))
    assert d.compute == ["coverage", "check"] or d.compute == ["check"]
    assert list(d.dropped) == ["plan"]


def test_decide_without_a_complete_run_and_with_missing_files(tmp_path):
    scn = load_scenario(_scenario(tmp_path))
    fps = fingerprints(scn, [])
    d = decide(tmp_path / "none", fps, needed=("coverage", "check"))
    assert d.compute == ["coverage", "check"] and not d.stale
    assert d.line() == f"no complete run in {tmp_path / 'none'} yet: computing coverage, check"
    _write_manifest(tmp_path / "run", json.loads(json.dumps(fps)))
    (tmp_path / "run" / "sinr.tif").unlink()
    d = decide(tmp_path / "run", fps, needed=("coverage", "check"))
    assert d.compute == ["coverage", "check"]
    assert d.reasons["coverage"] == ["sinr.tif missing"]


def test_a_plan_made_with_other_settings_is_kept_by_map_and_redone_by_plan(tmp_path):
    scn = load_scenario(_scenario(tmp_path))
    fps = fingerprints(scn, [], plan_counties=["350521"])
    _write_manifest(tmp_path / "run", json.loads(json.dumps(fps)))
    now = fingerprints(scn, [])
    shown = decide(
        tmp_path / "run", now, needed=("coverage", "check"), optional=("plan",), plan_strict=False
    )
    assert shown.compute == [] and "plan" in shown.reuse
    assert "plan counties" in shown.line() and "plan kept as made by 'gigacov plan'" in shown.line()
    planned = decide(tmp_path / "run", now, needed=("coverage", "check", "plan"))
    assert planned.compute == ["plan"]


def test_a_changed_standard_file_is_named(tmp_path):
    scn = load_scenario(_scenario(tmp_path))
    std_file = tmp_path / "my-standard.toml"
    std_file.write_text("threshold = 1\n", "utf-8")
    std = type("Std", (), {"id": "my-standard", "version": "1", "path": std_file})()
    fps = fingerprints(scn, [std])
    _write_manifest(tmp_path / "run", json.loads(json.dumps(fps)))
    std_file.write_text("threshold = 2\n", "utf-8")
    d = decide(tmp_path / "run", fingerprints(scn, [std]), needed=("coverage", "check"))
    assert (d.reuse, d.compute) == (["coverage"], ["check"])
    assert "standard file my-standard.toml changed (my-standard; SHA-256 differs)" in d.line()
