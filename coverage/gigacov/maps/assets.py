"""JavaScript and CSS a map needs: Leaflet (embedded from an installed package by default, or
linked from a CDN with ``--cdn``) and gigacov's own map runtime and guard (always embedded).

The map needs nothing but Leaflet 1.9.4 and the files of our own next to this module
(``static/gigacov_map.js``, ``gigacov_map.css``, ``gigacov_fallback.js``): no jQuery, Bootstrap, Font Awesome or
clustering plugin. For self-contained maps (the default) Leaflet is read from the ``django-js-lib-leaflet``
distribution on PyPI (Leaflet's own static files, no Django needed), and the images its CSS
refers to are inlined as ``data:`` URLs.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import re
from pathlib import Path

from ..errors import ConfigError

__all__ = [
    "LEAFLET_VERSION",
    "LEAFLET_JS_URL",
    "LEAFLET_CSS_URL",
    "leaflet_static_dir",
    "offline_leaflet",
    "own_js",
    "own_css",
    "fallback_js",
]

LEAFLET_VERSION = "1.9.4"
LEAFLET_JS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CSS_URL = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_DIST = "django-js-lib-leaflet"
_STATIC = Path(__file__).resolve().parent / "static"


def leaflet_static_dir() -> Path:
    """Folder with ``leaflet.js``, ``leaflet.css`` and ``images/`` of the installed package.

    Raises
    ------
    ConfigError
        When ``django-js-lib-leaflet`` is not installed (offline maps need it).
    """
    spec = importlib.util.find_spec(_LEAFLET_PACKAGE)  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"a self-contained map (the default) embeds Leaflet's files from the Python package "
            f"{_LEAFLET_DIST!r}, which is not installed; install it with "
            f"'pip install {_LEAFLET_DIST}=={LEAFLET_VERSION}.1', or make a map that loads Leaflet "
            "from the internet with --cdn ([map] cdn = true)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / _LEAFLET_PACKAGE
    if not (folder / "leaflet.js").is_file():
        raise ConfigError(
            f"{_LEAFLET_DIST} is installed but {folder / 'leaflet.js'} is missing; reinstall it"
        )
    return folder


@functools.lru_cache(maxsize=1)
def offline_leaflet() -> tuple[str, str]:
    """``(leaflet.js, leaflet.css)`` texts of the installed package; CSS images inlined."""
    folder = leaflet_static_dir()
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def _inline(match: re.Match[str]) -> str:
        rel = match.group(1).strip("'\"")
        path = folder / rel
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\(([^)#]+\.png)\)", _inline, css)
    return js, css


@functools.lru_cache(maxsize=1)
def own_js() -> str:
    """gigacov's map runtime (``static/gigacov_map.js``)."""
    return (_STATIC / "gigacov_map.js").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def fallback_js() -> str:
    """The guard that replaces a blank page by a message (``static/gigacov_fallback.js``)."""
    return (_STATIC / "gigacov_fallback.js").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def own_css() -> str:
    """gigacov's map styles (``static/gigacov_map.css``)."""
    return (_STATIC / "gigacov_map.css").read_text(encoding="utf-8")
