"""A run never destroys another run or an input: every path is checked before anything is
written, validate leaves a complete run as it was, and errors name the key."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from hostile import write_tiny_scenario

from gigacov.cli import main
from gigacov.errors import ConfigError, InputError, RunError
from gigacov.pipeline import VALIDATE_REJECTED, VALIDATE_SKIPPED, run
from gigacov.scenario import load_scenario

MANIFEST = '{"tool": "gigacov", "note": "last year\'s complete run"}'


def _complete_run(folder):
    """A folder that looks like a complete run (its files' content is what the test checks)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(MANIFEST, "utf-8")
    (folder / "compliance.csv").write_text("admin_code,name\n350582,old\n", "utf-8")
    (folder / "rejected_rows.csv").write_text("file,row\nold,2\n", "utf-8")
    (folder / "indicators.gpkg").write_bytes(b"old")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _unchanged(folder, before):
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def _scenario(tmp_path, **replace):
    scn = load_scenario(write_tiny_scenario(tmp_path))
    return scn.replace(**replace) if replace else scn


def test_previous_run_equal_to_out_dir_is_refused_before_writing(tmp_path):
    before = _complete_run(tmp_path / "run")
    scn = _scenario(tmp_path, report={"previous_run": str(tmp_path / "run")})
    with pytest.raises(ConfigError, match=r"\[report\] previous_run .* is this run's own out_dir"):
        run(scn)
    _unchanged(tmp_path / "run", before)


def test_a_typo_in_previous_run_is_caught_before_the_run_is_overwritten(tmp_path):
    before = _complete_run(tmp_path / "run")
    scn = _scenario(tmp_path, report={"previous_run": str(tmp_path / "run-2032")})
    with pytest.raises(RunError, match=r"\[report\] previous_run .* does not exist"):
        run(scn)
    _unchanged(tmp_path / "run", before)
    incomplete = tmp_path / "half"
    incomplete.mkdir()
    scn = scn.replace(report={"previous_run": str(incomplete)})
    with pytest.raises(RunError, match="is not a complete gigacov run"):
        run(scn)
    _unchanged(tmp_path / "run", before)
    # validate refuses what run would refuse (before, it passed and only run failed)
    for prev, error in (("run-2032", RunError), ("run", ConfigError)):
        scn = scn.replace(report={"previous_run": str(tmp_path / prev)})
        with pytest.raises(error, match=r"\[report\] previous_run"):
            run(scn, until="validate")
        _unchanged(tmp_path / "run", before)


def test_a_bad_input_path_leaves_the_run_directory_alone(tmp_path):
    before = _complete_run(tmp_path / "run")
    scn = _scenario(tmp_path, sites={"path": str(tmp_path / "no-such-sites.csv")})
    with pytest.raises(InputError, match="no-such-sites.csv"):
        run(scn)
    _unchanged(tmp_path / "run", before)


def test_an_input_that_is_an_output_is_refused(tmp_path):
    scn = _scenario(tmp_path)
    bb = tmp_path / "compliance.csv"
    bb.write_text("区划代码,年份,家庭户数,千兆覆盖家庭数\n350582,2024,1000,900\n", "utf-8")
    scn = scn.replace(scenario={"out_dir": str(tmp_path)}, broadband={"path": str(bb)})
    with pytest.raises(ConfigError, match=r"\[broadband\] path = .*compliance.csv.* is a file"):
        run(scn)
    assert bb.read_text("utf-8").startswith("区划代码")
    assert not (tmp_path / "manifest.json").exists()


def test_validate_writes_only_its_report_into_a_complete_run(tmp_path):
    before = _complete_run(tmp_path / "run")
    result = run(_scenario(tmp_path), until="validate")
    after = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    assert set(after) == set(before) | {VALIDATE_REJECTED, VALIDATE_SKIPPED}
    assert {k: v for k, v in after.items() if k not in (VALIDATE_REJECTED, VALIDATE_SKIPPED)} == (
        before
    )
    assert result.outputs["rejected_rows"].name == VALIDATE_REJECTED
    assert result.outputs["skipped_rows"].name == VALIDATE_SKIPPED


def test_validate_in_a_new_folder_writes_rejected_rows_and_no_manifest(tmp_path):
    run(_scenario(tmp_path), until="validate")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "rejected_rows.csv",
        "skipped_rows.csv",
    ]


def test_maps_being_a_file_is_refused_before_the_run(tmp_path):
    scenario = write_tiny_scenario(tmp_path)
    (tmp_path / "maps").write_text("not a folder", "utf-8")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        res = CliRunner().invoke(main, ["map", str(scenario)])
    finally:
        os.chdir(cwd)
    assert res.exit_code == 1, res.output
    assert "maps" in res.output and "is a file, not a folder" in res.output
    assert not (tmp_path / "run").exists()


def test_out_dir_being_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("x", "utf-8")
    scn = _scenario(tmp_path, scenario={"out_dir": str(tmp_path / "out" / "run")})
    with pytest.raises(ConfigError, match=r"\[scenario\] out_dir: .* is a file, not a folder"):
        run(scn, until="validate")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_out_dir_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    scn = _scenario(tmp_path, scenario={"out_dir": str(ro / "run")})
    with pytest.raises(ConfigError, match="permission denied"):
        run(scn, until="validate")


def test_a_full_disk_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    import errno

    import gigacov.safefs as safefs

    scenario = write_tiny_scenario(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "run"))

    monkeypatch.setattr(safefs.os, "replace", full)
    res = CliRunner().invoke(main, ["validate", str(scenario)])
    assert res.exit_code == 1
    assert "gigacov: error: No space left on device" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


@pytest.mark.parametrize(
    "edit",
    [
        {"grid": "garbage"},
        {"grid": {"crs": 5}},
        {"standards": "x"},
        {"standards": [1, 2]},
        {"scenario": []},
        {"tool_version": [1]},
    ],
)
def test_compare_force_with_a_hand_edited_manifest_names_the_entry(tmp_path, edit):
    import json

    from support.report_run import make_run, write_run_dir

    a = write_run_dir(make_run(tmp_path / "a", year=2023))
    b = write_run_dir(make_run(tmp_path / "b", year=2024))
    manifest = json.loads((a / "manifest.json").read_text("utf-8"))
    manifest.update(edit)
    (a / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    res = CliRunner().invoke(
        main, ["compare", str(a), str(b), "--force", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 1
    assert res.exception is None or isinstance(res.exception, SystemExit)
    key = next(iter(edit))
    assert f"manifest.json: {key!r} must be" in res.output


def test_a_rerun_clears_the_old_outputs_so_an_interruption_cannot_mix_them(tmp_path):
    before = _complete_run(tmp_path / "run")
    (tmp_path / "run" / "report.html").write_text("<p>last year: pass</p>", "utf-8")
    (tmp_path / "run" / "notes.txt").write_text("mine", "utf-8")
    assert before
    run(_scenario(tmp_path), until="coverage")
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert "report.html" not in names and "compliance.csv" not in names  # old run's, gone
    assert {"notes.txt", "rsrp.tif", "manifest.json"} <= names
    assert (tmp_path / "run" / "notes.txt").read_text("utf-8") == "mine"
