"""Result and parameter types of the radio engine (shared with zonal, maps and planning)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    the technology (5G: SS-RSRP/SS-SINR, 4G: RSRP/SINR).
    """

    tech: str = "5G"
    model: str = "auto"
    ue_height_m: float = 1.5
    rsrp_threshold_dbm: float = -105.0
    sinr_threshold_db: float = -3.0
    load: float = 0.5
    max_radius_m: float = 15000.0
    noise_figure_db: float = 7.0
    extra_loss_db: float = 0.0
    urban_density_per_km2: float = 3000.0
    suburban_density_per_km2: float = 300.0
    diffraction: str = "knife-edge"
    terrain_method: str = "horizon"
    """With a DEM: ``"horizon"`` (per-cell radial horizon sweep, O(1) per pixel; the
    transmitter-horizon single knife-edge approximation) or ``"profile"`` (the exact per-path
    profile, O(distance) per pixel); see :mod:`gigacov.radio.terrain`."""
    vertical_beamwidth_deg: float = 10.0
    """Vertical half-power beamwidth θ3dB of every sector antenna (38.901 pattern), degrees."""
    default_beamwidth_deg: float = 65.0
    """Horizontal half-power beamwidth φ3dB of sectors whose ``beamwidth_deg`` is missing."""
    cutoff_margin_db: float = 20.0
    """A cell counts (as server or interferer) where its RSRP ≥ threshold − this margin."""
    building_height_m: float = 5.0
    """RMa average building height h (38.901 default 5 m)."""
    street_width_m: float = 20.0
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
        cal_path = getattr(radio, "calibration", "")
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
            terrain_method=getattr(radio, "terrain_method", "horizon"),
            vertical_beamwidth_deg=getattr(radio, "vertical_beamwidth_deg", 10.0),
            default_beamwidth_deg=getattr(radio, "default_beamwidth_deg", 65.0),
            cutoff_margin_db=getattr(radio, "cutoff_margin_db", 20.0),
            building_height_m=getattr(radio, "building_height_m", 5.0),
            street_width_m=getattr(radio, "street_width_m", 20.0),
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
