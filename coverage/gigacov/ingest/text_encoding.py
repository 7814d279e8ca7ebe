"""The text encoding of a delimited file: declared, BOM, UTF-8, GB18030, or mixed line by line.

A BOM wins, then a strict UTF-8 decode, then GB18030 (a superset of GBK and GB2312), and only
then ``charset-normalizer``. A file whose lines mix UTF-8 and GBK is decoded line by line, with a
warning (:func:`decode_mixed`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError, InputError
from ._common import log

__all__ = ["detect_encoding", "decode_mixed"]


def detect_encoding(raw: bytes, path: Path | str, declared: str = "") -> str:
    """The text encoding of ``raw``: declared, else BOM → strict UTF-8 → GB18030 → charset-normalizer.

    Raises :class:`InputError` naming the file when nothing decodes it.
    """
    if declared:
        try:
            raw.decode(declared)
        except LookupError:
            raise ConfigError(
                f"{path}: unknown encoding {declared!r} (e.g. 'utf-8', 'gbk', 'gb18030')"
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not valid {declared} text ({exc.reason} at byte {exc.start}); "
                "remove the encoding setting to let gigacov detect it"
            ) from None
        return declared
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[: 1 << 20]).best()
    if best is not None:
        try:
            raw.decode(best.encoding)
            return best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise InputError(
        f"{path}: cannot tell the text encoding (not UTF-8: {utf8_error.reason} at byte "
        f'{utf8_error.start}; not GB18030 either); save it as UTF-8 or set encoding = "..." in '
        "its scenario section"
    )


_CJK_UTF8 = re.compile(rb"[\xe4-\xe9][\x80-\xbf]{2}")


def decode_mixed(raw: bytes, p: Path, what: str) -> str | None:
    """Text of a file whose lines mix UTF-8 and GBK/GB18030, each line decoded on its own.

    Called when the file as a whole is not UTF-8 but decodes as GB18030. A line counts as UTF-8
    when it is valid UTF-8 and holds at least one Chinese character in UTF-8's three-byte form
    (GBK text almost never passes both tests). Returns None when the file is not mixed. The
    lines decoded as UTF-8 are logged, so a user can check them.
    """
    lines = raw.split(b"\n")
    utf8_rows: list[int] = []
    gbk_rows = 0
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            gbk_rows += 1
            continue
        if _CJK_UTF8.search(line):
            utf8_rows.append(i)
    if not utf8_rows or not gbk_rows:
        return None
    utf8 = set(utf8_rows)
    out = []
    for i, line in enumerate(lines):
        if i in utf8:
            out.append(line.decode("utf-8"))
            continue
        try:
            out.append(line.decode("gb18030"))
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{p}: line {i + 1} of the {what} file is neither UTF-8 nor GBK/GB18030 text "
                f"({exc.reason} at byte {exc.start}); fix or remove that line"
            ) from None
    shown = ", ".join(str(r + 1) for r in utf8_rows[:10]) + (" …" if len(utf8_rows) > 10 else "")
    log.warning(
        "%s: the %s file mixes text encodings: %d line(s) are UTF-8 (lines %s), %d are "
        "GBK/GB18030; each line was decoded in its own encoding — save the file in one "
        "encoding (UTF-8) to be sure",
        p,
        what,
        len(utf8_rows),
        shown,
        gbk_rows,
    )
    return "\n".join(out)
