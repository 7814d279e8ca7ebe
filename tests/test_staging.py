"""A run is a transaction: it is built in a staging folder and moved in when complete.

An interrupted re-run — an exception, Ctrl-C/SIGTERM, a SIGKILL in a stage or in the middle of
the move — leaves the previous run byte-identical (or, killed while moving in, completed by the
next command), the next command sweeps what the killed one left, and the user's own files in the
run directory stay. The subprocess tests drive the real command line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hostile import write_tiny_scenario

from gigacov import safefs, staging
from gigacov.errors import StandardError
from gigacov.pipeline import run
from gigacov.rundir import read_run

TAG = staging.STAGING_TAG


def _snapshot(*folders: Path) -> dict[str, bytes]:
    """Every file under the folders (relative name → bytes)."""
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                out[str(p.relative_to(folder.parent))] = p.read_bytes()
    return out


def _leftovers(*folders: Path) -> list[str]:
    return sorted(
        p.name
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
        if TAG in p.name or p.name.startswith(safefs.PARTIAL_PREFIX)
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def finished(tmp_path, monkeypatch):
    """A tiny scenario with a complete run (map and report included) and the user's own file in
    its run directory; returns (scenario, snapshot of the run and the map). The test runs in
    the scenario's folder (the map goes to ``maps/`` there)."""
    scenario = write_tiny_scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    run(scenario)
    (tmp_path / "run" / "notes.txt").write_text("my notes on last year's run", "utf-8")
    # the next run would differ: one site more
    with (tmp_path / "sites.csv").open("a", encoding="utf-8") as f:
        f.write("S9,118.58,24.85,5G\n")
    return scenario, _snapshot(tmp_path / "run", tmp_path / "maps")


def test_a_run_that_fails_in_a_stage_leaves_the_previous_run_byte_identical(finished, tmp_path):
    scenario, before = finished
    # a real failing input: the standard file is read by the check stage, after the coverage
    # rasters of the new run were written
    (tmp_path / "std.toml").write_text("id = [broken", "utf-8")
    with pytest.raises(StandardError):
        run(scenario)
    assert _snapshot(tmp_path / "run", tmp_path / "maps") == before
    assert _leftovers(tmp_path, tmp_path / "run") == []
    assert read_run(tmp_path / "run").manifest["scenario"]["name"] == "tiny"


def test_an_exception_in_the_report_stage_leaves_run_and_map_as_they_were(
    finished, tmp_path, monkeypatch
):
    import errno

    import gigacov.report as report

    scenario, before = finished

    def disk_full(run):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report, "write_report", disk_full)
    for reuse in (False, True):  # gigacov run, and gigacov report (which reuses the run)
        with pytest.raises(OSError, match="No space"):
            run(scenario, reuse=reuse)
        # the new map was staged with the run: maps/tiny.html is last run's still
        assert _snapshot(tmp_path / "run", tmp_path / "maps") == before
        assert _leftovers(tmp_path, tmp_path / "run", tmp_path / "maps") == []


def test_a_rerun_replaces_only_gigacov_files_and_keeps_the_users(finished, tmp_path):
    scenario, before = finished
    run_dir = tmp_path / "run"
    (run_dir / "mine").mkdir()
    (run_dir / "mine" / "table.xlsx").write_bytes(b"user data")
    (run_dir / "rsrp_final_v2.txt").write_text("a user's file with a raster-like name", "utf-8")
    os.chmod(run_dir, 0o750)
    inode = run_dir.stat().st_ino
    result = run(scenario, until="check")
    assert result.run_dir == run_dir and result.outputs["compliance"] == run_dir / "compliance.csv"
    names = {p.name for p in run_dir.iterdir()}
    # last run's report, workbook and plan are gone with it (they described the old data) ...
    assert not names & {"report.html", "compliance.xlsx", "gaps.gpkg", "recommended_sites.csv"}
    # ... the user's files and the folder itself (same inode, same permissions) stay
    assert (run_dir / "notes.txt").read_text("utf-8") == "my notes on last year's run"
    assert (run_dir / "mine" / "table.xlsx").read_bytes() == b"user data"
    assert (run_dir / "rsrp_final_v2.txt").is_file()
    assert run_dir.stat().st_ino == inode and stat.S_IMODE(run_dir.stat().st_mode) == 0o750
    assert read_run(run_dir).manifest["inputs"]
    assert (run_dir / "compliance.csv").read_bytes() != before["run/compliance.csv"]
    assert _leftovers(tmp_path, run_dir) == []


