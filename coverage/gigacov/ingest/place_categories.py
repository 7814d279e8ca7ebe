"""Key-place categories: which of :data:`~gigacov.ingest.model.KEY_PLACE_CATEGORIES` a place
is, from the English or Chinese words of its category cell (医院 → hospital, 高校 / 大学 /
高等院校 → university, 景区 → tourism, 火车站 / 高铁站 → railway, 机场 → airport, 道路 / 高速 →
road, 政府 → government) or from an Amap category path (``科教文化服务;学校;高等院校``, also
written as three columns 大类 / 中类 / 小类), read from its most specific part. Anything else is
``""`` (the reader counts it as ``other``).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from ._common import as_text
from .model import KEY_PLACE_CATEGORIES

__all__ = ["normalise_category", "category_text"]

# Order matters: more specific words first (高铁站 before 站, 道路 words after stations).
_CATEGORY_WORDS: list[tuple[tuple[str, ...], str]] = [
    (("hospital", "医院", "三甲", "卫生院", "medical", "clinic"), "hospital"),
    (
        (
            "university",
            "college",
            "高校",
            "大学",
            "学院",
            "campus",
            "高等院校",
            "高等学校",
            "大专院校",
            "高职",
            "高等专科",
            "专科学校",
            "职业技术学院",
        ),
        "university",
    ),
    (("airport", "机场", "航站楼"), "airport"),
    (
        (
            "railway",
            "rail",
            "train",
            "station",
            "火车站",
            "高铁站",
            "动车站",
            "铁路",
            "高铁",
            "客运站",
        ),
        "railway",
    ),
    (
        ("tourism", "tourist", "scenic", "attraction", "景区", "旅游", "风景", "名胜", "文旅"),
        "tourism",
    ),
    (
        (
            "road",
            "highway",
            "motorway",
            "expressway",
            "street",
            "道路",
            "高速",
            "公路",
            "国道",
            "省道",
            "大道",
            "车联网",
        ),
        "road",
    ),
    (("government", "政府", "机关", "行政中心"), "government"),
]

_PATH_SPLIT = re.compile(r"[;；|>]")


def normalise_category(value) -> str:
    """``"三甲医院"`` → ``"hospital"``, ``"科教文化服务;学校;高等院校"`` → ``"university"``;
    unknown → ``""``. A category path is read from its most specific (last) part first."""
    t = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if not t:
        return ""
    if t in KEY_PLACE_CATEGORIES:
        return t
    parts = [p.strip() for p in _PATH_SPLIT.split(t) if p.strip()]
    for part in reversed(parts or [t]):
        for words, cat in _CATEGORY_WORDS:
            if any(w in part for w in words):
                return cat
    return ""


#: Amap POI exports split the category path into three columns, broadest first.
_AMAP_CATEGORY_COLUMNS = ("大类", "中类", "小类")


def category_text(df: pd.DataFrame, cmap) -> tuple[pd.Series, str]:
    """The category text per row and the column(s) it came from ("" when none).

    A mapped or aliased category column wins; otherwise Amap's ``大类`` / ``中类`` / ``小类``
    columns are joined into one path (``科教文化服务;学校;高等院校``), which
    :func:`normalise_category` reads from its most specific part."""
    if "category" in cmap:
        h = cmap.header("category")
        return as_text(df[h]).reset_index(drop=True), repr(h)
    by_name = {unicodedata.normalize("NFKC", str(c)).strip(): c for c in df.columns}
    amap = [by_name[k] for k in _AMAP_CATEGORY_COLUMNS if k in by_name]
    if not amap:
        return pd.Series([""] * len(df), dtype=object), ""
    parts = [as_text(df[c]).reset_index(drop=True) for c in amap]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined.str.cat(p, sep=";")
    joined = joined.str.strip(";").str.replace(r";{2,}", ";", regex=True)
    return joined, " / ".join(map(repr, amap))
