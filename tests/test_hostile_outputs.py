"""Hostile names in every output that shows them: spreadsheets hold text (never formulas), CSV
cells are neutralised, terminals get no escapes or markup, charts no mathtext; no traceback."""

from __future__ import annotations

import csv
import dataclasses

import openpyxl
import pytest
from click.testing import CliRunner
from hostile import HOSTILE_STRINGS, assert_no_controls, write_tiny_scenario
from support.report_run import JINJIANG, make_run

from gigacov.cli import main
from gigacov.report.workbook import write_workbook
from gigacov.text import (
    clean_text,
    csv_cell,
    csv_unquote_frame,
    is_formula_like,
    spreadsheet_text,
    terminal_text,
    write_csv,
)


def formula_cells(path) -> list[tuple[str, str, object]]:
    """Every cell of the workbook that a spreadsheet would evaluate as a formula."""
    wb = openpyxl.load_workbook(path)
    return [
        (ws.title, cell.coordinate, cell.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def all_strings(path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        cell.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


# ------------------------------------------------------------------------------------------------
# the text functions
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_clean_text_leaves_no_control_or_escape(text):
    cleaned = clean_text(text)
    assert_no_controls(cleaned, "clean_text")
    assert "\n" not in cleaned and "\t" not in cleaned


def test_escape_sequences_are_removed_whole():
    assert clean_text("\x1b]0;pwned title\x07window") == "window"
    assert clean_text("\x1b]52;c;cHduZWQ=\x07clip") == "clip"
    assert clean_text("a\x1b[2Jb\x1b[31mc") == "abc"
    assert clean_text("line\nbreak\ttab") == "line break tab"
    assert clean_text("line\nbreak", keep_newlines=True) == "line\nbreak"
    assert clean_text("泉州市 鲤城区") == "泉州市 鲤城区"
    assert clean_text(None) == "" and clean_text(3.5) == "3.5"


def test_terminal_text_escapes_rich_markup():
    from rich.console import Console

    console = Console(record=True, width=200, color_system=None)
    for s in HOSTILE_STRINGS:
        console.print(terminal_text(s))  # a MarkupError would raise here
    out = console.export_text()
    assert "[/red] closing tag" in out and "[bold red]markup[/bold red]" in out
    assert_no_controls(out, "rich output")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 591 1234", "'+86 591 1234"),
        ("-x", "'-x"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("1e-3", "1e-3"),
        ("-", "'-"),
        ("泉州", "泉州"),
        ("", ""),
        (-4.5, -4.5),
        (7, 7),
        (None, None),
    ],
)
def test_csv_cell_follows_owasp_and_keeps_plain_numbers(value, expected):
    assert csv_cell(value) == expected


def test_csv_frame_round_trip_and_numbers_stay_numbers(tmp_path):
    import pandas as pd

    df = pd.DataFrame(
        {
            "name": HOSTILE_STRINGS,
            "value": [-1.5] * len(HOSTILE_STRINGS),
            "code": ["-3"] * len(HOSTILE_STRINGS),
        }
    )
    path = tmp_path / "x.csv"
    write_csv(df, path)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        assert not is_formula_like(row[0]), row
        assert row[1] == "-1.5" and row[2] == "-3"
    back = csv_unquote_frame(pd.read_csv(path, keep_default_na=False))
    assert back["name"].tolist() == HOSTILE_STRINGS
    assert (back["value"] == -1.5).all()
    assert df["name"].tolist() == HOSTILE_STRINGS  # the caller's frame is not modified


def test_spreadsheet_text():
    assert spreadsheet_text("=1+1") == "'=1+1"
    assert spreadsheet_text("-5") == "-5"
    assert spreadsheet_text("a\x00b") == "ab"


# ------------------------------------------------------------------------------------------------
# compliance.xlsx and the charts, from a hand-built run
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_compliance_workbook_has_no_formula_and_shows_the_name(tmp_path, hostile):
    run = make_run(tmp_path)
    for table in run.indicators.units.values():
        table.loc[table["admin_code"] == JINJIANG, "name"] = hostile
    run.compliance.loc[run.compliance["admin_code"] == JINJIANG, "name"] = hostile
    sid = run.standards[1].id
    run.standards[1] = dataclasses.replace(run.standards[1], id=hostile)
    run.compliance.loc[run.compliance["standard"] == sid, "standard"] = hostile
    run.scenario = run.scenario.replace(scenario={"title": hostile, "name": "x"})
    path = write_workbook(run, tmp_path / "compliance.xlsx")
    assert formula_cells(path) == []
    strings = all_strings(path)
    for s in strings:
        assert_no_controls(s.replace("\n", ""), "compliance.xlsx")
    shown = clean_text(hostile, keep_newlines=True).replace("\r", "\n")  # as XML stores it
    assert shown in strings  # the name is there, as text
    if is_formula_like(shown):
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value == shown]
        assert cells and all(c.quotePrefix for c in cells)


def test_charts_render_names_as_plain_text():
    from gigacov.report.charts import find_cjk_font, indicator_bar_chart, yoy_chart
    from gigacov.report.labels import Labeler

    lang = Labeler("both")
    label = lang.indicator("pop_coverage_5g")
    names = HOSTILE_STRINGS
    n = len(names)
    png = indicator_bar_chart(
        names,
        [0.5] * n,
        ["pass"] * n,
        [(r"$\frac{$", 0.4)],
        label,
        "US$5 and $6 " + HOSTILE_STRINGS[8],
        find_cjk_font(),
        lang,
    )
    assert png.startswith(b"\x89PNG")
    png = yoy_chart(
        names, [0.1] * n, [0.2] * n, "$a", "$b$", label, r"$\frac{$", find_cjk_font(), lang
    )
    assert png.startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------------
# the whole pipeline and the CLI
# ------------------------------------------------------------------------------------------------

TINY_NAMES = (HOSTILE_STRINGS[0], HOSTILE_STRINGS[8] + "[/red]$x$")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    scenario = write_tiny_scenario(
        folder,
        TINY_NAMES,
        title="=cmd|' /C calc'!A0 \x1b]0;t\x07 $x$ [/red]",
        standard_id="@evil [/red]",
        site_ids=("=S1", "-S2", "+S3"),
    )
    import os
    import shutil

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        res = CliRunner().invoke(main, ["run", str(scenario)])
        shutil.copytree(folder / "run", folder / "complete")
        check = CliRunner().invoke(main, ["check", str(scenario)])
        validate = CliRunner().invoke(main, ["validate", str(scenario)])
    finally:
        os.chdir(cwd)
    return folder, res, check, validate


@pytest.mark.slow
def test_run_with_hostile_names_writes_safe_outputs(hostile_run):
    folder, res, _, _ = hostile_run
    assert res.exit_code == 0, res.output
    run_dir = folder / "complete"
    assert formula_cells(run_dir / "compliance.xlsx") == []
    with open(run_dir / "compliance.csv", encoding="utf-8", newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert "'" + TINY_NAMES[0] in cells and TINY_NAMES[0] not in cells
    assert "'@evil [/red]" in cells
    assert not any(is_formula_like(c) for c in cells)
    with open(run_dir / "recommended_sites.csv", encoding="utf-8-sig", newline="") as f:
        rec = [c for row in csv.reader(f) for c in row]
    assert not any(is_formula_like(c) for c in rec)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html


@pytest.mark.slow
def test_check_and_validate_print_no_escape_or_markup_error(hostile_run):
    _, _, check, validate = hostile_run
    for res in (check, validate):
        assert res.exit_code == 0, res.output
        assert res.exception is None
        assert "Traceback" not in res.output
        assert_no_controls(res.output, "terminal output")
    assert "[/red]" in check.output  # shown literally, not taken as markup


@pytest.mark.slow
def test_compare_of_hostile_runs_has_no_formula(hostile_run, tmp_path):
    import shutil

    folder, res, _, _ = hostile_run
    assert res.exit_code == 0, res.output
    a = tmp_path / "a"
    shutil.copytree(folder / "complete", a)
    out = tmp_path / "cmp"
    r = CliRunner().invoke(main, ["compare", str(a), str(folder / "complete"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert formula_cells(out / "comparison.xlsx") == []
    strings = all_strings(out / "comparison.xlsx")
    assert TINY_NAMES[0] in strings  # read back from compliance.csv without the apostrophe


def test_error_messages_are_printed_without_escapes(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text('[scenario]\nname = "x"\nyear = 2024\n"\\u001b]0;t\\u0007k" = 1\n', "utf-8")
    res = CliRunner().invoke(main, ["validate", str(bad)])
    assert res.exit_code == 1
    assert_no_controls(res.output, "error message")
