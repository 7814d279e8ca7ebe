"""``at_risk`` in every output: report, workbook, map, comparison, compliance.csv, check --json.

A run whose MIIT household-fibre threshold (80 %, unconfirmed) carries ``certified_min = 0.70``:
鲤城区 has 75 % and passes everything else, so it is ``at_risk``, not failing; 晋江市 has 72 %
but also fails 5G sites per 10,000, so it fails.
"""

from __future__ import annotations

import dataclasses
import json

import openpyxl
import pytest
from support.pages import Page
from support.report_run import (
    JINJIANG,
    LICHENG,
    VALUES_2023,
    VALUES_2024,
    make_run,
    write_run_dir,
)

from gigacov.cli import _compliance_rows, _compliance_summary
from gigacov.compliance import evaluate, unit_status
from gigacov.maps import render_map
from gigacov.report import compare_runs, compute_comparison, load_run, write_report
from gigacov.report.workbook import SHORTFALL_SHEET, sheet_name

MIIT = "miit-gigabit-city-2021"
AT_RISK_VALUES = {
    **VALUES_2024,
    LICHENG: {**VALUES_2024[LICHENG], "gigabit_households_covered": 112_500},  # 75 %
}


def _bounded(run):
    """The run judged by gigacov's own engine with an evidence bound on household fibre."""
    stds = []
    for s in run.standards:
        inds = [
            dataclasses.replace(
                i, certified_min=0.70, certified_source="test: a certified city had 70 %"
            )
            if i.key == "household_gigabit_coverage"
            else i
            for i in s.indicators
        ]
        stds.append(dataclasses.replace(s, indicators=inds))
    run.standards = stds
    run.compliance = evaluate(run.indicators, stds)
    return run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("at_risk")
    run = _bounded(make_run(tmp, values=AT_RISK_VALUES))
    run.outputs.update(write_report(run))
    return run


def test_compliance_rows_and_csv(run):
    comp = run.compliance
    r = comp[(comp["admin_code"] == LICHENG) & (comp["indicator"] == "household_gigabit_coverage")]
    r = r[r["level"] == "county"].iloc[0]
    assert r["status"] == "at_risk"
    assert r["shortfall"] == 7_500 and r["shortfall_unit"] == "households"  # to the cited 80 %
    st = unit_status(comp).set_index(["admin_code", "standard"])
    assert st.loc[(LICHENG, MIIT), "status"] == "at_risk"
    assert st.loc[(JINJIANG, MIIT), "status"] == "fail"
    assert st.loc[(JINJIANG, MIIT), "at_risk"] == ["household_gigabit_coverage"]
    rows = _compliance_rows(comp, "county")  # what `gigacov check --json` prints
    doc = json.loads(json.dumps(rows))
    mine = [
        d
        for d in doc
        if d["admin_code"] == LICHENG and d["indicator"] == "household_gigabit_coverage"
    ]
    assert mine[0]["status"] == "at_risk" and mine[0]["shortfall"] == 7500
    assert mine[0]["mandatory"] is True
    # The summary `gigacov run` prints (and puts in its --json document).
    summary = {(s["standard"], s["level"]): s for s in _compliance_summary(comp)}
    county = summary[(MIIT, "county")]
    assert county["at_risk"] == 1 and county["at_risk_units"][0]["admin_code"] == LICHENG
    assert JINJIANG in [u["admin_code"] for u in county["failing"]]


def test_report_says_at_risk_with_shortfall_and_evidence(run):
    page = Page(run.outputs["report"].read_text(encoding="utf-8"))
    rows = {(r["data-code"], r["data-standard"]): r for r in page.rows if "data-code" in r}
    lich = rows[(LICHENG, MIIT)]
    assert lich["data-status"] == "at_risk"
    assert "存在风险 / at risk" in lich["text"]
    assert "needs 7,500 more gigabit-capable households" in lich["text"]
    assert "not below the lowest certified city's 70.0%" in lich["text"]
    assert rows[(JINJIANG, MIIT)]["data-status"] == "fail"
    # Failing units first, then those at risk.
    order = list(dict.fromkeys(r["data-code"] for r in page.rows if "data-code" in r))
    assert order.index(JINJIANG) < order.index(LICHENG)
    assert "lowest certified value 70.0%" in page.text
    assert "test: a certified city had 70 %" in page.text


def test_workbook_colours_and_shortfall_sheet(run):
    wb = openpyxl.load_workbook(run.outputs["workbook"])
    ws = wb[sheet_name("county")]
    found = {}
    for row in ws.iter_rows(min_row=6):
        if row[0].value == LICHENG:
            for cell in row:
                found[str(cell.value)] = cell.fill.fgColor.rgb
    assert found["存在风险 / at risk"].endswith("FFEB9C")  # overall MIIT status, amber
    assert "FFEB9C" in {v[-6:] for v in found.values() if v}
    short = {(r[1], r[5]): r for r in wb[SHORTFALL_SHEET].iter_rows(min_row=3, values_only=True)}
    lich = short[(LICHENG, "household_gigabit_coverage")]
    assert lich[6] == "存在风险 / at risk" and lich[9] == 7_500


def test_map_colours_and_legend():
    from support.map_run import make_run as make_map_run
    from support.map_run import page_data

    run = make_map_run()
    comp = run.compliance.copy()
    jinjiang = (comp["admin_code"] == "350582") & (comp["status"] == "fail")
    assert jinjiang.any()
    comp.loc[jinjiang, "status"] = "at_risk"  # as if its thresholds had an evidence bound
    run.compliance = comp
    data = page_data(render_map(run).html)
    county = {f["properties"]["c"]: f["properties"] for f in data["geoms"]["county"]["features"]}
    std = str(comp.loc[jinjiang, "standard"].iloc[0])
    assert county["350582"]["st"][std] == "at_risk"
    assert "At risk (below the unconfirmed threshold" in county["350582"]["pop"][std]
    assert "gc-at_risk" in county["350582"]["tip"][std]
    colours = data["statusColours"]
    assert colours["at_risk"] not in (colours["pass"], colours["fail"], colours["no_data"])
    items = [tuple(i[:2]) for sec in data["legend"] for i in sec["items"]]
    assert (colours["at_risk"], "at risk") in items


def test_comparison_names_the_change_to_at_risk(tmp_path):
    a = _bounded(make_run(tmp_path / "a", year=2023, values=VALUES_2023))
    b = _bounded(make_run(tmp_path / "b", values=AT_RISK_VALUES))
    out = compare_runs(write_run_dir(a), write_run_dir(b), out_dir=tmp_path / "cmp")
    wb = openpyxl.load_workbook(out["workbook"])
    texts = [
        [str(v) for v in row]
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        if LICHENG in [str(v) for v in row]
    ]
    assert any("存在风险 / at risk" in row for row in texts), texts
    cmp = compute_comparison(load_run(a.run_dir), load_run(b.run_dir))
    u = cmp.unit_changes.set_index(["level", "admin_code", "standard"])
    assert u.loc[("county", LICHENG, MIIT), "status_b"] == "at_risk"
    assert u.loc[("county", LICHENG, MIIT), "status_a"] == "fail"
    assert u.loc[("county", LICHENG, MIIT), "change"] == "at_risk"
    html = out["report"].read_text(encoding="utf-8")
    table = html[html.index('id="yoy-at-risk"') :]
    table = table[: table.index("</table>")]
    assert LICHENG in table and "needs 7,500 more gigabit-capable households" in table
