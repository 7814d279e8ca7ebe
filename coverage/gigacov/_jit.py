"""The one numba decorator definition used by every kernel.

``jit`` compiles in nopython mode, caches to disk (``cache=True``) and releases the GIL
(``nogil=True``) so kernels can run on a thread pool. ``pjit`` adds ``parallel=True`` and is used
only where a ``prange`` loop really runs.
"""

from __future__ import annotations

import functools

import numba

__all__ = ["jit", "pjit", "prange"]

jit = functools.partial(numba.njit, cache=True, nogil=True, fastmath=False)
pjit = functools.partial(numba.njit, cache=True, nogil=True, parallel=True, fastmath=False)
prange = numba.prange
