"""Re-take the README's screenshots (docs/img/) from the outputs of `make demo`.

Usage: .venv/bin/python tools/readme_screenshots.py [--out out/demo]

Opens the demo map and the demo report in headless Debian Chromium (the one `make test`
installs) and writes docs/img/demo-map.png and docs/img/demo-report.png. The network is
blocked: Leaflet is served from the installed package and basemap tiles are left blank, so
the screenshot shows the map's own layers on a plain background.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium_page  # noqa: E402
from test_maps_browser import _serve_locally  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out", type=Path, default=ROOT / "out" / "demo", help="the demo's output folder"
    )
    args = ap.parse_args()
    name = "quanzhou-2024-synthetic"
    map_html = ROOT / "maps" / f"{name}.html"
    report_html = args.out / "runs" / name / "report.html"
    for path in (map_html, report_html):
        if not path.is_file():
            print(f"{path} is missing: run 'make demo' first", file=sys.stderr)
            return 1
    img = ROOT / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    with chromium_page(viewport=(1400, 900), block_network=True) as page:
        _serve_locally(page)  # Leaflet from the installed package; tiles blank (no internet here)
        page.goto(map_html.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function(
            "() => window.L && window.gigacov && window.gigacov.ready === true", timeout=120_000
        )
        page.wait_for_timeout(1500)  # let the overlays and clusters settle
        page.screenshot(path=str(img / "demo-map.png"))
        if page.errors:
            print("map: " + "; ".join(page.errors), file=sys.stderr)
    with chromium_page(viewport=(1200, 1600)) as page:
        page.goto(report_html.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(img / "demo-report.png"))
    print(f"wrote {img / 'demo-map.png'} and {img / 'demo-report.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
