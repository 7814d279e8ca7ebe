"""report.html in headless Chromium: offline, images decode, Chinese renders as glyphs, not boxes."""

from __future__ import annotations

import dataclasses
import io
import itertools

import numpy as np
import pytest
from browser import chromium_page, reader_layout
from PIL import Image
from support.report_run import make_run

from gigacov.report import write_report

pytestmark = pytest.mark.browser

#: Adds one span per character, in the page's own font (inherited from <main>), big enough to
#: compare glyph bitmaps.
_ADD_GLYPHS = """(chars) => {
    const box = document.createElement('div');
    box.id = 'glyph-probe';
    box.style.cssText = 'font-size:48px;line-height:1;padding:4px;background:#fff;color:#000';
    chars.forEach((c, i) => {
        const s = document.createElement('span');
        s.id = 'glyph-' + i; s.textContent = c; s.style.cssText = 'display:inline-block;padding:2px';
        box.appendChild(s);
    });
    document.querySelector('main').prepend(box);
    return getComputedStyle(box).fontFamily;
}"""


def _gray(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def _glyphs(page, chars: list[str]) -> list[np.ndarray]:
    page.evaluate("() => { const b = document.getElementById('glyph-probe'); if (b) b.remove(); }")
    family = page.evaluate(_ADD_GLYPHS, chars)
    assert "Noto Sans CJK SC" in family
    return [_gray(page.locator(f"#glyph-{i}").screenshot()) for i in range(len(chars))]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.fixture(scope="module")
def report_path(tmp_path_factory):
    run = make_run(tmp_path_factory.mktemp("browser"), with_plan=True)
    return write_report(run)["report"]


def test_report_renders_offline_with_all_images(report_path):
    with chromium_page(block_network=True) as page:
        page.goto(report_path.as_uri())
        page.wait_for_load_state("load")
        assert page.errors == [] and page.blocked == []
        sizes = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
        )
        assert len(sizes) == 5 and all(done and w > 300 and h > 150 for done, w, h in sizes)
        title = _gray(page.locator("h1#title").screenshot())
        assert (title < 128).sum() > 500  # dark text pixels: the title is drawn


def test_chinese_text_renders_as_distinct_glyphs_not_tofu(report_path):
    with chromium_page() as page:
        page.goto(report_path.as_uri())
        title = page.inner_text("h1#title")
        cjk = list(dict.fromkeys(ch for ch in title if "\u4e00" <= ch <= "\u9fff"))[:6]
        assert len(cjk) == 6, title
        # Control: characters no font has (private use, unassigned) all render the same box;
        # this is what Chinese would look like without a CJK font.
        tofu = _glyphs(page, ["\ue000", "\ue001", "\u0378"])
        assert _same(tofu[0], tofu[1]) and _same(tofu[0], tofu[2])
        glyphs = _glyphs(page, cjk)
        for g in glyphs:
            assert (g < 128).sum() > 100  # ink
            assert not _same(g, tofu[0])  # not the missing-glyph box
        for a, b in itertools.combinations(glyphs, 2):
            assert not _same(a, b)  # distinct characters, distinct glyphs


def _wide_run(tmp, year: int):
    """A differently shaped run: Chinese only, long unit names and file paths, no plan."""
    run = make_run(tmp, year=year, with_plan=False, report={"language": "zh"}, name="wide-shape")
    long_name = "某某某某某某某某某某某某某某某某某某某某某某某某某某某某某某自治县"
    for t in run.indicators.units.values():
        t["name"] = t["name"] + long_name
    run.compliance["name"] = run.compliance["name"] + long_name
    deep = str(tmp / ("very-long-folder-name-without-any-break" * 4) / "sites.csv")
    run.inputs.reports = [dataclasses.replace(r, path=deep) for r in run.inputs.reports]
    return run


@pytest.mark.parametrize("shape", ["fixture", "wide"])
def test_report_and_comparison_fit_every_width_with_chinese_headers(tmp_path, shape):
    from support.report_run import VALUES_2023, write_run_dir

    from gigacov.report import compare_runs

    if shape == "fixture":
        a = make_run(tmp_path / "a", year=2023, values=VALUES_2023, with_plan=True)
        b = make_run(tmp_path / "b", with_plan=True)
    else:
        a = _wide_run(tmp_path / "a", 2023)
        b = _wide_run(tmp_path / "b", 2024)
    pages = {
        "report": write_report(b)["report"],
        "comparison": compare_runs(write_run_dir(a), write_run_dir(b), out_dir=tmp_path / "cmp")[
            "report"
        ],
    }
    for kind, path in pages.items():
        for width, probe in reader_layout(path, screenshot=f"{kind}-{shape}").items():
            where = f"{kind} ({shape}) at {width} px"
            assert probe["errors"] == [], where
            assert probe["scrollWidth"] <= probe["innerWidth"], (where, probe)
            assert probe["tables"] >= 3 and probe["unwrapped"] == 0, (where, probe)
            assert probe["headersWithoutChinese"] == [], (where, probe)
