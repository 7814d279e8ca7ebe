"""Headless Chromium for the map and report tests (Debian's /usr/bin/chromium via Playwright).

Playwright's own browser download is not used: the tests drive the system Chromium that
``make test`` installs (tools/install-sysdeps.sh). ``chromium_page()`` yields a page and collects
console errors and page errors in ``page.errors``.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: run 'make test' (it installs it)")
    return path


@contextmanager
def chromium_page(viewport=(1400, 900), block_network: bool = False):
    """A Playwright page in headless Debian Chromium.

    ``block_network=True`` aborts every request that is not ``file:``, ``data:`` or ``blob:``
    (to prove an offline page needs no network). ``page.errors`` lists console errors, page
    errors and failed requests; ``page.blocked`` lists the URLs that were blocked.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            page = context.new_page()
            page.errors = []  # type: ignore[attr-defined]
            page.blocked = []  # type: ignore[attr-defined]
            page.on(
                "console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}")
            )
            page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
            if block_network:

                def _route(route):
                    url = route.request.url
                    if url.startswith(("file:", "data:", "blob:")):
                        route.continue_()
                    else:
                        page.blocked.append(url)
                        route.abort()

                context.route("**/*", _route)
            yield page
        finally:
            browser.close()


#: What a reader's page must satisfy at any width: the page itself never scrolls sideways (wide
#: tables scroll inside their own box), and every table header carries Chinese text.
LAYOUT_PROBE = """() => {
    const de = document.documentElement;
    const headers = [...document.querySelectorAll('th')].map(t => t.textContent.trim());
    return {
        scrollWidth: Math.max(de.scrollWidth, document.body.scrollWidth),
        innerWidth: window.innerWidth,
        tables: document.querySelectorAll('table').length,
        unwrapped: [...document.querySelectorAll('table')]
            .filter(t => !t.parentElement.classList.contains('table-wrap')).length,
        headersWithoutChinese: headers.filter(h => !/[\\u3400-\\u9fff]/.test(h)),
    };
}"""


def reader_layout(path, widths=(360, 1024, 1920), screenshot: str | None = None) -> dict:
    """:data:`LAYOUT_PROBE` of the page at ``path`` for each viewport width (``{width: probe}``).

    With ``screenshot``, the first view at each width is saved to
    ``test-artifacts/<screenshot>-<width>.png`` for a reviewer.
    """
    from pathlib import Path

    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
    out = {}
    for width in widths:
        with chromium_page(viewport=(width, 900), block_network=True) as page:
            page.goto(Path(path).resolve().as_uri())
            page.wait_for_load_state("load")
            out[width] = page.evaluate(LAYOUT_PROBE)
            out[width]["errors"] = list(page.errors)
            if screenshot:
                artifacts.mkdir(exist_ok=True)
                page.screenshot(path=str(artifacts / f"{screenshot}-{width}.png"))
    return out
