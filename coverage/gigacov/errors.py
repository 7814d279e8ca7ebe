"""Exception types of gigacov.

Every error a user can cause derives from :class:`GigacovError` and also from the matching
builtin, so callers can catch either. The CLI turns a ``GigacovError`` into a one-paragraph
message and exit code 1 — never a traceback.
"""

from __future__ import annotations

__all__ = [
    "GigacovError",
    "InputError",
    "ConfigError",
    "CRSError",
    "StandardError",
    "ResourceError",
    "RunError",
]


class GigacovError(Exception):
    """Root of all gigacov errors."""


class InputError(GigacovError, ValueError):
    """An input file is unreadable or its content cannot be used.

    The message names the file and, where it applies, the row and column.
    """


class ConfigError(GigacovError, ValueError):
    """The scenario file or a command-line option is wrong (names the key)."""


class CRSError(GigacovError, ValueError):
    """A coordinate reference system is unknown or unsuitable for the operation."""


class StandardError(GigacovError, ValueError):  # noqa: A001 - domain name, not the builtin
    """A standard definition file (``standards/*.toml``) is malformed or unknown."""


class ResourceError(GigacovError, MemoryError):
    """An operation would need more memory (or disk) than allowed; says how much."""


class RunError(GigacovError, RuntimeError):
    """A run directory is missing, incomplete, or incompatible with the requested operation."""
