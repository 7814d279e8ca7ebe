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
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .._jit import jit

__all__ = ["log10_ge1", "db_to_linear", "atan2_fast", "log10f_ge1", "exp10f_db", "atan2f"]

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


# ------------------------------------------------------------------------------------------------
# float32 versions (the no-terrain pixel loop: 8 lanes per AVX2 register instead of 4)
# ------------------------------------------------------------------------------------------------
#
# Exponent and mantissa are taken from the bits (a bit cast, free in a vector register) instead of
# the select chains above. Constants are float32 globals so that numba types every operation as
# float32 (a Python float literal would promote the arithmetic to float64). Error bounds (proved
# by the exhaustive and dense tests in tests/test_radio_kernels.py, float32 rounding included):
#
# * :func:`log10f_ge1` — x in [1, 2¹²⁷]: log2 x = e + log2 m with m in [√½, √2) from the bits,
#   ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, series to s⁷ (truncation < 3.1e-8):
#   absolute error < 2.5e-6 (2 ulp of results up to 12; in a path loss of 40·log10 d: < 1e-4 dB).
# * :func:`exp10f_db` — 10^(x/10) for x in [−370, 370]: 2^k·2^r, |r| ≤ ½, 2^r by a near-minimax
#   polynomial of degree 6 (truncation < 2e-9), 2^k from the bits: relative error < 1e-6 for
#   |x| ≤ 200 (the rounding of y = x·log2(10)/10 dominates: < 0.04 ppm per dB of |x|).
# * :func:`atan2f` — octant reduction to a = min/max in [0, 1] (one division), then a near-minimax
#   odd polynomial of degree 15 for atan a (truncation < 4e-8 rad): absolute error < 3e-7 rad.

_F = np.float32
_F0 = _F(0.0)
_F1 = _F(1.0)
_FHALF = _F(0.5)
_FSQRT2 = _F(1.4142135623730951)
_FLN2 = _F(math.log(2.0))
_FINV_LN10 = _F(1.0 / math.log(10.0))
_FTWO = _F(2.0)
_FL1, _FL3, _FL5, _FL7 = _F(1.0), _F(1.0 / 3.0), _F(1.0 / 5.0), _F(1.0 / 7.0)
_FLOG2_10_OVER_10 = _F(math.log2(10.0) / 10.0)
# 2^r on [−½, ½], near-minimax (relative truncation error 1.9e-9).
_FE0, _FE1, _FE2, _FE3, _FE4, _FE5, _FE6 = (
    _F(1.0),
    _F(0.6931471824645996),
    _F(0.24022646248340607),
    _F(0.05550328642129898),
    _F(0.009618489071726799),
    _F(0.0013399930903688073),
    _F(0.0001534580806037411),
)
# atan a = a·P(a²) on [0, 1], near-minimax (absolute truncation error 3.7e-8 rad).
_FA0, _FA1, _FA2, _FA3, _FA4, _FA5, _FA6, _FA7 = (
    _F(0.9999993443489075),
    _F(-0.33329859375953674),
    _F(0.19946566224098206),
    _F(-0.1390863060951233),
    _F(0.0964219868183136),
    _F(-0.055912330746650696),
    _F(0.021862955763936043),
    _F(-0.004054564982652664),
)
_FPI = _F(math.pi)
_FHALF_PI = _F(0.5 * math.pi)
_FTINY = _F(1e-30)


@intrinsic
def f32_bits(typingctx, x):
    """The bits of a float32 as an int32 (a bit cast; vectorises)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def f32_from_bits(typingctx, i):
    """The float32 whose bits are the int32 ``i`` (a bit cast; vectorises)."""
    if i != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@jit
def log10f_ge1(x):
    """log10(x) in float32 for float32 1 ≤ x ≤ 2¹²⁷ (branch-free)."""
    b = f32_bits(x)
    e = np.int32((b >> 23) - 127)
    m = f32_from_bits(np.int32((b & 0x007FFFFF) | 0x3F800000))  # in [1, 2)
    big = m > _FSQRT2
    m = m * (_FHALF if big else _F1)  # in [√½, √2)
    ef = np.float32(e) + (_F1 if big else _F0)
    s = np.divide(m - _F1, m + _F1)
    z = s * s
    p = _FL7
    p = p * z + _FL5
    p = p * z + _FL3
    p = p * z + _FL1
    return (ef * _FLN2 + _FTWO * s * p) * _FINV_LN10


@jit
def exp10f_db(x):
    """10^(x/10) in float32 for float32 −370 ≤ x ≤ 370 (branch-free)."""
    y = x * _FLOG2_10_OVER_10
    k = np.floor(y + _FHALF)
    r = y - k
    p = _FE6
    p = p * r + _FE5
    p = p * r + _FE4
    p = p * r + _FE3
    p = p * r + _FE2
    p = p * r + _FE1
    p = p * r + _FE0
    return p * f32_from_bits(np.int32((np.int32(k) + 127) << 23))


@jit
def atan2f(y, x):
    """atan2(y, x) in float32 radians for float32 y, x (branch-free); 0 for (0, 0)."""
    ax = abs(x)
    ay = abs(y)
    big = ax if ax > ay else ay
    small = ay if ax > ay else ax
    a = np.divide(small, big if big > _FTINY else _F1)  # in [0, 1]
    z = a * a
    p = _FA7
    p = p * z + _FA6
    p = p * z + _FA5
    p = p * z + _FA4
    p = p * z + _FA3
    p = p * z + _FA2
    p = p * z + _FA1
    p = p * z + _FA0
    r = a * p
    r = (_FHALF_PI - r) if ay > ax else r
    r = (_FPI - r) if x < _F0 else r
    return -r if y < _F0 else r
