"""Hostile and unlucky strings, shared by the tests of every output that shows names.

Each string is what somebody else's file may carry in a unit name, a header, a site id, a
scenario title or a standard id. The tests put them through the pipeline's writers and assert
that no formula reaches a spreadsheet, no escape sequence reaches a terminal, no markup or
mathtext is interpreted, and no traceback reaches the user.

Also: :func:`write_tiny_scenario`, a two-county scenario (about 6 km × 6 km each, 250 m grid)
that the whole pipeline runs in seconds, with any names the test wants.
"""

from __future__ import annotations

from pathlib import Path

#: Formula prefixes (OWASP CSV injection), DDE, control characters, terminal escapes (OSC 0 sets
#: the window title, OSC 52 writes the clipboard, CSI 2J clears the screen), matplotlib
#: mathtext, rich markup and an HTML script end tag.
HOSTILE_STRINGS: list[str] = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "bell\x07null\x00 and \x1b[2J cleared",
    "\x1b]0;pwned title\x07window",
    "\x1b]52;c;cHduZWQ=\x07clipboard",
    "c1 \x9b31m csi and \x85 nel",
    "US$5 and $6",
    r"$\frac{$",
    "[/red] closing tag",
    "[bold red]markup[/bold red]",
    "</script><script>alert(1)</script>",
]

#: Text of each hostile string as gigacov shows it (controls and escape sequences removed).
ESCAPES = ("\x1b", "\x07", "\x00", "\x9b", "\x85")


def assert_no_controls(text: str, where: str = "") -> None:
    """Fail when ``text`` carries an escape or a control character (other than tab/newline)."""
    bad = sorted({c for c in text if (ord(c) < 32 and c not in "\t\n\r") or 0x7F <= ord(c) <= 0x9F})
    assert not bad, f"{where}: control characters {bad!r} in {text[:200]!r}"


STANDARD_TOML = """
id = "{id}"
version = "1"
year = 2024
issuer = "test"
source = "synthetic test standard"
[title]
zh = "测试标准"
en = "test standard"
[[indicators]]
key = "pop_coverage_5g"
op = ">="
threshold = 0.5
levels = ["county", "city"]
[[indicators]]
key = "sites_5g_per_10k"
op = ">="
threshold = 5.0
levels = ["county", "city"]
"""


def write_tiny_scenario(
    folder: Path,
    names: tuple[str, str] = ("甲县", "乙县"),
    *,
    title: str = "tiny synthetic",
    standard_id: str = "tiny-test",
    site_ids: tuple[str, ...] = ("S1", "S2", "S3"),
    extra: str = "",
) -> Path:
    """Write a small synthetic scenario into ``folder``; returns the scenario file.

    Two square counties of Quanzhou (codes 350582 and 350583, names as given), a population
    column, three 5G sites, one standard file, a 250 m grid in UTM 50N. ``extra`` is appended
    to the TOML (more sections or keys).
    """
    import geopandas as gpd
    from shapely.geometry import box

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counties = gpd.GeoDataFrame(
        {
            "admin_code": ["350582", "350583"],
            "name": list(names),
            "population": [20000.0, 30000.0],
        },
        geometry=[box(118.50, 24.80, 118.56, 24.86), box(118.56, 24.80, 118.62, 24.86)],
        crs=4326,
    )
    counties.to_file(folder / "counties.gpkg", driver="GPKG")
    lons = [118.52, 118.53, 118.60][: len(site_ids)]
    lats = [24.82, 24.84, 24.83][: len(site_ids)]
    rows = [f"{sid},{lon},{lat},5G" for sid, lon, lat in zip(site_ids, lons, lats, strict=False)]
    (folder / "sites.csv").write_text(
        "site_id,lon,lat,tech\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    (folder / "std.toml").write_text(STANDARD_TOML.replace("{id}", standard_id), "utf-8")
    toml = f"""
[scenario]
name = "tiny"
title = {_toml_str(title)}
year = 2024
synthetic = true
region = "350500"
standards = ["std.toml"]
out_dir = "run"
[boundaries]
counties = "counties.gpkg"
[sites]
path = "sites.csv"
[population]
column = "population"
[grid]
resolution_m = 250
crs = "EPSG:32650"
[radio]
technologies = ["5G"]
[map]
basemap = "none"
offline = true
{extra}
"""
    path = folder / "s.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def _toml_str(s: str) -> str:
    """A TOML basic string for any text (escapes quotes, backslashes and controls)."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