def test_a_reusing_command_hard_links_what_it_reuses(finished, tmp_path):
    scenario, _ = finished
    run(scenario, until="check")  # the run as the scenario now is (no map, no report)
    data = ["rsrp.tif", "covered.tif", "compliance.csv", "indicators.gpkg"]
    inodes = {n: (tmp_path / "run" / n).stat().st_ino for n in data}
    # gigacov report: reuses coverage and check
    result = run(scenario, until="report", skip={"plan", "map"}, reuse=True)
    assert result.reuse.reuse == ["coverage", "check"] and not result.reuse.compute
    assert {n: (tmp_path / "run" / n).stat().st_ino for n in data} == inodes
    assert (tmp_path / "run" / "report.html").is_file()
    # gigacov map: the map is staged with the run, the report links it where it ends up
    result = run(scenario, until="map", skip={"plan"}, reuse=True)
    assert result.outputs["map"] == tmp_path / "maps" / "tiny.html"
    assert {n: (tmp_path / "run" / n).stat().st_ino for n in data} == inodes
    run(scenario, until="report", skip={"plan", "map"}, reuse=True)
    html = (tmp_path / "run" / "report.html").read_text("utf-8")
    assert 'href="../maps/tiny.html"' in html and TAG not in html
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert manifest["outputs"]["map"] == str(tmp_path / "maps" / "tiny.html")
    assert manifest["outputs"]["report"] == "report.html"


def test_out_dir_dot_with_inputs_inside_it(tmp_path, monkeypatch):
    work = tmp_path / "work"
    scenario = write_tiny_scenario(work)
    text = scenario.read_text("utf-8").replace('out_dir = "run"', 'out_dir = "."')
    scenario.write_text(text, "utf-8")
    inputs = _snapshot(work)
    monkeypatch.chdir(work)
    for _ in range(2):
        run(scenario, until="check")
    after = _snapshot(work)
    assert {k: v for k, v in after.items() if k in inputs} == inputs
    assert (work / "manifest.json").is_file() and (work / "compliance.csv").is_file()
    assert _leftovers(tmp_path, work) == []


# ------------------------------------------------------------------------------------------------
# Killed for real: the command line in a subprocess
# ------------------------------------------------------------------------------------------------

#: Runs ``gigacov run`` with a hook: ``stage`` prints "ready" and sleeps in the report stage,
#: ``commit`` kills the process with SIGKILL after the third file moved in.
_DRIVER = textwrap.dedent(
    """
    import os, signal, sys, time
    mode = sys.argv[1]
    if mode == "stage":
        import gigacov.report as report

        def stalled(run):
            print("ready", flush=True)
            time.sleep(120)

        report.write_report = stalled
    elif mode == "commit":
        import gigacov.staging as staging

        moved = []
        real_move = staging._move

        def move(src, dst):
            real_move(src, dst)
            moved.append(dst)
            if len(moved) == 3:
                os.kill(os.getpid(), signal.SIGKILL)

        staging._move = move
    from gigacov.cli import main

    main(["run", sys.argv[2]])
    """
)


