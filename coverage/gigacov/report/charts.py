"""Charts and small static maps for the reports (matplotlib, Agg, PNG in memory).

Chinese text needs a CJK font: :func:`find_cjk_font` looks for one through
``matplotlib.font_manager`` (Debian's ``fonts-noto-cjk`` provides "Noto Sans CJK SC") and fails
with a message naming the package to install when there is none — a chart of tofu boxes is
worse than no chart. Figures are built with :class:`matplotlib.figure.Figure` directly (no
pyplot state), so rendering is safe from worker threads.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import RunError
from ..text import clean_text
from .labels import STATUS_NAMES, IndicatorLabel

__all__ = [
    "CJK_FONT_NAMES",
    "STATUS_COLOURS",
    "RSRP_CLASSES",
    "find_cjk_font",
    "font_has_cjk",
    "png_data_uri",
    "indicator_bar_chart",
    "status_overview_chart",
    "yoy_chart",
    "county_map",
    "rsrp_classes",
    "wrap_title",
]

log = logging.getLogger(__name__)

#: Font families tried in order (Simplified Chinese first).
CJK_FONT_NAMES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)

#: File-name fragments of CJK fonts, used when a font was installed after matplotlib's cache.
_CJK_FILE_HINTS = (
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "wqy",
    "droidsansfallback",
    "notosanssc",
)

STATUS_COLOURS = {"pass": "#2e9d4f", "at_risk": "#e69a1c", "fail": "#d64541", "no_data": "#a6a6a6"}

#: RSRP classes of the county maps (docs/design.md §2: good ≥ −95, moderate −105…−95, usable −115…−105,
#: poor < −115 dBm [S]); the last class is "no server".
RSRP_CLASSES: tuple[tuple[str, str, float, str], ...] = (
    # (zh, en, lower bound dBm, colour)
    ("好", "good ≥ −95 dBm", -95.0, "#1a9641"),
    ("中", "moderate −105…−95", -105.0, "#a6d96a"),
    ("可用", "usable −115…−105", -115.0, "#fdae61"),
    ("弱", "poor < −115", -math.inf, "#d7191c"),
    ("无信号", "no signal", math.nan, "#d9d9d9"),
)

_DPI = 100


def font_has_cjk(path: str, sample: str = "千兆覆盖率") -> bool:
    """True when the font file at ``path`` has a glyph for every character of ``sample``."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in sample)


def find_cjk_font(candidates: Sequence[str] = CJK_FONT_NAMES, *, scan_system: bool = True) -> str:
    """The family name of an installed font that renders Chinese.

    Looks through matplotlib's font list for ``candidates`` (in order) and checks that the font
    file really has CJK glyphs. When none is found and ``scan_system`` is true, the system font
    folders are scanned once for CJK font files (a font installed after matplotlib built its
    cache) and the search is repeated.

    Raises
    ------
    RunError
        When no CJK font is installed; the message names the package to install.
    """
    from matplotlib import font_manager

    def _search() -> str | None:
        by_name: dict[str, list[str]] = {}
        for entry in font_manager.fontManager.ttflist:
            by_name.setdefault(entry.name, []).append(entry.fname)
        for name in candidates:
            for fname in by_name.get(name, []):
                if font_has_cjk(fname):
                    return name
        return None

    found = _search()
    if found is None and scan_system:
        added = 0
        for path in font_manager.findSystemFonts():
            base = os.path.basename(path).lower().replace("-", "").replace("_", "")
            if any(h in base for h in _CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                    added += 1
                except (OSError, RuntimeError, ValueError):  # pragma: no cover - broken file
                    continue
        if added:
            log.info("registered %d CJK font file(s) found in the system font folders", added)
            found = _search()
    if found is None:
        raise RunError(
            "no font with Chinese (CJK) glyphs was found, so the report's charts would show boxes "
            f"instead of Chinese text (looked for: {', '.join(candidates)}). Install one, e.g. on "
            "Debian/Ubuntu: 'sudo apt-get install fonts-noto-cjk' (provides \"Noto Sans CJK SC\"), "
            "then run again; if matplotlib still does not see it, delete its font cache "
            "(~/.cache/matplotlib/fontlist-*.json)."
        )
    return found


@contextmanager
def _style(font: str) -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [font, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "savefig.dpi": _DPI,
            # Names are plain text: "US$5 and $6" must not be typeset as mathematics.
            "text.parse_math": False,
        }
    ):
        yield


