"""Sector antenna pattern of 3GPP TR 38.901 Table 7.3-1 (relative to boresight, dB ≤ 0).

::

    A_H(φ) = −min(12·(φ/φ3dB)², A_m)                       horizontal cut
    A_V(θ) = −min(12·((θ − θ_tilt)/θ3dB)², SLA_V)            vertical cut
    A(φ, θ) = −min(−(A_H(φ) + A_V(θ)), A_m)                   combined

with ``A_m = 30 dB`` (front-to-back ratio), ``SLA_V = 30 dB`` (side-lobe level). Conventions used
here:

* ``φ`` is the angle between the boresight azimuth and the direction to the UE, wrapped to
  [−180°, 180°]; azimuths are clockwise from north (converted to grid north by the engine).
* ``θ`` is the depression angle from the antenna to the UE, degrees below the horizontal
  (``atan2(z_antenna − z_ue, d2d)``), and ``θ_tilt`` the total downtilt (+ = down). This is the
  table's zenith-angle form ``θ'' − 90°`` rewritten with angles measured from the horizontal.
* ``θ3dB`` (vertical half-power beamwidth) defaults to **10°** (``RadioParams.vertical_beamwidth_deg``;
  38.901 uses 65° for its single element, 10° is typical of a deployed macro panel with an
  electrically steered column).
* ``φ3dB`` is the cell's ``beamwidth_deg`` (default 65°, ``RadioParams.default_beamwidth_deg``).
* **Omni** cells (azimuth NaN) have no horizontal pattern (A_H = 0) and keep the vertical pattern.
  A cell without a tilt (tilt NaN) has no vertical pattern (A_V = 0): its elevation pattern is
  unknown, so no loss is invented.

The EIRP of a cell is its peak (boresight) EIRP, so the gain here is relative: 0 dB at boresight.
"""

from __future__ import annotations

import math

from .._jit import jit

__all__ = ["A_M_DB", "SLA_V_DB", "antenna_gain_db", "wrap_deg"]

A_M_DB = 30.0
SLA_V_DB = 30.0


@jit
def wrap_deg(angle_deg: float) -> float:
    """Angle wrapped to [−180°, 180°)."""
    return (angle_deg + 180.0) % 360.0 - 180.0


@jit
def antenna_gain_db(
    phi_deg: float,
    theta_deg: float,
    beamwidth_h_deg: float,
    tilt_deg: float,
    beamwidth_v_deg: float,
    omni: bool,
) -> float:
    """Relative gain A(φ, θ) in dB (≤ 0) of the 38.901 sector pattern.

    Parameters
    ----------
    phi_deg
        Horizontal angle off boresight, degrees (any value; wrapped here).
    theta_deg
        Depression angle to the UE, degrees below horizontal.
    beamwidth_h_deg
        Horizontal half-power beamwidth φ3dB, degrees.
    tilt_deg
        Downtilt, degrees (+ = down); NaN = no vertical pattern.
    beamwidth_v_deg
        Vertical half-power beamwidth θ3dB, degrees.
    omni
        True for an omnidirectional antenna (no horizontal pattern).
    """
    a_h = 0.0
    if not omni:
        p = wrap_deg(phi_deg) / beamwidth_h_deg
        a_h = -min(12.0 * p * p, A_M_DB)
    a_v = 0.0
    if not math.isnan(tilt_deg):
        t = (theta_deg - tilt_deg) / beamwidth_v_deg
        a_v = -min(12.0 * t * t, SLA_V_DB)
    return -min(-(a_h + a_v), A_M_DB)
