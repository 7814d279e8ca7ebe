"""report.html: sections, embedded charts, links, escaping, CJK glyphs, year over year, atomicity."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.pages import Page, not_blank, png_from_uri
from support.report_run import JINJIANG, LICHENG, make_run, write_run_dir

import gigacov.report as report_pkg
import gigacov.report.html as report_html
from gigacov.errors import ConfigError, RunError
from gigacov.report import charts, write_report
from gigacov.report.labels import Labeler, indicator_labels


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    run = make_run(tmp, with_plan=True)
    out = write_report(run)
    return run, out, Page(out["report"].read_text(encoding="utf-8"))


def test_write_report_returns_both_outputs_in_the_run_dir(report):
    run, out, _ = report
    assert out == {
        "workbook": run.run_dir / "compliance.xlsx",
        "report": run.run_dir / "report.html",
    }
    assert all(p.is_file() for p in out.values())


def test_report_has_all_sections(report):
    _, _, page = report
    assert page.sections == [
        "summary",
        "status",
        "units",
        "charts",
        "county-maps",
        "key-places",
        "inputs",
        "planning",
        "standards",
        "provenance",
    ]


def test_charts_are_embedded_non_blank_pngs(report):
    _, _, page = report
    charts_ = [im for im in page.images if "chart" in im.get("class", "")]
    # 1 status overview + 3 indicators (one per standard indicator) + 1 failing county map (晋江).
    assert len(charts_) == 5
    for im in charts_:
        img = png_from_uri(im["src"])
        assert img.shape[0] > 150 and img.shape[1] > 300
        assert not_blank(img), im["alt"]
    maps = [im for im in page.images if "map" in im.get("class", "").split()]
    assert len(maps) == 1 and "晋江市 (350582)" in maps[0]["alt"]
    # The county map shows the RSRP classes: its image holds the class colours of the legend.
    img = png_from_uri(maps[0]["src"]).reshape(-1, 3)
    colours = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in ("#a6d96a", "#fdae61")}
    assert colours <= {tuple(p) for p in np.unique(img, axis=0)}


def test_no_external_resources_and_relative_map_link(report):
    run, out, page = report
    assert "script" not in page.tags and "link" not in page.tags
    for tag, key, value in page.resources:
        if tag == "img":
            assert value.startswith("data:image/png;base64,")
        else:
            assert not value.startswith(("http:", "https:", "//")), (tag, key, value)
    href = page.links["map-link"]
    assert href == "../maps/qz-test.html"
    assert (out["report"].parent / href).resolve() == run.outputs["map"].resolve()


def test_no_map_link_without_a_map(tmp_path):
    run = make_run(tmp_path, with_map=False)
    page = Page(write_report(run)["report"].read_text(encoding="utf-8"))
    assert "map-link" not in page.links


def test_a_province_row_covering_only_the_analysed_city_is_not_the_headline(tmp_path):
    run = make_run(tmp_path)
    units = run.indicators.units
    units["province"] = units["province"].assign(name="福建省（仅分析区域 350500）", partial=True)
    units["city"] = units["city"].assign(partial=False)
    text = Page(write_report(run)["report"].read_text(encoding="utf-8")).text
    assert "概况 / summary — 泉州市 (地市 / city)" in text
    assert "省 / province — 仅分析区域 350500 / analysed region 350500 only" in text


def test_failing_counties_listed_with_their_failed_indicators_and_shortfalls(report):
    _, _, page = report
    rows = {(r["data-code"], r["data-standard"]): r for r in page.rows if "data-code" in r}
    jin = rows[(JINJIANG, "miit-gigabit-city-2021")]
    assert jin["data-status"] == "fail"
    assert (
        "9.67" in jin["text"]
        and "≥ 12" in jin["text"]
        and "needs 483 more 5G base stations" in jin["text"]
    )
    assert "needs 56,000 more gigabit-capable households" in jin["text"]
    assert rows[(LICHENG, "miit-gigabit-city-2021")]["data-status"] == "pass"
    assert rows[("350583", "miit-gigabit-city-2021")]["data-status"] == "no_data"
    # Failing units come first.
    order = [r["data-code"] for r in page.rows if "data-code" in r]
    assert order[0] == JINJIANG


def test_summary_inputs_planning_standards_provenance(report):
    _, _, page = report
    text = page.text
    assert (
        "4,025,000" in text and "81.6%" in text and "11.43" in text
    )  # province: pop, coverage, sites/10k
    city = next(
        r for r in page.rows if "泉州市" in r["text"] and "11.43" in r["text"]
    )  # the cities' table
    assert "23.2%" in city["text"]  # 260,000 / 1,120,000 gigabit users
    sites = next(r for r in page.rows if r.get("data-input") == "sites")
    assert (
        "4,603" in sites["text"] and "4,600" in sites["text"] and "height_m: 120" in sites["text"]
    )
    assert "lat_lon_swapped" in text
    assert "recommended new sites per county" in text and "20,000" in text
    plan_rows = [r["text"] for r in page.rows]
    # The per-county table in words, with bilingual headers and status labels, not codes.
    assert any("建议新建站址 / new sites" in t and "why planning stopped" in t for t in plan_rows)
    jin = next(t for t in plan_rows if t.startswith("晋江市 350582"))
    assert jin.startswith("晋江市 350582未达标 / fail2—")  # cells: county, before, sites, …
    assert "千兆宽带用户占比 / gigabit (1000 Mbps+) user share" in jin  # not solvable by sites
    assert not any("status_after" in t or "sites_added" in t for t in plan_rows)
    # Status cells carry the status colour, as in the compliance tables.
    html = report[1]["report"].read_text(encoding="utf-8")
    table = html[html.index('id="planning-counties"') :]
    table = table[: table.index("</table>")]
    assert '<span class="badge fail">未达标 / fail</span>' in table
    assert "2 counties were examined, and 3 new sites are recommended in 2 of them" in text
    assert "Weak-coverage areas (connected populated areas" in text
    assert (
        "Greedy placement per failing county" in text and "{'" not in text
    )  # the objective, in the collapsible method details; nested dicts not dumped
    assert "planning-details" in page.ids
    unconfirmed = [r for r in page.rows if r.get("class") == "unconfirmed-row"]
    assert len(unconfirmed) == 2 and all(
        "sites_5g_per_10k" in r["text"] or "household" in r["text"] for r in unconfirmed
    )
    assert "工信部通信〔2021〕34号 附件" in text and "SHA-256 " + "a" * 64 in text
    assert "EPSG:32650, 500 m" in text and "gigacov 0.1.0" in text


def test_titles_say_synthetic_and_real_runs_do_not(report, tmp_path):
    _, _, page = report
    assert "synthetic data" in page.title and "synthetic-banner" in page.ids
    assert all("synthetic data" in im["alt"] for im in page.images)
    real = make_run(tmp_path, synthetic=False)
    real_page = Page(write_report(real)["report"].read_text(encoding="utf-8"))
    assert "synthetic" not in real_page.title.lower() and "synthetic-banner" not in real_page.ids
    assert not any("synthetic" in im["alt"] for im in real_page.images)


def test_names_are_html_escaped(tmp_path):
    run = make_run(tmp_path)
    county = run.indicators.units["county"]
    county.loc[county["admin_code"] == JINJIANG, "name"] = "<script>alert(1)</script>晋江"
    run.compliance.loc[run.compliance["admin_code"] == JINJIANG, "name"] = (
        "<script>alert(1)</script>晋江"
    )
    text = write_report(run)["report"].read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;晋江" in text


# --------------------------------------------------------------------------------------------
# Fonts and glyphs
# --------------------------------------------------------------------------------------------


def _bar_chart(font: str) -> list[warnings.WarningMessage]:
    lab = indicator_labels("sites_5g_per_10k")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.indicator_bar_chart(
            ["鲤城区", "晋江市"],
            [16.3, 9.7],
            ["pass", "fail"],
            [("miit", 12.0)],
            lab,
            "每万人拥有5G基站数 千兆城市",
            font,
            Labeler(),
        )
    assert not_blank(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")))
    return [w for w in caught if "missing from font" in str(w.message)]


def test_chart_chinese_glyphs_are_real():
    from matplotlib import font_manager

    font = charts.find_cjk_font()
    assert charts.font_has_cjk(
        next(f.fname for f in font_manager.fontManager.ttflist if f.name == font)
    )
    assert _bar_chart(font) == []


def test_glyph_check_detects_a_font_without_chinese():
    missing = _bar_chart("DejaVu Sans")
    assert missing and "CJK" in str(missing[0].message)


def test_missing_cjk_font_is_a_clear_error():
    with pytest.raises(RunError, match="fonts-noto-cjk"):
        charts.find_cjk_font(("No Such Font Family",), scan_system=False)


def test_no_font_means_nothing_is_written(tmp_path, monkeypatch):
    def no_font(*a, **k):
        raise RunError("no font with Chinese (CJK) glyphs ... install fonts-noto-cjk")

    monkeypatch.setattr(report_pkg, "find_cjk_font", no_font)
    run = make_run(tmp_path)
    with pytest.raises(RunError, match="fonts-noto-cjk"):
        write_report(run)
    assert list(run.run_dir.iterdir()) == []


def test_report_needs_the_compliance_stage(tmp_path):
    run = make_run(tmp_path)
    run.compliance = None
    with pytest.raises(RunError, match="'check' stage"):
        write_report(run)


# --------------------------------------------------------------------------------------------
# Year over year inside the report
# --------------------------------------------------------------------------------------------


def test_previous_run_adds_year_over_year_section(tmp_path):
    from support.report_run import VALUES_2023

    before = write_run_dir(make_run(tmp_path, year=2023, values=VALUES_2023))
    run = make_run(tmp_path, report={"previous_run": str(before)})
    page = Page(write_report(run)["report"].read_text(encoding="utf-8"))
    assert page.sections[-3:] == ["yoy", "standards", "provenance"]
    passing = [
        r
        for r in page.rows
        if "鲤城区" in r["text"]
        and "miit-gigabit-city-2021" in r["text"]
        and "未达标 / fail" in r["text"]
        and "达标 / pass" in r["text"]
    ]
    assert passing, "鲤城区 should be listed as newly passing the MIIT standard"
    assert "yoy-newly-failing" in page.ids and "needs 30,001 more gigabit users" in page.text
    yoy_charts = [im for im in page.images if "qz-test 2023 → qz-test 2024" in im["alt"]]
    assert len(yoy_charts) == 3 and all(not_blank(png_from_uri(im["src"])) for im in yoy_charts)


def test_previous_run_with_other_standard_version_is_explained_not_compared(tmp_path):
    from support.report_run import VALUES_2023

    before = write_run_dir(make_run(tmp_path, year=2023, values=VALUES_2023, miit_version="2020.9"))
    run = make_run(tmp_path, report={"previous_run": str(before)})
    page = Page(write_report(run)["report"].read_text(encoding="utf-8"))
    assert "yoy-refused" in page.ids and "'2020.9'" in page.text
    forced = make_run(tmp_path / "f", report={"previous_run": str(before), "force_compare": True})
    page = Page(write_report(forced)["report"].read_text(encoding="utf-8"))
    assert "yoy-forced" in page.ids and "yoy-newly-passing" in page.ids


def test_previous_run_that_is_not_a_run_is_a_config_error(tmp_path):
    empty = tmp_path / "old"
    empty.mkdir()
    run = make_run(tmp_path, report={"previous_run": str(empty)})
    with pytest.raises(ConfigError, match=r"\[report\] previous_run.*missing manifest.json"):
        write_report(run)
    assert not (run.run_dir / "report.html").exists()


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def test_failure_while_rendering_keeps_the_old_report(tmp_path, monkeypatch):
    run = make_run(tmp_path)
    path = write_report(run)["report"]
    before = path.read_bytes()

    def broken_map(*a, **k):
        raise RuntimeError("renderer crashed (simulated)")

    monkeypatch.setattr(charts, "county_map", broken_map)
    with pytest.raises(RuntimeError, match="simulated"):
        write_report(run)
    assert path.read_bytes() == before


class _HalfWriter:
    """A file that writes half of what it is given, then fails (disk full mid-way)."""

    def __init__(self, path, *args, **kwargs):
        self._f = open(path, *args, **kwargs)  # noqa: SIM115

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def write(self, text):
        self._f.write(text[: len(text) // 2])
        self._f.flush()
        raise OSError("No space left on device (simulated)")


@pytest.mark.parametrize("existing", [True, False])
def test_failure_mid_write_leaves_old_or_no_report(tmp_path, monkeypatch, existing):
    run = make_run(tmp_path)
    path = run.run_dir / "report.html"
    if existing:
        write_report(run)
    before = path.read_bytes() if existing else None
    monkeypatch.setattr(report_html, "open", _HalfWriter, raising=False)
    with pytest.raises(OSError, match="No space left"):
        write_report(run)
    if existing:
        assert path.read_bytes() == before
    else:
        assert not path.exists()
    assert not [p for p in Path(run.run_dir).iterdir() if "partial" in p.name]
