"""compliance.xlsx: sheets, bilingual headers, threshold row, status colours, numbers, atomicity."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook
from support.report_run import JINJIANG, LICHENG, NANAN, make_run

from gigacov.report.workbook import README_SHEET, SHORTFALL_SHEET, write_workbook

GREEN, RED, GREY = "FFC6EFCE", "FFC7CE", "FFD9D9D9"
HEAD, THRESHOLD, FIRST = 4, 5, 6


def _rgb(cell) -> str:
    return (
        str(cell.fill.fgColor.rgb)[-6:]
        if cell.fill is not None and cell.fill.fill_type == "solid"
        else ""
    )


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wb")
    run = make_run(tmp)
    path = write_workbook(run, run.run_dir / "compliance.xlsx")
    return openpyxl.load_workbook(path)


def _col(ws, prefix: str, group: str | None = None) -> int:
    """Column index of the header starting with ``prefix`` (within a standard's group)."""
    current_group = None
    for cell in ws[HEAD]:
        top = ws.cell(row=3, column=cell.column).value
        current_group = top if top is not None else current_group
        if (
            isinstance(cell.value, str)
            and cell.value.startswith(prefix)
            and (group is None or current_group == group)
        ):
            return cell.column
    raise AssertionError(
        f"no header starting with {prefix!r} in group {group!r}: {[c.value for c in ws[HEAD]]}"
    )


def _row(ws, code: str) -> int:
    for r in range(FIRST, ws.max_row + 1):
        if ws.cell(row=r, column=1).value == code:
            return r
    raise AssertionError(f"no row for {code}")


def test_one_sheet_per_level_plus_read_me_and_shortfalls(workbook):
    assert workbook.sheetnames == [
        README_SHEET,
        "省 province",
        "地市 city",
        "区县 county",
        SHORTFALL_SHEET,
    ]


def test_headers_are_bilingual_with_units_and_threshold_row_holds_numbers(workbook):
    ws = workbook["区县 county"]
    sites = _col(ws, "每万人拥有5G基站数 / 5G base stations per 10,000 people")
    assert "(个/万人" in ws.cell(row=HEAD, column=sites).value
    hh = _col(ws, "家庭千兆光纤网络覆盖率 / household gigabit-fibre coverage")
    assert ws.cell(row=HEAD, column=hh).value.endswith("(%)")
    assert ws.cell(row=HEAD, column=1).value == "代码 / code"
    assert ws.cell(row=3, column=sites).value == "miit-gigabit-city-2021"
    # Threshold row under the header: numbers, the comparison only in the number format;
    # unconfirmed thresholds carry a '*' and a comment.
    assert ws.cell(row=THRESHOLD, column=1).value == "阈值 / threshold"
    t_sites = ws.cell(row=THRESHOLD, column=sites)
    assert t_sites.value == 12 and t_sites.data_type == "n"
    assert t_sites.number_format.startswith('"≥ "') and t_sites.number_format.endswith('"*"')
    assert "not confirmed" in t_sites.comment.text
    t_hh = ws.cell(row=THRESHOLD, column=hh)
    assert t_hh.value == pytest.approx(0.8) and "%" in t_hh.number_format
    gig = _col(ws, "千兆宽带用户占比", group="fujian-2024")
    t_gig = ws.cell(row=THRESHOLD, column=gig)
    assert t_gig.value == pytest.approx(0.25)
    assert t_gig.number_format == '"> "0%'  # confirmed: no '*'
    assert t_gig.comment is None or "not confirmed" not in t_gig.comment.text


def test_pass_fail_and_no_data_cells_are_coloured(workbook):
    ws = workbook["区县 county"]
    sites = _col(ws, "每万人拥有5G基站数")
    hh = _col(ws, "家庭千兆光纤网络覆盖率")
    assert _rgb(ws.cell(row=_row(ws, LICHENG), column=sites)) == GREEN[-6:]  # 16.3 ≥ 12
    assert _rgb(ws.cell(row=_row(ws, JINJIANG), column=sites)) == RED[-6:]  # 9.67 < 12
    nodata = ws.cell(row=_row(ws, NANAN), column=hh)  # no household data
    assert nodata.value is None and _rgb(nodata) == GREY[-6:]
    overall = [c for c in ws[HEAD] if c.value == "总体结果 / overall"][0].column  # miit overall
    assert ws.cell(row=_row(ws, JINJIANG), column=overall).value == "未达标 / fail"
    assert ws.cell(row=_row(ws, NANAN), column=overall).value == "无数据 / no data"  # never a pass
    # The legend shows the same fills.
    legend = {c.value: _rgb(c) for c in ws[2] if c.value}
    assert legend["达标 / pass"] == GREEN[-6:] and legend["未达标 / fail"] == RED[-6:]


def test_values_are_numbers_with_percentage_formats(workbook):
    ws = workbook["区县 county"]
    sites = ws.cell(row=_row(ws, JINJIANG), column=_col(ws, "每万人拥有5G基站数"))
    assert sites.data_type == "n" and sites.value == pytest.approx(2000 / 206.9)
    share = ws.cell(
        row=_row(ws, JINJIANG), column=_col(ws, "千兆宽带用户占比", group="fujian-2024")
    )
    assert (
        share.data_type == "n"
        and share.value == pytest.approx(0.20)
        and share.number_format == "0.0%"
    )
    pop = ws.cell(row=_row(ws, JINJIANG), column=_col(ws, "常住人口"))
    assert pop.value == 2_069_000 and pop.number_format == "#,##0"
    for row in ws.iter_rows(min_row=FIRST, max_row=ws.max_row, min_col=5):
        for c in row:
            if isinstance(c.value, str):
                assert c.value.split(" / ")[0] in {"达标", "未达标", "无数据"}, (
                    c.value
                )  # only statuses are text
    assert ws.cell(row=_row(ws, JINJIANG), column=1).value == "350582"  # codes stay text


def test_header_frozen_and_filtered(workbook):
    ws = workbook["区县 county"]
    assert ws.freeze_panes == "C6"
    assert (
        ws.auto_filter.ref
        == f"A{THRESHOLD}:{ws.cell(row=HEAD, column=ws.max_column).column_letter}{FIRST + 2}"
    )


def test_shortfall_sheet_lists_fails_in_real_units(workbook):
    ws = workbook[SHORTFALL_SHEET]
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True)]
    by_key = {(r[1], r[5]): r for r in rows}
    sites = by_key[(JINJIANG, "sites_5g_per_10k")]
    assert sites[6] == "未达标 / fail"
    assert sites[9] == 483 and sites[10] == "sites"  # ceil(12 × 206.9 − 2000)
    assert "needs 483 more 5G base stations" in sites[11]
    hh = by_key[(JINJIANG, "household_gigabit_coverage")]
    assert hh[9] == 56_000 and "needs 56,000 more gigabit-capable households" in hh[11]
    assert (LICHENG, "sites_5g_per_10k") not in by_key  # passes: no shortfall row
    assert all(r[7] is None or isinstance(r[7], float) for r in rows)
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")


