"""Temporary files nobody can redirect, SIGTERM that cleans up like Ctrl-C, and the sweep of
partial folders left by interrupted runs."""

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

from gigacov import safefs
from gigacov.rundir import write_atomic


def test_a_planted_symlink_at_the_output_is_replaced_not_followed(tmp_path):
    target = tmp_path / "elsewhere" / "victim.txt"
    target.parent.mkdir()
    out = tmp_path / "run" / "compliance.csv"
    out.parent.mkdir()
    out.symlink_to(target)  # dangling: writing through it would create the victim
    write_atomic(out, lambda p: p.write_text("a,b\n", "utf-8"))
    assert not out.is_symlink() and out.read_text("utf-8") == "a,b\n"
    assert not target.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(safefs.PARTIAL_PREFIX)]


def test_planted_links_at_the_old_temporary_names_are_never_used(tmp_path):
    victim = tmp_path / "victim.csv"
    for name in (f".compliance.partial-{os.getpid()}.csv", ".compliance.partial.csv"):
        (tmp_path / name).symlink_to(victim)
    write_atomic(tmp_path / "compliance.csv", lambda p: p.write_text("x", "utf-8"))
    assert not victim.exists()


def test_partial_dir_is_private_and_marked(tmp_path):
    with safefs.partial_dir(tmp_path) as folder:
        assert folder.parent == tmp_path and folder.name.startswith(safefs.PARTIAL_PREFIX)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        marker = json.loads((folder / safefs.MARKER).read_text("utf-8"))
        assert marker["tool"] == "gigacov" and marker["pid"] == os.getpid()
    assert not folder.exists()


def test_failed_writer_leaves_the_old_file_and_nothing_else(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("old", "utf-8")

    def bad(p: Path) -> None:
        p.write_text("half", "utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(out, bad)
    assert out.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def _fake_partial(folder: Path, name: str, marker: dict | None) -> Path:
    d = folder / name
    d.mkdir()
    (d / "scratch.tif").write_bytes(b"x" * 10)
    if marker is not None:
        (d / safefs.MARKER).write_text(json.dumps(marker), "utf-8")
    return d


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_gigacov_partials_of_dead_processes(tmp_path):
    host = socket.gethostname()
    dead = _fake_partial(
        tmp_path,
        f"{safefs.PARTIAL_PREFIX}1-a",
        {"tool": "gigacov", "pid": _dead_pid(), "host": host, "created": 0},
    )
    alive = _fake_partial(
        tmp_path,
        f"{safefs.PARTIAL_PREFIX}2-b",
        {"tool": "gigacov", "pid": os.getppid(), "host": host, "created": 0},
    )
    unmarked = _fake_partial(tmp_path, f"{safefs.PARTIAL_PREFIX}3-c", None)
    foreign = _fake_partial(
        tmp_path,
        f"{safefs.PARTIAL_PREFIX}4-d",
        {"tool": "other", "pid": _dead_pid(), "host": host, "created": 0},
    )
    other_name = _fake_partial(
        tmp_path, ".cog-xyz", {"tool": "gigacov", "pid": _dead_pid(), "host": host}
    )
    link = tmp_path / f"{safefs.PARTIAL_PREFIX}5-e"
    link.symlink_to(dead)
    user_file = tmp_path / "compliance.csv"
    user_file.write_text("keep", "utf-8")
    assert safefs.sweep_partials(tmp_path) == 1
    assert not dead.exists()
    for kept in (alive, unmarked, foreign, other_name, user_file):
        assert kept.exists(), kept
    assert link.is_symlink()


def test_sigterm_cleans_up_like_sigint(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from gigacov import safefs
        safefs.terminate_like_interrupt()
        try:
            with safefs.atomic_path(Path({str(tmp_path)!r}) / "big.tif") as tmp:
                tmp.write_bytes(b"x" * 1000)
                print("ready", flush=True)
                time.sleep(60)
        except KeyboardInterrupt:
            sys.exit(130)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "ready"
    assert [p for p in tmp_path.iterdir() if p.name.startswith(safefs.PARTIAL_PREFIX)]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130
    assert list(tmp_path.iterdir()) == []


def test_the_cli_turns_sigterm_into_an_interrupt(tmp_path):
    from click.testing import CliRunner

    from gigacov.cli import main

    before = signal.getsignal(signal.SIGTERM)
    try:
        CliRunner().invoke(main, ["validate", str(tmp_path / "missing.toml")])
        CliRunner().invoke(main, ["-q", "compare", str(tmp_path), str(tmp_path)])
        assert signal.getsignal(signal.SIGTERM) is safefs._raise_interrupt
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_run_sweeps_stale_partials_from_its_run_directory(tmp_path):
    from hostile import write_tiny_scenario

    from gigacov.pipeline import run

    scenario = write_tiny_scenario(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    stale = _fake_partial(
        run_dir,
        f"{safefs.PARTIAL_PREFIX}9-z",
        {"tool": "gigacov", "pid": _dead_pid(), "host": socket.gethostname(), "created": 0},
    )
    time.sleep(0.01)
    run(scenario, until="validate")
    assert not stale.exists()