def _gigacov(tmp_path: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _stalled_run(tmp_path: Path, scenario: Path) -> subprocess.Popen:
    proc = _gigacov(tmp_path, "-c", _DRIVER, "stage", str(scenario))
    line = proc.stdout.readline().strip()
    assert line == "ready", proc.stderr.read()
    return proc


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_rerun_leaves_the_previous_run_and_the_next_run_sweeps(finished, tmp_path, sig):
    scenario, before = finished
    proc = _stalled_run(tmp_path, scenario)
    staged = [p for p in tmp_path.iterdir() if TAG in p.name]
    assert len(staged) == 1 and (staged[0] / "compliance.csv").is_file()
    proc.send_signal(sig)
    code = proc.wait(timeout=60)
    err = proc.stderr.read()
    assert _snapshot(tmp_path / "run", tmp_path / "maps") == before
    read_run(tmp_path / "run")  # still a complete run
    if sig == signal.SIGTERM:
        assert code == 130 and "gigacov: interrupted" in err and "Traceback" not in err
        assert _leftovers(tmp_path, tmp_path / "run", tmp_path / "maps") == []
    else:
        assert code == -signal.SIGKILL
        assert _leftovers(tmp_path) == [staged[0].name]  # a SIGKILL cannot clean up ...
        nxt = _gigacov(tmp_path, "-m", "gigacov.cli", "validate", str(scenario))
        assert nxt.wait(timeout=120) == 0, nxt.stderr.read()
        assert _leftovers(tmp_path, tmp_path / "run", tmp_path / "maps") == []  # ... the next does
        assert _snapshot(tmp_path / "run", tmp_path / "maps").items() >= before.items()
    cmp = _gigacov(tmp_path, "-m", "gigacov.cli", "-q", "compare", "run", "run", "--out", "cmp")
    assert cmp.wait(timeout=120) == 0, cmp.stderr.read()  # the old run is one compare reads


def test_a_run_killed_while_moving_in_is_completed_by_the_next_command(finished, tmp_path):
    scenario, before = finished
    proc = _gigacov(tmp_path, "-c", _DRIVER, "commit", str(scenario))
    assert proc.wait(timeout=120) == -signal.SIGKILL, proc.stderr.read()
    run_dir = tmp_path / "run"
    # halfway: the old manifest is gone, three new files are in, the rest waits in staging
    assert not (run_dir / "manifest.json").exists()
    assert len(_leftovers(tmp_path)) == 1
    nxt = _gigacov(tmp_path, "-m", "gigacov.cli", "validate", str(scenario))
    assert nxt.wait(timeout=120) == 0
    assert "completed the move of a finished run" in nxt.stderr.read()
    assert _leftovers(tmp_path, run_dir) == []
    stored = read_run(run_dir)
    sites = next(i for i in stored.manifest["inputs"] if i["input"] == "sites")
    assert sites["used"] == 4  # the new run, whole
    assert (run_dir / "report.html").is_file() and (run_dir / "notes.txt").is_file()
    assert (tmp_path / "maps" / "tiny.html").read_bytes() != before["maps/tiny.html"]


# ------------------------------------------------------------------------------------------------
# The sweep: only gigacov's, only of dead processes
# ------------------------------------------------------------------------------------------------


def _staging_dir(parent: Path, target: Path, pid: int, **marker) -> Path:
    d = parent / f".{target.name}{TAG}{pid}-abc"
    d.mkdir()
    (d / "rsrp.tif").write_bytes(b"half")
    m = {
        "tool": "gigacov",
        "kind": "staging",
        "pid": pid,
        "host": socket.gethostname(),
        "created": 0,
        "target": str(target),
        "phase": "building",
        **marker,
    }
    (d / staging.STAGING_MARKER).write_text(json.dumps(m), "utf-8")
    return d


def test_sweep_removes_staging_folders_of_dead_runs_only(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    dead = _staging_dir(tmp_path, target, _dead_pid())
    alive = _staging_dir(tmp_path, target, os.getppid())
    other_tool = _staging_dir(tmp_path, target, _dead_pid(), tool="other")
    unmarked = tmp_path / f".run{TAG}1-x"
    unmarked.mkdir()
    (unmarked / "data").write_text("x", "utf-8")
    link = tmp_path / f".run{TAG}2-y"
    link.symlink_to(dead)
    assert staging.sweep(target) == 1
    assert not dead.exists()
    for kept in (alive, other_tool, unmarked):
        assert kept.exists(), kept
    assert link.is_symlink()


def test_sweep_refuses_a_commit_marker_that_points_elsewhere(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "keep.csv").write_text("mine", "utf-8")
    bad = _staging_dir(tmp_path, target, _dead_pid(), phase="commit", remove=["keep.csv"])
    (bad / "manifest.json").write_text("{}", "utf-8")
    elsewhere = _staging_dir(
        tmp_path, tmp_path / "other" / "run", _dead_pid(), phase="commit", remove=[]
    )
    staging.sweep(target)
    assert (target / "keep.csv").read_text("utf-8") == "mine"
    assert bad.exists() and elsewhere.exists() and not (target / "manifest.json").exists()


def test_sweep_removes_earlier_versions_temporaries_of_dead_processes(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    dead, alive = _dead_pid(), os.getppid()
    gone = [
        f".compliance.partial-{dead}.csv",
        f".rsrp.partial-{dead}.tif",
        f".rsrp.partial-{dead}.tif.ovr.tmp",
        f".indicators.partial-{dead}.gpkg-journal",
    ]
    kept = [
        f".compliance.partial-{alive}.csv",  # its process still runs
        f".notes.partial-{dead}.txt",  # not a gigacov output
        "compliance.partial.csv",
    ]
    for name in gone + kept:
        (folder / name).write_bytes(b"x")
    (folder / f".covered.partial-{dead}.tif").symlink_to(folder / "compliance.partial.csv")
    old = time.time() - 3600
    cog = folder / ".cog-abcd1234"
    cog.mkdir()
    (cog / "scratch.tif").write_bytes(b"x" * 100)
    os.utime(cog / "scratch.tif", (old, old))
    os.utime(cog, (old, old))
    fresh = folder / ".cog-wxyz5678"  # changed a moment ago: maybe still being written
    fresh.mkdir()
    (fresh / "scratch.tif").write_bytes(b"x")
    foreign = folder / ".cog-user0001"  # holds something that is not a COG scratch file
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"x")
    os.utime(foreign, (old, old))
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / f".tiny.partial-{dead}.html").write_text("<html>", "utf-8")
    staging.sweep(folder, maps)
    left = {p.name for p in folder.iterdir()}
    assert not left & set(gone) and set(kept) <= left
    assert f".covered.partial-{dead}.tif" in left  # a symlink is never ours
    assert not cog.exists() and fresh.exists() and foreign.exists()
    assert list(maps.iterdir()) == []


def test_an_open_cog_scratch_folder_is_kept(tmp_path):
    cog = tmp_path / ".cog-abcd1234"
    cog.mkdir()
    scratch = cog / "scratch.tif"
    scratch.write_bytes(b"x")
    old = time.time() - 3600
    with scratch.open("rb"):
        os.utime(scratch, (old, old))
        os.utime(cog, (old, old))
        staging.sweep(tmp_path)
        assert scratch.exists()
    staging.sweep(tmp_path)
    assert not cog.exists()
