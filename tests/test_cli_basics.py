"""The command line skeleton: version, help, usage errors, boundaries build."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

import gigacov
from gigacov.cli import main

COMMANDS = [
    "demo",
    "run",
    "coverage",
    "check",
    "map",
    "report",
    "compare",
    "validate",
    "boundaries",
    "plan",
    "calibrate",
]


def test_version():
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0
    assert gigacov.__version__ in res.output


def test_help_lists_every_command():
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    for cmd in COMMANDS:
        assert f"  {cmd} " in res.output
    for cmd in COMMANDS:
        sub = CliRunner().invoke(main, [cmd, "--help"])
        assert sub.exit_code == 0, (cmd, sub.output)
        assert "Usage:" in sub.output


def test_usage_errors_exit_2():
    runner = CliRunner()
    assert runner.invoke(main, ["no-such-command"]).exit_code == 2
    assert runner.invoke(main, ["check"]).exit_code == 2  # missing SCENARIO
    assert runner.invoke(main, ["check", "does-not-exist.toml"]).exit_code == 2


def test_usage_errors_with_json_still_print_one_document():
    """A script that passes --json parses stdout whatever happens: before, a usage error
    printed nothing there (the usage went to stderr only)."""
    for args in (
        ["check", "does-not-exist.toml", "--json"],
        ["run", "--json", "--no-such-option", "s.toml"],
        ["--json", "check", "s.toml"],  # --json before the command: the group's usage error
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "gigacov.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["ok"] is False and doc["exit_code"] == 2 and doc["error_type"] == "UsageError"
        assert any(w in doc["error"] for w in ("does-not-exist.toml", "--no-such-option", "--json"))
        assert "Usage:" in proc.stderr


def test_bad_scenario_is_exit_1_without_traceback(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text(
        '[scenario]\nname = "x"\nyear = 2024\nstndards = []\n[sites]\npath = "a.csv"\n', "utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "gigacov.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "unknown key 'stndards'; did you mean 'standards'?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_boundaries_build_to_a_file(tmp_path):
    out = tmp_path / "fj.gpkg"
    res = CliRunner().invoke(main, ["boundaries", "build", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "84 counties" in res.output
    from gigacov.shipped_boundaries import read_shipped_boundaries, same_content

    assert same_content(read_shipped_boundaries(out), read_shipped_boundaries())


def test_a_warning_is_said_once_per_run():
    import io
    import logging

    from gigacov.runlog import OncePerRun, collect_warnings, new_run

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(OncePerRun())
    log = logging.getLogger("gigacov.test_once")
    log.addHandler(handler)
    try:
        new_run()
        with collect_warnings() as warned:
            for _ in range(3):  # e.g. coverage for 5G, for 4G, and planning's verifying re-run
                log.warning("model used outside its validity")
            log.warning("another condition")
            log.info("progress is not deduplicated")
            log.info("progress is not deduplicated")
        assert stream.getvalue().count("model used outside its validity") == 1
        assert stream.getvalue().count("progress is not deduplicated") in (0, 2)
        assert warned == ["model used outside its validity", "another condition"]
        new_run()  # the next run says it again
        log.warning("model used outside its validity")
        assert stream.getvalue().count("model used outside its validity") == 2
    finally:
        log.removeHandler(handler)
