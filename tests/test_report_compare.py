"""Year-over-year comparison of two run directories: changes, status changes, refusals, outputs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from support.pages import Page, not_blank, png_from_uri
from support.report_run import JINJIANG, LICHENG, NANAN, VALUES_2023, make_run, write_run_dir

from gigacov.errors import RunError
from gigacov.report import compare_runs, compute_comparison, load_run
from gigacov.report.compare import classify_change


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cmp")
    a = write_run_dir(make_run(tmp, year=2023, values=VALUES_2023))
    b = write_run_dir(make_run(tmp, year=2024))
    return a, b


def _copy_with_manifest(src: Path, dst: Path, edit) -> Path:
    shutil.copytree(src, dst)
    m = json.loads((dst / "manifest.json").read_text(encoding="utf-8"))
    edit(m)
    (dst / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    return dst


def test_known_changes(runs):
    cmp = compute_comparison(load_run(runs[0]), load_run(runs[1]))
    # 晋江: 1500 → 2000 sites for 206.9 × 10k people: +500 / 206.9 per 10k, not a ratio.
    row = cmp.change_of(JINJIANG, "sites_5g_per_10k", "county")
    assert row["value_a"] == pytest.approx(1500 / 206.9) and row["value_b"] == pytest.approx(
        2000 / 206.9
    )
    assert row["delta"] == pytest.approx(500 / 206.9) and math.isnan(row["delta_pp"])
    # 鲤城: gigabit users 26,400 → 36,000 of 120,000: 22 % → 30 %, +8 percentage points.
    row = cmp.change_of(LICHENG, "users_1000m_share", "county")
    assert row["value_a"] == pytest.approx(0.22) and row["value_b"] == pytest.approx(0.30)
    assert row["delta_pp"] == pytest.approx(8.0)
    # Unchanged: 晋江 household coverage 72 % both years.
    assert cmp.change_of(JINJIANG, "household_gigabit_coverage")["delta_pp"] == pytest.approx(0.0)
    # Province row exists (top level).
    assert cmp.change_of("350000", "sites_5g_per_10k", "province")["delta"] == pytest.approx(
        4600 / 402.5 - 3650 / 402.5
    )
    assert not cmp.forced and cmp.reasons == []


def test_newly_passing_and_newly_failing_units(runs):
    cmp = compute_comparison(load_run(runs[0]), load_run(runs[1]))
    passing = {(r.level, r.admin_code, r.standard) for r in cmp.newly_passing.itertuples()}
    failing = {(r.level, r.admin_code, r.standard) for r in cmp.newly_failing.itertuples()}
    assert passing == {
        ("county", LICHENG, "miit-gigabit-city-2021"),
        ("county", LICHENG, "fujian-2024"),
        ("county", NANAN, "fujian-2024"),
    }
    # 晋江's gigabit share fell from 26 % to 20 %; the city and province fell below 25 % as well.
    assert failing == {
        ("county", JINJIANG, "fujian-2024"),
        ("city", "350500", "fujian-2024"),
        ("province", "350000", "fujian-2024"),
    }
    jin = cmp.newly_failing[cmp.newly_failing["admin_code"] == JINJIANG].iloc[0]
    assert jin["failed_b"] == ["users_1000m_share"]
    # 南安 MIIT: failed in 2023, no household data → no_data in 2024, never counted a pass.
    nanan = cmp.unit_changes[
        (cmp.unit_changes["admin_code"] == NANAN)
        & (cmp.unit_changes["standard"] == "miit-gigabit-city-2021")
    ].iloc[0]
    assert (nanan["status_a"], nanan["status_b"], nanan["change"]) == ("fail", "no_data", "no_data")


@pytest.mark.parametrize(
    ("a", "b", "change"),
    [
        ("fail", "pass", "newly_passing"),
        ("no_data", "pass", "newly_passing"),
        ("pass", "fail", "newly_failing"),
        ("no_data", "fail", "newly_failing"),
        ("pass", "pass", "still_passing"),
        ("fail", "fail", "still_failing"),
        ("pass", "no_data", "no_data"),
        (math.nan, "pass", "new"),
        ("fail", math.nan, "dropped"),
    ],
)
def test_classify_change(a, b, change):
    assert classify_change(a, b) == change


def test_compare_runs_writes_workbook_and_html_into_run_b(runs):
    out = compare_runs(*runs)
    assert out == {"workbook": runs[1] / "comparison.xlsx", "report": runs[1] / "comparison.html"}
    wb = openpyxl.load_workbook(out["workbook"])
    assert wb.sheetnames == [
        "说明 read me",
        "变化 changes",
        "达标变化 status",
        "指标达标 indicator status",
    ]
    ws = wb["变化 changes"]
    header = [c.value for c in ws[1]]
    assert header[5:] == ["A qz-test 2023", "B qz-test 2024", "Δ (B − A)", "Δ 百分点 / Δ pp"]
    row = next(
        r
        for r in ws.iter_rows(min_row=2)
        if r[1].value == LICHENG and r[3].value == "users_1000m_share"
    )
    assert row[5].value == pytest.approx(0.22) and row[5].number_format == "0.0%"
    assert row[8].value == pytest.approx(8.0) and row[8].data_type == "n"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    st = wb["达标变化 status"]
    row = next(
        r for r in st.iter_rows(min_row=2) if r[1].value == LICHENG and r[3].value == "fujian-2024"
    )
    assert row[6].value == "新达标 / newly passing" and row[6].fill.fgColor.rgb.endswith("C6EFCE")
    row = next(
        r for r in st.iter_rows(min_row=2) if r[1].value == JINJIANG and r[3].value == "fujian-2024"
    )
    assert row[6].value == "新未达标 / newly failing" and row[6].fill.fgColor.rgb.endswith("FFC7CE")
    readme = "\n".join(
        str(v) for r in wb["说明 read me"].iter_rows(values_only=True) for v in r if v
    )
    assert "SYNTHETIC DATA" in readme and "FORCED" not in readme

    page = Page(out["report"].read_text(encoding="utf-8"))
    assert page.sections == ["yoy"]
    assert "synthetic data" in page.title
    newly = [r for r in page.rows if "鲤城区" in r["text"] and "fujian-2024" in r["text"]]
    assert newly and "yoy-newly-passing" in page.ids
    imgs = [im for im in page.images if "chart" in im.get("class", "")]
    assert len(imgs) == 3 and all(not_blank(png_from_uri(im["src"])) for im in imgs)
    assert not [p for p in runs[1].iterdir() if "partial" in p.name]


def test_compare_runs_into_another_folder(runs, tmp_path):
    out = compare_runs(runs[0], runs[1], out_dir=tmp_path / "yoy")
    assert sorted(p.name for p in (tmp_path / "yoy").iterdir()) == [
        "comparison.html",
        "comparison.xlsx",
    ]
    assert out["report"].parent == tmp_path / "yoy"


def test_refuses_other_standard_version_unless_forced(runs, tmp_path):
    other = _copy_with_manifest(
        runs[0], tmp_path / "old", lambda m: m["standards"][0].update(version="2020.9")
    )
    with pytest.raises(RunError, match=r"'miit-gigabit-city-2021' has version '2020.9'.*force"):
        compare_runs(other, runs[1], out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    out = compare_runs(other, runs[1], out_dir=tmp_path / "out", force=True)
    page = Page(out["report"].read_text(encoding="utf-8"))
    assert "yoy-forced" in page.ids and "'2020.9'" in page.text
    readme = "\n".join(
        str(v)
        for r in openpyxl.load_workbook(out["workbook"])["说明 read me"].iter_rows(values_only=True)
        for v in r
        if v
    )
    assert "FORCED" in readme and "'2020.9'" in readme


def test_refuses_other_standard_ids(runs, tmp_path):
    other = _copy_with_manifest(
        runs[0],
        tmp_path / "old",
        lambda m: m["standards"].append({"id": "miit-14th-fyp-2025", "version": "1"}),
    )
    with pytest.raises(RunError, match="'miit-14th-fyp-2025' was used only in qz-test 2023"):
        compare_runs(other, runs[1])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda g: g.update(crs="EPSG:32651"), "grid CRS differs: 'EPSG:32651'"),
        (
            lambda g: g.update(
                resolution_m=250.0,
                transform=[250.0, 0.0, *g["transform"][2:4], -250.0, g["transform"][5]],
                width=g["width"] * 2,
                height=g["height"] * 2,
            ),
            "grid resolution differs: 250 m",
        ),
        (lambda g: g.update(width=g["width"] + 10), "grid extent differs"),
    ],
)
def test_refuses_incomparable_grids(runs, tmp_path, edit, message):
    other = _copy_with_manifest(runs[0], tmp_path / "old", lambda m: edit(m["grid"]))
    with pytest.raises(RunError, match=message):
        compute_comparison(load_run(other), load_run(runs[1]))
    cmp = compute_comparison(load_run(other), load_run(runs[1]), force=True)
    assert cmp.forced and any(message.split(":")[0] in r for r in cmp.reasons)


def test_refuses_folders_that_are_not_complete_runs(runs, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RunError, match="missing manifest.json, compliance.csv, indicators.gpkg"):
        compare_runs(empty, runs[1])
    partial = tmp_path / "interrupted"
    shutil.copytree(runs[0], partial)
    (partial / "manifest.json").unlink()
    with pytest.raises(
        RunError, match=r"not a complete gigacov run directory: missing manifest.json\. "
    ):
        compare_runs(runs[0], partial)
    with pytest.raises(RunError, match="does not exist"):
        compare_runs(tmp_path / "nowhere", runs[1])
    broken = tmp_path / "broken"
    shutil.copytree(runs[0], broken)
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RunError, match="manifest.json: not valid JSON"):
        compare_runs(broken, runs[1])


def test_units_new_in_b_are_new_not_newly_passing(tmp_path):
    values = {k: v for k, v in VALUES_2023.items() if k != NANAN}
    a = write_run_dir(make_run(tmp_path, year=2023, values=values))
    b = write_run_dir(make_run(tmp_path, year=2024))
    cmp = compute_comparison(load_run(a), load_run(b))
    nanan = cmp.unit_changes[
        (cmp.unit_changes["admin_code"] == NANAN) & (cmp.unit_changes["level"] == "county")
    ]
    assert set(nanan["change"]) == {"new"}
    row = cmp.change_of(NANAN, "sites_5g_per_10k", "county")
    assert math.isnan(row["value_a"]) and row["value_b"] == pytest.approx(1900 / 152.7)
    assert np.isnan(row["delta"])


def _without_mandatory_column(run_dir: Path) -> Path:
    """Make ``run_dir`` look like a run written before compliance.csv had ``mandatory``."""
    comp = pd.read_csv(run_dir / "compliance.csv", dtype={"admin_code": str})
    comp.drop(columns="mandatory").to_csv(run_dir / "compliance.csv", index=False)
    return run_dir


def test_mandatory_flags_read_from_compliance_csv(runs):
    t = load_run(runs[1])
    assert t.standards_info is None  # the column says it; no shipped standard needed
    from gigacov.compliance import mandatory_flags

    assert t.compliance["mandatory"].tolist() == [True] * len(t.compliance)  # as in the fixture
    assert mandatory_flags(t.compliance).tolist() == t.compliance["mandatory"].tolist()


def test_mandatory_flags_from_the_shipped_standard_of_the_same_version(runs, tmp_path, caplog):
    from gigacov.compliance import load_standards, mandatory_flags

    shipped = load_standards(["fujian-2024"])[0]
    same = _copy_with_manifest(
        runs[1],
        tmp_path / "same",
        lambda m: m.update(standards=[{"id": "fujian-2024", "version": shipped.version}]),
    )
    t = load_run(_without_mandatory_column(same))
    assert [s.id for s in t.standards_info] == ["fujian-2024"]
    rows = t.compliance[t.compliance["standard"] == "fujian-2024"]
    expected = [
        next(i.mandatory for i in shipped.indicators if i.key == k and lv in i.level)
        for k, lv in zip(rows["indicator"], rows["level"], strict=True)
    ]
    assert mandatory_flags(rows, t.standards_info).tolist() == expected
    other = _copy_with_manifest(
        runs[1],
        tmp_path / "other",
        lambda m: m.update(standards=[{"id": "fujian-2024", "version": "1999.9"}]),
    )
    assert load_run(_without_mandatory_column(other)).standards_info is None
    assert "'1999.9' is not the shipped one" in caplog.text


def test_two_runs_of_one_year_or_the_later_first_are_said(runs, caplog):
    """Comparing two 2024 runs, or 2024 before 2023, is allowed but never passes for a year
    over year silently."""
    a, b = load_run(runs[0]), load_run(runs[1])
    with caplog.at_level("WARNING", logger="gigacov"):
        compute_comparison(b, b)
        compute_comparison(b, a)
        compute_comparison(a, b)
    said = [r.getMessage() for r in caplog.records]
    assert said[0].startswith("both runs are for 2024: the comparison shows what changed")
    assert said[1].startswith("the first run is for 2024 and the second for 2023")
    assert len(said) == 2  # 2023 then 2024: nothing to say


def test_a_city_rolled_up_from_other_counties_in_the_two_years_has_no_change(tmp_path):
    """Statistics of 鲤城 and 晋江 in 2023 but of 鲤城 and 南安 in 2024: the city's gigabit
    users come from other counties in the two years, so their difference is no change of the
    city's. Before, the comparison showed it as one; now the city's and the province's change is
    not computed and a note names the counties. The counties themselves still compare."""
    from support.report_run import CITY, VALUES_2024

    nan = float("nan")
    v23 = {k: dict(v) for k, v in VALUES_2023.items()}
    v23[NANAN].update(users_1000m_plus=nan, users_500m_plus=nan, fixed_users=nan)
    v24 = {k: dict(v) for k, v in VALUES_2024.items()}
    v24[JINJIANG].update(users_1000m_plus=nan, users_500m_plus=nan, fixed_users=nan)
    a = load_run(write_run_dir(make_run(tmp_path / "a", year=2023, values=v23)))
    b = load_run(write_run_dir(make_run(tmp_path / "b", year=2024, values=v24)))
    cmp = compute_comparison(a, b)
    city = cmp.change_of(CITY, "users_1000m_share", "city")
    assert np.isfinite(city["value_a"]) and np.isfinite(city["value_b"])
    assert math.isnan(city["delta"]) and math.isnan(city["delta_pp"])
    assert np.isfinite(cmp.change_of(LICHENG, "users_1000m_share", "county")["delta_pp"])
    note = next(n for n in cmp.notes if f"({CITY})" in n)
    assert "users_1000m_share" in note
    assert f"only in {a.label}: {JINJIANG}" in note and f"only in {b.label}: {NANAN}" in note
    # the household coverage comes from every county both years: its change stands
    assert np.isfinite(cmp.change_of(CITY, "household_gigabit_coverage", "city")["delta_pp"])
    html = compare_runs(a.path, b.path, out_dir=tmp_path / "yoy")["report"].read_text("utf-8")
    assert 'id="yoy-notes"' in html and f"only in {a.label}: {JINJIANG}" in html
