"""Headers as statistical workbooks write them: over two rows, with merged group titles.

A table such as ::

    行政区划代码 | 年份 | 固定宽带用户(万户)               | 移动电话用户(万户)
                 |      | 总数 | 500M及以上 | 千兆及以上 | 总数 | 5G用户
    350582       | 2024 | 50.1 | 20.3       | 10.2       | 120  | 80

has its header in two rows: the upper row holds group titles merged across several columns
(a reader sees the title in the first column of the span and blanks in the others) and cells
merged down over both rows; the lower row holds the sub-headers. :func:`two_row_header` tells
such a pair of rows from a header followed by data, and gives each column its (group, sub)
pair; :mod:`.tables` names the column ``"固定宽带用户(万户)/千兆及以上"`` and matches it to the
known columns by combining the two parts (:func:`two_level_candidates`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence

__all__ = ["two_row_header", "two_level_candidates", "TOTAL_WORDS", "GROUP_SEP"]

#: Between the group title and the sub-header in a combined column name.
GROUP_SEP = "/"

#: A sub-header that means the group itself (``固定宽带用户(万户)/总数`` is 固定宽带用户).
TOTAL_WORDS = frozenset(
    {"总数", "合计", "小计", "总计", "总量", "总", "全部", "total", "sum", "all"}
)

_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?%?$")

#: Data rows looked at below a candidate sub-header row.
_SAMPLE_ROWS = 50


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or v != v  # noqa: PLR0124 - NaN


def _numeric_like(v: object) -> bool:
    """A number, a date, or text that spells a number (``"1,234"``, ``"12.5%"``, ``"350582"``)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float, datetime.date, datetime.datetime, datetime.time)):
        return True
    t = str(v).strip()
    return bool(t) and bool(_NUMBER_RE.match(t)) and any(c.isdigit() for c in t)


def _text(v: object) -> bool:
    """A header-like cell: text that is not a number or a date."""
    return not _blank(v) and isinstance(v, str) and not _numeric_like(v)


def two_row_header(
    upper: Sequence[object],
    lower: Sequence[object],
    below: Sequence[Sequence[object]],
    score: Callable[[list[tuple[str, str]]], int],
) -> list[tuple[str, str]] | None:
    """``(group, sub)`` per column when ``lower`` is a row of sub-headers under ``upper``, else
    None.

    ``lower`` is a sub-header row when every filled cell of it is text, at least two of them
    stand over columns whose data (the rows ``below``) are numbers, and either some of those
    stand under a blank of ``upper`` (a group title merged across columns) or the combined names
    match more known columns than ``upper`` alone (``score`` counts the known columns a list of
    pairs names). ``upper`` must hold at least two filled cells (a title row above a header
    holds one). A group title fills the blanks to its right as far as ``lower`` has sub-headers.
    """
    width = max(len(upper), len(lower))
    up = [upper[j] if j < len(upper) else None for j in range(width)]
    lo = [lower[j] if j < len(lower) else None for j in range(width)]
    filled_up = [j for j in range(width) if not _blank(up[j])]
    filled_lo = [j for j in range(width) if not _blank(lo[j])]
    if len(filled_up) < 2 or len(filled_lo) < 2 or not all(_text(lo[j]) for j in filled_lo):
        return None
    sample = [r for r in below[:_SAMPLE_ROWS] if any(not _blank(c) for c in r)]
    if not sample:
        return None

    def numbers_below(j: int) -> bool:
        vals = [r[j] for r in sample if j < len(r) and not _blank(r[j])]
        return bool(vals) and sum(map(_numeric_like, vals)) >= 0.8 * len(vals)

    over_numbers = [j for j in filled_lo if numbers_below(j)]
    if len(over_numbers) < 2:
        return None
    pairs: list[tuple[str, str]] = []
    group = ""
    for j in range(width):
        u = "" if _blank(up[j]) else str(up[j]).strip()
        sub = "" if _blank(lo[j]) else str(lo[j]).strip()
        if u:
            group = u if sub else ""  # a title merged down over both rows ends any span
            pairs.append((u, sub))
        elif sub:
            pairs.append((group, sub))
        else:
            group = ""  # a blank column ends the span
            pairs.append(("", ""))
    merged = any(_blank(up[j]) and pairs[j][0] for j in over_numbers)
    single = [(str(up[j]).strip() if not _blank(up[j]) else "", "") for j in range(width)]
    if not merged and score(pairs) <= score(single):
        return None
    return pairs


def two_level_candidates(group_key: str, sub_key: str) -> list[str]:
    """Normalised names a (group, sub) column may be known by, most specific first.

    ``("固定宽带用户", "千兆及以上")`` → … ``"千兆及以上用户数"``; ``("移动电话用户", "总数")``
    → ``"移动电话用户"``; ``("覆盖家庭数", "ftth")`` → ``"ftth覆盖家庭数"``;
    ``("端口", "pon端口")`` → ``"pon端口"``. Both parts are already normalised (no unit)."""
    g, s = group_key, sub_key
    out = [g + s, s + g]
    if s in TOTAL_WORDS:
        out.append(g)
    out.append(s)
    # the sub-header with the noun that ends the group title: 千兆及以上 + 用户(数)
    for k in range(len(g) - 1, 1, -1):
        out += [s + g[-k:], s + g[-k:] + "数"]
    out += [g + s + "数", s + g + "数"]
    return [c for c in dict.fromkeys(out) if c]