def _new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(buf, format="png", dpi=_DPI, facecolor="white")
    for w in caught:
        if "missing from font" in str(w.message):
            log.warning("chart text will show boxes: %s", w.message)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return buf.getvalue()


def wrap_title(text: str, width: int = 78) -> str:
    """Break a title into lines of at most ``width`` columns (a CJK character counts two)."""
    import unicodedata

    def cols(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    lines: list[str] = []
    line = ""
    for word in clean_text(text).split(" "):
        candidate = f"{line} {word}" if line else word
        if line and cols(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for embedding in a self-contained HTML page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _display(values: Iterable[float], ratio: bool) -> np.ndarray:
    v = np.asarray(list(values), dtype=np.float64)
    return v * 100.0 if ratio else v


def _axis_label(label: IndicatorLabel, lang) -> str:
    unit = "%" if label.ratio else lang(label.unit_zh, label.unit_en)
    name = lang(label.name_zh, label.name_en)
    return f"{name} ({unit})" if unit else name


def indicator_bar_chart(
    names: Sequence[str],
    values: Sequence[float],
    statuses: Sequence[str],
    thresholds: Sequence[tuple[str, float]],
    label: IndicatorLabel,
    title: str,
    font: str,
    lang,
) -> bytes:
    """Horizontal bars of one indicator per unit, coloured by status, with threshold lines.

    ``thresholds`` are ``(standard id, threshold)``; values and thresholds are fractions for a
    ratio (drawn as percentages). Units without data get a grey "无数据 / no data" label.
    """
    vals = _display(values, label.ratio)
    order = np.argsort(np.where(np.isnan(vals), -np.inf, vals), kind="stable")
    n = len(names)
    with _style(font):
        fig = _new_figure(7.5, max(2.2, 0.8 + 0.24 * n))
        ax = fig.add_subplot()
        y = np.arange(n)
        shown = np.nan_to_num(vals[order], nan=0.0)
        colours = [STATUS_COLOURS.get(statuses[i], STATUS_COLOURS["no_data"]) for i in order]
        ax.barh(y, shown, color=colours, height=0.7)
        ax.set_yticks(y, [clean_text(names[i]) for i in order])
        finite = vals[np.isfinite(vals)]
        top = float(finite.max()) if finite.size else 1.0
        for yi, i in zip(y, order, strict=True):
            if math.isnan(vals[i]):
                ax.text(
                    0, yi, " " + lang("无数据", "no data"), va="center", fontsize=7, color="#666666"
                )
            else:
                text = (
                    f"{vals[i]:.1f}%" if label.ratio else f"{vals[i]:,.{min(label.decimals, 2)}f}"
                )
                ax.text(vals[i], yi, " " + text, va="center", fontsize=7)
        styles = ["--", ":", "-.", (0, (5, 1))]
        for k, (std, thr) in enumerate(thresholds):
            if thr is None or math.isnan(float(thr)):
                continue
            t = float(thr) * (100.0 if label.ratio else 1.0)
            top = max(top, t)
            ax.axvline(
                t,
                color="#333333",
                lw=1.1,
                ls=styles[k % len(styles)],
                label=clean_text(f"{std}: {t:g}"),
            )
        ax.set_xlim(0, top * 1.15 if top > 0 else 1)
        ax.set_xlabel(_axis_label(label, lang))
        ax.set_title(wrap_title(title))
        handles, labels = ax.get_legend_handles_labels()
        from matplotlib.patches import Patch

        for st in STATUS_NAMES:
            if st == "at_risk" and "at_risk" not in statuses:
                continue
            handles.append(Patch(color=STATUS_COLOURS[st]))
            labels.append(lang(*STATUS_NAMES[st]))
        fig.legend(
            handles, labels, loc="outside lower center", ncol=min(len(labels), 4), frameon=False
        )
        return _png(fig)


def status_overview_chart(counts: dict[str, dict[str, int]], title: str, font: str, lang) -> bytes:
    """Stacked bars: per standard, how many units pass, are at risk, fail, have no data."""
    from matplotlib.ticker import MaxNLocator

    stds = list(counts)
    with _style(font):
        fig = _new_figure(7.5, max(2.0, 0.9 + 0.45 * len(stds)))
        ax = fig.add_subplot()
        y = np.arange(len(stds))
        left = np.zeros(len(stds))
        shown = [
            st for st in STATUS_NAMES if st != "at_risk" or any(c.get(st) for c in counts.values())
        ]
        for st in shown:
            w = np.array([counts[s].get(st, 0) for s in stds], dtype=float)
            ax.barh(
                y, w, left=left, color=STATUS_COLOURS[st], label=lang(*STATUS_NAMES[st]), height=0.6
            )
            for yi, (lx, wx) in enumerate(zip(left, w, strict=True)):
                if wx > 0:
                    ax.text(
                        lx + wx / 2,
                        yi,
                        f"{int(wx)}",
                        ha="center",
                        va="center",
                        color="white",
                        fontsize=8,
                    )
            left += w
        ax.set_yticks(y, [clean_text(s) for s in stds])
        ax.set_xlabel(lang("单位数", "units"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(wrap_title(title))
        fig.legend(loc="outside lower center", ncol=3, frameon=False)
        return _png(fig)


def yoy_chart(
    names: Sequence[str],
    values_a: Sequence[float],
    values_b: Sequence[float],
    label_a: str,
    label_b: str,
    label: IndicatorLabel,
    title: str,
    font: str,
    lang,
    thresholds: Sequence[tuple[str, float]] = (),
) -> bytes:
    """Grouped horizontal bars: each unit's value in run A and in run B (named by their labels,
    e.g. the years); a unit without a value in a run gets a "无数据 / no data" label instead."""
    a = _display(values_a, label.ratio)
    b = _display(values_b, label.ratio)
    n = len(names)
    order = np.argsort(np.where(np.isnan(b), -np.inf, b), kind="stable")
    with _style(font):
        fig = _new_figure(7.5, max(2.2, 0.9 + 0.34 * n))
        ax = fig.add_subplot()
        y = np.arange(n)
        ax.barh(
            y + 0.19,
            np.nan_to_num(a[order]),
            height=0.36,
            color="#9ecae1",
            label=clean_text(label_a),
        )
        ax.barh(
            y - 0.19,
            np.nan_to_num(b[order]),
            height=0.36,
            color="#08519c",
            label=clean_text(label_b),
        )
        ax.set_yticks(y, [clean_text(names[i]) for i in order])
        no_data = lang("无数据", "no data")
        for yi, i in zip(y, order, strict=True):  # a missing bar says so, in its place
            for values, dy, run in ((a, 0.19, label_a), (b, -0.19, label_b)):
                if math.isnan(values[i]):
                    ax.text(
                        0,
                        yi + dy,
                        clean_text(f" {no_data} ({run})"),
                        va="center",
                        fontsize=6.5,
                        color="#666666",
                    )
        for k, (std, thr) in enumerate(thresholds):
            if thr is None or math.isnan(float(thr)):
                continue
            t = float(thr) * (100.0 if label.ratio else 1.0)
            ax.axvline(
                t,
                color="#333333",
                lw=1.0,
                ls="--" if k == 0 else ":",
                label=clean_text(f"{std}: {t:g}"),
            )
        ax.set_xlabel(_axis_label(label, lang))
        ax.set_title(wrap_title(title))
        fig.legend(loc="outside lower center", ncol=4, frameon=False)
        return _png(fig)


def rsrp_classes(rsrp_dbm: np.ndarray) -> np.ndarray:
    """Class index per pixel (0 good … 3 poor, 4 no signal) of :data:`RSRP_CLASSES`."""
    r = np.asarray(rsrp_dbm, dtype=np.float64)
    out = np.full(r.shape, 4, dtype=np.uint8)
    finite = np.isfinite(r)
    out[finite & (r < -115.0)] = 3
    out[finite & (r >= -115.0) & (r < -105.0)] = 2
    out[finite & (r >= -105.0) & (r < -95.0)] = 1
    out[finite & (r >= -95.0)] = 0
    return out


@dataclass(frozen=True)
class MapWindow:
    """The part of a coverage raster around one county, classes masked outside it."""

    classes: np.ma.MaskedArray
    extent: tuple[float, float, float, float]  # left, right, bottom, top (metres, grid CRS)
    outline: Any  # shapely geometry in the grid CRS


def county_window(
    geometry_wgs84: Any, grid: Any, rsrp_dbm: np.ndarray, max_pixels: int = 500
) -> MapWindow | None:
    """Cut the county's window out of the RSRP raster and classify it.

    Pixels whose centres fall outside the county are masked. Large windows are subsampled to
    at most ``max_pixels`` on a side (display only). None when the county is off the grid.
    """
    import geopandas as gpd
    from affine import Affine
    from rasterio.features import geometry_mask

    outline = gpd.GeoSeries([geometry_wgs84], crs=4326).to_crs(grid.crs).iloc[0]
    if outline is None or outline.is_empty:
        return None
    minx, miny, maxx, maxy = outline.bounds
    res = grid.resolution_m
    t = grid.transform
    c0 = max(int(math.floor((minx - t.c) / res)), 0)
    c1 = min(int(math.ceil((maxx - t.c) / res)), grid.width)
    r0 = max(int(math.floor((t.f - maxy) / res)), 0)
    r1 = min(int(math.ceil((t.f - miny) / res)), grid.height)
    if c0 >= c1 or r0 >= r1:
        return None
    step = max(1, int(math.ceil(max(r1 - r0, c1 - c0) / max_pixels)))
    window = np.asarray(rsrp_dbm)[r0:r1:step, c0:c1:step]
    wt = Affine(res * step, 0.0, t.c + c0 * res, 0.0, -res * step, t.f - r0 * res)
    inside = geometry_mask([outline], out_shape=window.shape, transform=wt, invert=True)
    classes = np.ma.masked_array(rsrp_classes(window), mask=~inside)
    left, top = wt.c, wt.f
    extent = (left, left + window.shape[1] * res * step, top - window.shape[0] * res * step, top)
    return MapWindow(classes, extent, outline)


def county_map(window: MapWindow, title: str, font: str, lang, note: str = "") -> bytes:
    """A small static map: the county outline over its RSRP classes (grid CRS, metres)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    cmap = ListedColormap([c[3] for c in RSRP_CLASSES]).with_extremes(bad=(1, 1, 1, 0))
    with _style(font):
        fig = _new_figure(5.2, 5.2)
        ax = fig.add_subplot()
        ax.imshow(
            window.classes,
            cmap=cmap,
            vmin=-0.5,
            vmax=len(RSRP_CLASSES) - 0.5,
            extent=window.extent,
            interpolation="nearest",
            origin="upper",
        )
        geoms = getattr(window.outline, "geoms", [window.outline])
        for g in geoms:
            for ring in [g.exterior, *g.interiors]:
                xs, ys = ring.xy
                ax.plot(xs, ys, color="#222222", lw=1.2)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(wrap_title(title))
        handles = [Patch(color=c[3], label=lang(c[0], c[1])) for c in RSRP_CLASSES]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=3,
            fontsize=7,
            frameon=False,
            title="5G SS-RSRP",
            title_fontsize=7,
        )
        if note:
            ax.text(
                0.0,
                -0.04,
                clean_text(note),
                transform=ax.transAxes,
                fontsize=7,
                va="top",
                color="#555555",
            )
        return _png(fig)
