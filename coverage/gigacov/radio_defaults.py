"""Default radio values, in one place.

* The ``[radio]`` settings a scenario leaves out: the link budget and the propagation model
  (:class:`gigacov.scenario.RadioSection`, and :class:`gigacov.radio.result.RadioParams` built
  from it).
* A cell's parameters that a site list does not give (:mod:`gigacov.ingest.site_radio`), per
  technology; the radio engine's sub-carrier spacing when a cell table has none.
* A new site's carrier, height and EIRP when neither the scenario's ``[planning]`` section nor
  the existing network gives one (:mod:`gigacov.planning.defaults`): the 5G cell defaults.

Every other module takes these values from here. This module imports nothing.
"""

from __future__ import annotations

__all__ = [
    "MODEL",
    "DIFFRACTION",
    "TERRAIN_METHOD",
    "UE_HEIGHT_M",
    "RSRP_THRESHOLD_DBM",
    "SINR_THRESHOLD_DB",
    "LOAD",
    "MAX_RADIUS_M",
    "NOISE_FIGURE_DB",
    "URBAN_DENSITY_PER_KM2",
    "SUBURBAN_DENSITY_PER_KM2",
    "VERTICAL_BEAMWIDTH_DEG",
    "BEAMWIDTH_DEG",
    "CUTOFF_MARGIN_DB",
    "BUILDING_HEIGHT_M",
    "STREET_WIDTH_M",
    "CELL",
    "TILT_DEG",
]

# -- [radio]: link budget and model ----------------------------------------------------------
#: Propagation model (``auto``: by clutter class), diffraction over a DEM and the terrain method.
MODEL = "auto"
DIFFRACTION = "knife-edge"
TERRAIN_METHOD = "horizon"
#: Height of the user equipment above ground, metres.
UE_HEIGHT_M = 1.5
#: "Covered" thresholds per technology: 5G SS-RSRP / 4G RSRP (dBm) ...
RSRP_THRESHOLD_DBM: dict[str, float] = {"5G": -105.0, "4G": -110.0}
#: ... and SS-SINR / SINR (dB).
SINR_THRESHOLD_DB: dict[str, float] = {"5G": -3.0, "4G": -3.0}
#: Fraction of resource elements loaded in interfering cells (0–1).
LOAD = 0.5
#: Distance beyond which a cell is not evaluated, metres.
MAX_RADIUS_M = 15_000.0
#: UE noise figure, dB.
NOISE_FIGURE_DB = 7.0
#: Population densities from which a pixel counts as urban / suburban (``auto`` model), per km².
URBAN_DENSITY_PER_KM2 = 3000.0
SUBURBAN_DENSITY_PER_KM2 = 300.0
#: Vertical half-power beamwidth of the sector antennas (3GPP TR 38.901 pattern), degrees.
VERTICAL_BEAMWIDTH_DEG = 10.0
#: Horizontal half-power beamwidth of a sector whose beamwidth is not given, degrees.
BEAMWIDTH_DEG = 65.0
#: A cell counts as server or interferer where its RSRP ≥ threshold − this margin, dB.
CUTOFF_MARGIN_DB = 20.0
#: RMa model (3GPP TR 38.901): average building height and street width, metres.
BUILDING_HEIGHT_M = 5.0
STREET_WIDTH_M = 20.0

# -- cells: what a site list leaves out ------------------------------------------------------
#: Per technology: carrier centre frequency (MHz), bandwidth (MHz), sub-carrier spacing (kHz),
#: EIRP (dBm) and antenna height above ground (m).
CELL: dict[str, dict[str, float]] = {
    "5G": {
        "freq_mhz": 3500.0,
        "bandwidth_mhz": 100.0,
        "scs_khz": 30.0,
        "eirp_dbm": 61.0,
        "height_m": 30.0,
    },
    "4G": {
        "freq_mhz": 1800.0,
        "bandwidth_mhz": 20.0,
        "scs_khz": 15.0,
        "eirp_dbm": 61.0,
        "height_m": 30.0,
    },
}
#: Total downtilt of a cell whose tilt is not given, degrees (positive = down).
TILT_DEG = 6.0