def test_read_me_has_sources_unconfirmed_thresholds_provenance_and_synthetic_notice(workbook):
    ws = workbook[README_SHEET]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert "SYNTHETIC DATA" in text and "合成数据" in text
    assert "工信部通信〔2021〕34号 附件" in text and "《2024年数字福建工作要点》第1条" in text
    assert text.count("未确认 / UNCONFIRMED") == 2  # both MIIT thresholds
    assert "SHA-256 " + "a" * 64 in text and "gigacov 0.1.0" in text
    assert "EPSG:32650, 500 m" in text and '"rsrp_threshold_dbm": -105.0' in text
    assert "computed by analogy" in text


def test_real_data_has_no_synthetic_notice_and_english_only_headers(tmp_path):
    run = make_run(tmp_path, synthetic=False, report={"language": "en"})
    wb = openpyxl.load_workbook(write_workbook(run, tmp_path / "c.xlsx"))
    text = "\n".join(
        str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None
    )
    assert "synthetic" not in text.lower() and "合成" not in text
    ws = wb["区县 county"]
    assert ws.cell(row=HEAD, column=1).value == "code"
    assert any(
        c.value == "5G base stations per 10,000 people (sites per 10k people)" for c in ws[HEAD]
    )


def _failing_save(self, filename):
    Path(filename).write_bytes(b"PK\x03\x04 half a zip file")
    raise OSError("disk full (simulated)")


def test_failed_save_leaves_old_workbook_intact(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    path = write_workbook(run, run.run_dir / "compliance.xlsx")
    before = path.read_bytes()
    monkeypatch.setattr(Workbook, "save", _failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_workbook(run, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["compliance.xlsx"]  # no partial file


def test_writer_failing_after_some_sheets_leaves_old_workbook_intact(tmp_path, monkeypatch):
    """openpyxl has already zipped two sheets into the temporary file when the third fails."""
    from openpyxl.writer.excel import ExcelWriter

    run = make_run(tmp_path)
    path = write_workbook(run, run.run_dir / "compliance.xlsx")
    before = path.read_bytes()
    real = ExcelWriter.write_worksheet
    written = []

    def flaky(self, ws):
        if len(written) == 2:
            raise OSError("No space left on device (simulated)")
        written.append(ws.title)
        real(self, ws)

    monkeypatch.setattr(ExcelWriter, "write_worksheet", flaky)
    with pytest.raises(OSError, match="No space left"):
        write_workbook(run, path)
    assert written == [README_SHEET, "省 province"]
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["compliance.xlsx"]


def test_failed_save_leaves_no_workbook(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    monkeypatch.setattr(Workbook, "save", _failing_save)
    with pytest.raises(OSError):
        write_workbook(run, run.run_dir / "compliance.xlsx")
    assert list(run.run_dir.iterdir()) == []


def test_workbook_of_a_run_with_villages_only_in_compliance(tmp_path):
    """A unit only the compliance table knows still gets a row (and no data is grey)."""
    import pandas as pd

    run = make_run(tmp_path)
    extra = pd.DataFrame(
        [
            {
                "admin_code": "350582100001",
                "name": "某村",
                "level": "village",
                "standard": "fujian-2024",
                "indicator": "users_1000m_share",
                "value": math.nan,
                "op": ">",
                "threshold": 0.25,
                "status": "no_data",
                "margin": math.nan,
                "shortfall": math.nan,
                "shortfall_unit": "",
            }
        ]
    )
    run.compliance = pd.concat([run.compliance, extra], ignore_index=True)
    wb = openpyxl.load_workbook(write_workbook(run, tmp_path / "c.xlsx"))
    ws = wb["行政村 village"]
    r = _row(ws, "350582100001")
    assert ws.cell(row=r, column=2).value == "某村"
    assert _rgb(ws.cell(row=r, column=_col(ws, "千兆宽带用户占比"))) == GREY[-6:]
