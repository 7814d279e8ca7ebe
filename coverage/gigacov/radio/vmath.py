"""Branch-free log10, 10^(x/10) and atan2 that LLVM can vectorise inside numba loops.

libm's ``log10``/``atan2``/``exp`` are opaque calls: a loop that calls them runs one element at
a time. These versions use only arithmetic, ``sqrt``, ``floor``, comparisons-as-selects and
``np.divide`` (which, unlike ``/`` in numba's Python error model, has no zero-division branch),
so the radio kernel's inner loops compile to SIMD code (LLVM inlines them; a call would block
vectorisation). Their series are truncated for the kernel's needs — errors far below the 1e-3 dB
to which results are specified (tests compare them with :mod:`math`):

* :func:`log10_ge1` — x in [1, 2⁶⁴) (distances are clamped to ≥ 1 m before their logarithm):
  exact range reduction by powers of two (selects) to m in [√½, √2), then
  ``ln x = k·ln 2 + 2·atanh(s)``, ``s = (m − 1)/(m + 1)``, |s| ≤ 0.1716, atanh series to s¹³:
  absolute error < 3e-13 (< 1e-11 dB in a path loss).
* :func:`db_to_linear` — 10^(x/10) for x in [−300, 300]: 2^k·e^r with |r| ≤ ln2/2, e^r by its
  Taylor series to r¹¹ (relative error < 3e-13), 2^k built from the bits of k by selects.
* :func:`atan2_fast` — octant reduction to a = min/max in [0, 1], then
  ``atan a = π/4 + atan((a − 1)/(a + 1))`` above tan(π/8), so |t| ≤ 0.414, and the arctangent
  series to t²⁷: absolute error < 5e-13 rad. Two divisions, no square root (division and square
  root dominate the vector loop). ``atan2_fast(0, 0) = 0`` like :func:`math.atan2`.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit

__all__ = ["log10_ge1", "db_to_linear", "atan2_fast"]

_LN2 = math.log(2.0)
_INV_LN10 = 1.0 / math.log(10.0)
_LOG2_10_OVER_10 = math.log2(10.0) / 10.0


@jit
def log10_ge1(x: float) -> float:
    """log10(x) for 1 ≤ x < 2⁶⁴ (branch-free)."""
    k = 0.0
    # Exact scaling by powers of two down to x in [1, 2) ...
    t = x >= 4294967296.0
    x = x * (2.3283064365386963e-10 if t else 1.0)
    k += 32.0 if t else 0.0
    t = x >= 65536.0
    x = x * (1.52587890625e-05 if t else 1.0)
    k += 16.0 if t else 0.0
    t = x >= 256.0
    x = x * (0.00390625 if t else 1.0)
    k += 8.0 if t else 0.0
    t = x >= 16.0
    x = x * (0.0625 if t else 1.0)
    k += 4.0 if t else 0.0
    t = x >= 4.0
    x = x * (0.25 if t else 1.0)
    k += 2.0 if t else 0.0
    t = x >= 2.0
    x = x * (0.5 if t else 1.0)
    k += 1.0 if t else 0.0
    # ... then into [√½, √2).
    t = x >= 1.4142135623730951
    x = x * (0.5 if t else 1.0)
    k += 1.0 if t else 0.0
    s = np.divide(x - 1.0, x + 1.0)
    z = s * s
    p = 1.0 / 13.0
    p = p * z + 1.0 / 11.0
    p = p * z + 1.0 / 9.0
    p = p * z + 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z + 1.0 / 3.0
    p = p * z + 1.0
    return (k * _LN2 + 2.0 * s * p) * _INV_LN10


@jit
def db_to_linear(x_db: float) -> float:
    """10^(x/10) for −300 ≤ x ≤ 300 (branch-free)."""
    y = x_db * _LOG2_10_OVER_10
    k = np.floor(y + 0.5)
    r = (y - k) * _LN2
    # e^r, |r| ≤ 0.3466: Taylor to r^11 (Horner; the next term is < 1e-14 relative).
    e = 1.0 / 39916800.0
    e = e * r + 1.0 / 3628800.0
    e = e * r + 1.0 / 362880.0
    e = e * r + 1.0 / 40320.0
    e = e * r + 1.0 / 5040.0
    e = e * r + 1.0 / 720.0
    e = e * r + 1.0 / 120.0
    e = e * r + 1.0 / 24.0
    e = e * r + 1.0 / 6.0
    e = e * r + 0.5
    e = e * r + 1.0
    e = e * r + 1.0
    # 2^k for k in [−128, 127]: m = k + 128 in [0, 255], one select per bit.
    m = k + 128.0
    p = 1.0
    t = m >= 128.0
    m -= 128.0 if t else 0.0
    p *= 3.402823669209385e38 if t else 1.0  # 2^128
    t = m >= 64.0
    m -= 64.0 if t else 0.0
    p *= 1.8446744073709552e19 if t else 1.0  # 2^64
    t = m >= 32.0
    m -= 32.0 if t else 0.0
    p *= 4294967296.0 if t else 1.0
    t = m >= 16.0
    m -= 16.0 if t else 0.0
    p *= 65536.0 if t else 1.0
    t = m >= 8.0
    m -= 8.0 if t else 0.0
    p *= 256.0 if t else 1.0
    t = m >= 4.0
    m -= 4.0 if t else 0.0
    p *= 16.0 if t else 1.0
    t = m >= 2.0
    m -= 2.0 if t else 0.0
    p *= 4.0 if t else 1.0
    t = m >= 1.0
    p *= 2.0 if t else 1.0
    return e * p * 2.938735877055719e-39  # × 2^-128


@jit
def atan2_fast(y: float, x: float) -> float:
    """atan2(y, x) in radians (branch-free); 0 for (0, 0)."""
    ax = abs(x)
    ay = abs(y)
    big = ax if ax > ay else ay
    small = ay if ax > ay else ax
    a = np.divide(small, big if big > 1e-300 else 1e-300)  # in [0, 1]
    # atan a = π/4 + atan((a − 1)/(a + 1)) for a > tan(π/8): the argument is then ≤ tan(π/8).
    hi = a > 0.41421356237309503
    t = np.divide(a - 1.0, a + 1.0) if hi else a
    z = t * t
    p = -1.0 / 27.0
    p = p * z + 1.0 / 25.0
    p = p * z - 1.0 / 23.0
    p = p * z + 1.0 / 21.0
    p = p * z - 1.0 / 19.0
    p = p * z + 1.0 / 17.0
    p = p * z - 1.0 / 15.0
    p = p * z + 1.0 / 13.0
    p = p * z - 1.0 / 11.0
    p = p * z + 1.0 / 9.0
    p = p * z - 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z - 1.0 / 3.0
    p = p * z + 1.0
    r = t * p + (0.7853981633974483 if hi else 0.0)
    r = (0.5 * math.pi - r) if ay > ax else r
    r = (math.pi - r) if x < 0.0 else r
    return -r if y < 0.0 else r
