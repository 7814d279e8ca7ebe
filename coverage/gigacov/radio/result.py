"""Result and parameter types of the radio engine (shared with zonal, maps and planning)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import radio_defaults as rd
from ..grid import Grid
from ..scenario import RadioSection
from .calibration import read_calibration

__all__ = ["RadioParams", "CoverageResult", "NO_SERVER"]

#: Value of ``CoverageResult.server`` where no cell reaches the pixel.
NO_SERVER = -1


@dataclass(frozen=True)
class RadioParams:
    """Link-budget and model settings for one technology.

    Built from the scenario's ``[radio]`` section by :meth:`from_section`; thresholds are those of
    the technology (5G: SS-RSRP/SS-SINR, 4G: RSRP/SINR). The defaults are those of
    :mod:`gigacov.radio_defaults` (5G thresholds).
    """

    tech: str = "5G"
    model: str = rd.MODEL
    ue_height_m: float = rd.UE_HEIGHT_M
    rsrp_threshold_dbm: float = rd.RSRP_THRESHOLD_DBM["5G"]
    sinr_threshold_db: float = rd.SINR_THRESHOLD_DB["5G"]
    load: float = rd.LOAD
    max_radius_m: float = rd.MAX_RADIUS_M
    noise_figure_db: float = rd.NOISE_FIGURE_DB
    extra_loss_db: float = 0.0
    urban_density_per_km2: float = rd.URBAN_DENSITY_PER_KM2
    suburban_density_per_km2: float = rd.SUBURBAN_DENSITY_PER_KM2
    diffraction: str = rd.DIFFRACTION
    terrain_method: str = rd.TERRAIN_METHOD
    """With a DEM: ``"horizon"`` (per-cell radial horizon sweep, O(1) per pixel; the
    transmitter-horizon single knife-edge approximation) or ``"profile"`` (the exact per-path
    profile, O(distance) per pixel); see :mod:`gigacov.radio.terrain`."""
    vertical_beamwidth_deg: float = rd.VERTICAL_BEAMWIDTH_DEG
    """Vertical half-power beamwidth θ3dB of every sector antenna (38.901 pattern), degrees."""
    default_beamwidth_deg: float = rd.BEAMWIDTH_DEG
    """Horizontal half-power beamwidth φ3dB of sectors whose ``beamwidth_deg`` is missing."""
    cutoff_margin_db: float = rd.CUTOFF_MARGIN_DB
    """A cell counts (as server or interferer) where its RSRP ≥ threshold − this margin."""
    building_height_m: float = rd.BUILDING_HEIGHT_M
    """RMa average building height h (38.901 default 5 m)."""
    street_width_m: float = rd.STREET_WIDTH_M
    """RMa average street width W (38.901 default 20 m)."""
    calibration_offsets_db: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Calibration: dB added to the path loss in urban, suburban and rural pixels."""
    calibration_slopes_db: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Calibration: dB per decade of 3-D distance added to the path loss (urban, suburban, rural),
    about 1 km: the loss changes by ``slope · (log10(d / 1 m) − 3)``."""
    calibration: str = ""
    """The calibration file applied ("" = none)."""

    @property
    def calibrated(self) -> bool:
        return any(self.calibration_offsets_db) or any(self.calibration_slopes_db)

    @classmethod
    def from_section(cls, radio: RadioSection, tech: str) -> RadioParams:
        tech = tech.upper()
        four_g = tech == "4G"
        offsets = slopes = (0.0, 0.0, 0.0)
        cal_path = radio.calibration
        if cal_path:
            offsets, slopes = read_calibration(cal_path, tech, radio.model)
        return cls(
            tech=tech,
            model=radio.model,
            ue_height_m=radio.ue_height_m,
            rsrp_threshold_dbm=radio.rsrp_threshold_4g_dbm if four_g else radio.rsrp_threshold_dbm,
            sinr_threshold_db=radio.sinr_threshold_4g_db if four_g else radio.sinr_threshold_db,
            load=radio.load,
            max_radius_m=radio.max_radius_m,
            noise_figure_db=radio.noise_figure_db,
            extra_loss_db=radio.extra_loss_db,
            urban_density_per_km2=radio.urban_density_per_km2,
            suburban_density_per_km2=radio.suburban_density_per_km2,
            diffraction=radio.diffraction,
            terrain_method=radio.terrain_method,
            vertical_beamwidth_deg=radio.vertical_beamwidth_deg,
            default_beamwidth_deg=radio.default_beamwidth_deg,
            cutoff_margin_db=radio.cutoff_margin_db,
            building_height_m=radio.building_height_m,
            street_width_m=radio.street_width_m,
            calibration_offsets_db=offsets,
            calibration_slopes_db=slopes,
            calibration=cal_path if (any(offsets) or any(slopes)) else "",
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CoverageResult:
    """Per-pixel coverage of one technology on a grid.

    Attributes
    ----------
    tech
        ``"5G"`` or ``"4G"``.
    grid
        The grid the arrays are defined on (metric CRS).
    rsrp_dbm
        Best-server RSRP per resource element, dBm, float32 (H, W); NaN where no cell reaches.
    sinr_db
        SINR of the best server, dB, float32 (H, W); NaN where no cell reaches.
    server
        Index of the best-serving cell into ``cells`` (row position), int32; ``NO_SERVER`` (−1)
        where none.
    covered
        uint8 (H, W): 1 where RSRP ≥ threshold and SINR ≥ threshold.
    cells
        The cells this result was computed from (row ``i`` is server id ``i``), WGS84 columns of
        :data:`gigacov.ingest.model.CELL_COLUMNS`.
    params
        The :class:`RadioParams` used.
    timings
        Seconds and counts: ``compile_s``, ``compute_s``, ``evaluations`` (cell-pixel
        evaluations), ``tiles``.
    """

    tech: str
    grid: Grid
    rsrp_dbm: np.ndarray
    sinr_db: np.ndarray
    server: np.ndarray
    covered: np.ndarray
    cells: pd.DataFrame
    params: RadioParams
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("rsrp_dbm", "sinr_db", "server", "covered"):
            arr = getattr(self, name)
            if arr.shape != self.grid.shape:
                raise ValueError(
                    f"CoverageResult.{name} has shape {arr.shape}, grid is {self.grid.shape}"
                )
