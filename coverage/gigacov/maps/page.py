"""The map page around its layers: raw page fragments, inline scripts, the embedded JSON and
the bilingual message shown when the page's scripts fail."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from branca.element import Element

from . import assets

__all__ = ["Raw", "script_tag", "json_for_script", "fallback_html"]


class Raw(Element):
    """A page fragment rendered exactly as given (no Jinja processing of its text)."""

    def __init__(self, content: str) -> None:
        super().__init__()
        self._content = content

    def render(self, **kwargs: Any) -> str:
        return self._content


def script_tag(js: str) -> str:
    """An inline ``<script>`` element; any ``</script`` inside the code becomes ``<\\/script``."""
    return (
        "<script>"
        + re.sub(r"</(script)", lambda m: "<\\/" + m.group(1), js, flags=re.IGNORECASE)
        + "</script>"
    )


def json_for_script(payload: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``<``, ``>``, ``&``)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def fallback_html(scn: Any, embedded: bool) -> str:
    """The bilingual message shown (by the guard script) when the map's scripts fail.

    Hidden while the map works; shown by ``static/gigacov_fallback.js`` when a script or
    stylesheet fails to load or the runtime stops with an error, and by ``<noscript>`` when
    JavaScript is off. It says what failed and how to regenerate the map.
    """
    name = Path(scn.path).name if getattr(scn, "path", None) else "SCENARIO.toml"
    command = html.escape(f"gigacov map {name}")
    if embedded:
        why_zh = "本地图已内嵌全部脚本（无需互联网），但脚本运行出错。"
        why_en = "Every script is embedded in this file (no internet needed), but one stopped with an error."
        fix_zh = f"请重新生成地图：<code>{command} --recompute</code>"
        fix_en = f"Regenerate the map: <code>{command} --recompute</code>"
    else:
        host = html.escape(assets.LEAFLET_JS_URL.split("/")[2])
        why_zh = f"本地图以 <code>--cdn</code> 方式生成，需通过互联网从 {host} 加载 Leaflet 地图库；此处无法访问（内网或无网络）。"
        why_en = (
            f"This map was made with <code>--cdn</code>: it loads the Leaflet map library from {host} "
            "over the internet, which cannot be reached here (intranet or no network)."
        )
        fix_zh = f"请重新生成自包含地图（不加 <code>--cdn</code>）：<code>{command}</code>"
        fix_en = (
            f"Regenerate a self-contained map (without <code>--cdn</code>): <code>{command}</code>"
        )
    body = (
        '<div class="gc-fallback-title">地图无法显示 · The map could not be shown</div>'
        f'<p lang="zh-CN">{why_zh}<br>{fix_zh}</p>'
        f'<p lang="en">{why_en}<br>{fix_en}</p>'
    )
    return (
        f'<div id="gc-fallback" class="gc-fallback" role="alert" style="display:none">{body}'
        '<div class="gc-fallback-what">未能加载或运行 · What failed:'
        '<ul id="gc-fallback-what"></ul></div></div>'
        f'<noscript><div class="gc-fallback" role="alert">{body}'
        "<p>浏览器已禁用 JavaScript · JavaScript is turned off in this browser.</p></div></noscript>"
    )
