"""Reading generated HTML pages and their embedded images in tests."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
from PIL import Image


class Page(HTMLParser):
    """Section ids, images, links, resource attributes and text of a page (with per-row text)."""

    def __init__(self, text: str):
        super().__init__()
        self.sections: list[str] = []
        self.ids: set[str] = set()
        self.images: list[dict[str, str]] = []
        self.links: dict[str, str] = {}
        self.resources: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.title = ""
        self.rows: list[dict[str, str]] = []
        self._row: dict[str, str] | None = None
        self._in_title = False
        self.text_parts: list[str] = []
        self.feed(text)
        self.text = " ".join(self.text_parts)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "section":
            self.sections.append(a.get("id", ""))
        if tag == "img":
            self.images.append(a)
        if tag == "a" and "id" in a:
            self.links[a["id"]] = a.get("href", "")
        for key in ("src", "href", "srcset", "data"):
            if key in a:
                self.resources.append((tag, key, a[key]))
        if tag == "title":
            self._in_title = True
        if tag == "tr":
            self._row = {**a, "text": ""}
            self.rows.append(self._row)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._row is not None:
            self._row["text"] += data
        self.text_parts.append(data)


def png_from_uri(uri: str) -> np.ndarray:
    """The RGB pixels of a ``data:image/png;base64,`` URI (asserts that it is a real PNG)."""
    assert uri.startswith("data:image/png;base64,")
    raw = base64.b64decode(uri.split(",", 1)[1], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def not_blank(img: np.ndarray) -> bool:
    """True when an image has more than a few colours and real contrast."""
    flat = img.reshape(-1, 3)
    return len(np.unique(flat, axis=0)) > 20 and float(flat.std()) > 10
