"""A ``[section]`` table of the scenario file → its dataclass: values checked against the field
types (``Literal`` choices, lists, tables, numbers), paths resolved against the scenario's
folder, an unknown key named with the closest valid one."""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .errors import ConfigError
from .scenario_sections import is_path_hint

__all__ = ["unknown_message", "coerce", "resolve_path", "build_section"]


def unknown_message(kind: str, key: str, valid: list[str], where: str) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown {kind} {key!r}{hint} (valid: {', '.join(valid)})"


def coerce(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is typing.Annotated:
        return coerce(value, get_args(hint)[0], where)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            text = str(value)
            close = difflib.get_close_matches(text, [str(c) for c in choices], n=1, cutoff=0.4)
            hint_txt = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}{hint_txt}"
            )
        return value
    if dataclasses.is_dataclass(hint):  # a table inside a section ([[key_places.files]])
        item = build_section(hint, value, where.replace("] ", ".").lstrip("["), None)
        if "path" in {f.name for f in dataclasses.fields(item)} and not item.path:
            raise ConfigError(f'{where}: no path; give the file, e.g. path = "pois.csv"')
        return item
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_t,) = get_args(hint)
        return [coerce(v, item_t, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(
                f'{where}: expected a table such as {{ lon = "X坐标" }}, got {value!r}'
            )
        _, val_t = get_args(hint)
        return {str(k): coerce(v, val_t, f"{where}.{k}") for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if isinstance(value, list):  # str | list[str]: the list form when one is given
            args = [a for a in args if get_origin(a) in (list, typing.List)] or args  # noqa: UP006
        return coerce(value, args[0], where)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # e.g. region = 350500 written without quotes
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def resolve_path(value: str, base: Path | None) -> str:
    """A path of the scenario file: relative ones against the scenario's folder, ``..`` and
    ``.`` taken out (``runs/../data/sites.csv`` → ``data/sites.csv``), so that every message,
    the manifest and the rejected rows name each file one way."""
    p = Path(value).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    if ".." in p.parts or "." in p.parts:
        # through the file system when it can be (a symlinked folder's ".." is its target's)
        p = p.resolve() if p.is_absolute() else Path(os.path.normpath(p))
    return str(p)


def build_section(cls: type, raw: Any, section: str, base: Path | None) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{section}] must be a table, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls, include_extras=True)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(unknown_message("key", key, list(fields), f"[{section}]"))
        where = f"[{section}] {key}"
        value = coerce(value, hints[key], where)
        if is_path_hint(hints[key]) and value:
            value = (
                [resolve_path(v, base) for v in value]
                if isinstance(value, list)
                else resolve_path(value, base)
            )
        elif get_origin(hints[key]) is list and is_path_hint(get_args(hints[key])[0]):
            value = [resolve_path(v, base) for v in value if v]
        elif get_origin(hints[key]) is list and dataclasses.is_dataclass(get_args(hints[key])[0]):
            # tables of a list ([[key_places.files]]): their paths resolve like the section's
            item_hints = typing.get_type_hints(get_args(hints[key])[0], include_extras=True)
            value = [
                dataclasses.replace(
                    item,
                    **{
                        k: resolve_path(getattr(item, k), base)
                        for k, h in item_hints.items()
                        if is_path_hint(h) and getattr(item, k)
                    },
                )
                for item in value
            ]
        kwargs[key] = value
    return cls(**kwargs)
