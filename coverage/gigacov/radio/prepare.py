"""Preparation: validated cells → the per-cell arrays the kernels take.

:func:`prepare` validates the parameters and the cells (:func:`cell_table`: grid-CRS positions,
grid azimuths, link-budget terms; a bad row is an error naming it), derives the clutter classes
and the DEM on the grid (:mod:`.ground`), sizes each cell's cut-off radius (:func:`_radii`), its
pixel window and — with a DEM and the horizon method — its number of rays, computes the per-cell
path-loss coefficients (:func:`path_loss_coefficients`) and fills the kernels' arrays (``cellp``,
``coef``, ``celli``, ``sp``, ``ip``; their layout is in :mod:`.kernels`).

**Cut-off radius.** The distance beyond which even boresight gain (0 dB) and the least-loss model
that can apply around the cell (LOS formulas when a DEM can make pixels LOS, NLOS formulas
otherwise; per clutter class present within that distance) leave the RSRP below the contribution
level, capped by ``max_radius_m``. So the radius never changes which cells contribute; it only
bounds the work.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj

from ..errors import ConfigError, InputError, ResourceError
from ..grid import Grid, RasterData
from ..operators import carrier_groups
from ..radio_defaults import CELL
from . import kernels as K
from .ground import clutter_classes, dem_on_grid
from .models import (
    AUTO,
    COST231_HATA,
    D2D_MIN_M,
    D3D_MIN_FREE_SPACE_M,
    FREE_SPACE,
    MODEL_CODES,
    RMA,
    RURAL,
    SUBURBAN,
    UMA,
    UMI,
    URBAN,
    check_validity,
    model_code,
)
from .result import RadioParams
from .terrain import (
    DIFFRACTION_CODES,
    PROFILE,
    SPEED_OF_LIGHT_M_S,
    TERRAIN_METHOD_CODES,
    horizon_ray_count,
    sample_bilinear_many,
)

__all__ = [
    "Prepared",
    "prepare",
    "validate_params",
    "cell_table",
    "path_loss_coefficients",
    "terrain_method_code",
    "ray_scratch_bytes",
]

log = logging.getLogger(__name__)

_BLOCK = 16  # pixels per block of the clutter-presence map used to size cut-off radii


@dataclass
class Prepared:
    """Everything the kernels need, for all cells (global indices)."""

    grid: Grid
    params: RadioParams
    cellp: np.ndarray  # (n, NCELLP) float64
    coef: np.ndarray  # (n, 3·NCOEF) float64 path-loss coefficients per clutter class
    celli: np.ndarray  # (n, NCELLI) int64; GROUP is the global carrier group
    active: np.ndarray  # bool (n,): the cell's window meets the grid
    sp: np.ndarray
    ip: np.ndarray
    clutter: np.ndarray | None  # int8 classes on the grid, or None
    dem: np.ndarray | None  # float32 DEM on the grid padded by dem_pad pixels, or None
    dem_pad: int
    n_groups: int
    overlap: np.ndarray  # (n_groups, n_groups) float64: share of carrier a overlapped by b


def validate_params(params: RadioParams) -> None:
    if params.model not in MODEL_CODES:
        model_code(params.model)  # raises ConfigError with the choices
    checks = (
        ("ue_height_m", params.ue_height_m > 0, "> 0 metres"),
        ("load", 0.0 <= params.load <= 1.0, "between 0 and 1"),
        ("max_radius_m", params.max_radius_m > 0, "> 0 metres"),
        ("noise_figure_db", math.isfinite(params.noise_figure_db), "a number of dB"),
        ("extra_loss_db", math.isfinite(params.extra_loss_db), "a number of dB"),
        ("rsrp_threshold_dbm", math.isfinite(params.rsrp_threshold_dbm), "a number of dBm"),
        ("sinr_threshold_db", math.isfinite(params.sinr_threshold_db), "a number of dB"),
        ("vertical_beamwidth_deg", params.vertical_beamwidth_deg > 0, "> 0 degrees"),
        ("default_beamwidth_deg", params.default_beamwidth_deg > 0, "> 0 degrees"),
        ("cutoff_margin_db", params.cutoff_margin_db >= 0, "≥ 0 dB"),
        ("building_height_m", params.building_height_m > 0, "> 0 metres"),
        ("street_width_m", params.street_width_m > 0, "> 0 metres"),
        ("urban_density_per_km2", params.urban_density_per_km2 >= 0, "≥ 0 persons/km²"),
        ("suburban_density_per_km2", params.suburban_density_per_km2 >= 0, "≥ 0 persons/km²"),
    )
    for key, ok, expected in checks:
        if not ok:
            raise ConfigError(f"[radio] {key} must be {expected}, got {getattr(params, key)!r}")
    if params.diffraction not in DIFFRACTION_CODES:
        raise ConfigError(
            f"[radio] diffraction: {params.diffraction!r} is not one of "
            f"{', '.join(map(repr, DIFFRACTION_CODES))}"
        )
    if params.terrain_method not in TERRAIN_METHOD_CODES:
        raise ConfigError(
            f"[radio] terrain_method: {params.terrain_method!r} is not one of "
            f"{', '.join(map(repr, TERRAIN_METHOD_CODES))}"
        )


def terrain_method_code(params: RadioParams) -> int:
    """The terrain method the kernels run: ``params.terrain_method``, except ``profile`` whenever
    ``diffraction = "deygout"`` (the three-edge construction needs the exact path profile)."""
    if params.diffraction == "deygout":
        return PROFILE
    return TERRAIN_METHOD_CODES[params.terrain_method]


def _row_label(cells: pd.DataFrame, pos: int) -> str:
    if "source_row" in cells.columns:
        try:
            return f"row {int(cells['source_row'].iloc[pos])}"
        except (TypeError, ValueError):
            pass
    return f"row position {pos}"


def _numeric(cells: pd.DataFrame, name: str, default: float | None) -> np.ndarray:
    if name not in cells.columns:
        if default is None:
            raise InputError(
                f"cells: required column {name!r} is missing (columns: {', '.join(map(str, cells.columns))}); "
                "pass a frame with the columns of gigacov.ingest.model.CELL_COLUMNS"
            )
        return np.full(len(cells), default, dtype=np.float64)
    return pd.to_numeric(cells[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _require(
    cells: pd.DataFrame, ok: np.ndarray, name: str, values: np.ndarray, expected: str
) -> None:
    bad = np.flatnonzero(~ok)
    if bad.size:
        pos = int(bad[0])
        raw = cells[name].iloc[pos] if name in cells.columns else values[pos]
        if isinstance(raw, np.generic):
            raw = raw.item()
        more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
        raise InputError(
            f"cells {_row_label(cells, pos)}, column {name!r}: {raw!r} is not {expected}{more}; "
            "fix the sites file or drop the cell"
        )


def cell_table(cells: pd.DataFrame, grid: Grid, params: RadioParams) -> dict[str, np.ndarray]:
    """Validated per-cell numbers (grid CRS positions, grid azimuths, link-budget terms)."""
    tech = params.tech.upper()
    if "tech" in cells.columns and len(cells):
        techs = cells["tech"].astype(str).str.upper()
        wrong = np.flatnonzero((techs != tech).to_numpy())
        if wrong.size:
            pos = int(wrong[0])
            raise InputError(
                f"cells {_row_label(cells, pos)}, column 'tech': {cells['tech'].iloc[pos]!r} but "
                f"this call computes {tech!r} coverage; pass one technology per call "
                "(filter the cells by their 'tech' column)"
            )
    lon = _numeric(cells, "lon", None)
    lat = _numeric(cells, "lat", None)
    _require(
        cells, np.isfinite(lon) & (np.abs(lon) <= 180), "lon", lon, "a longitude in degrees (WGS84)"
    )
    _require(
        cells, np.isfinite(lat) & (np.abs(lat) <= 90), "lat", lat, "a latitude in degrees (WGS84)"
    )
    freq = _numeric(cells, "freq_mhz", None)
    _require(cells, np.isfinite(freq) & (freq > 0), "freq_mhz", freq, "a positive frequency in MHz")
    eirp = _numeric(cells, "eirp_dbm", None)
    _require(cells, np.isfinite(eirp), "eirp_dbm", eirp, "an EIRP in dBm")
    height = _numeric(cells, "height_m", None)
    _require(
        cells, np.isfinite(height) & (height > 0), "height_m", height, "a positive height in metres"
    )
    scs_default = CELL["4G" if tech == "4G" else "5G"]["scs_khz"]
    scs = _numeric(cells, "scs_khz", scs_default)
    scs = np.where(np.isfinite(scs) & (scs > 0), scs, scs_default)
    n_rb = _numeric(cells, "n_rb", np.nan)
    missing = ~(np.isfinite(n_rb) & (n_rb >= 1))
    if missing.any():
        from ..ingest.bands import n_rb_for

        bw = _numeric(cells, "bandwidth_mhz", np.nan)
        derived = n_rb_for(np.full(len(cells), tech, dtype=object), bw, scs).astype(np.float64)
        n_rb = np.where(missing, derived, n_rb)
        _require(
            cells,
            np.isfinite(n_rb) & (n_rb >= 1),
            "n_rb" if "n_rb" in cells.columns else "bandwidth_mhz",
            n_rb,
            "a resource-block count (or a 3GPP bandwidth for the cell's sub-carrier spacing)",
        )
    azimuth = _numeric(cells, "azimuth_deg", np.nan)
    beamwidth = _numeric(cells, "beamwidth_deg", np.nan)
    beamwidth = np.where(
        np.isfinite(beamwidth) & (beamwidth > 0), beamwidth, params.default_beamwidth_deg
    )
    tilt = _numeric(cells, "tilt_deg", np.nan)

    x, y = grid.lonlat_to_xy(lon, lat)
    az_grid = np.full(len(cells), np.nan)
    has_az = np.isfinite(azimuth)
    if has_az.any():
        # Grid azimuth = bearing in the grid CRS of a point 100 m away along the true azimuth
        # (corrects the meridian convergence of the projection).
        geod = pyproj.Geod(ellps="WGS84")
        lon2, lat2, _ = geod.fwd(
            lon[has_az], lat[has_az], azimuth[has_az], np.full(has_az.sum(), 100.0)
        )
        x2, y2 = grid.lonlat_to_xy(lon2, lat2)
        az_grid[has_az] = np.degrees(np.arctan2(x2 - x[has_az], y2 - y[has_az]))
    return {
        "x": np.asarray(x, dtype=np.float64),
        "y": np.asarray(y, dtype=np.float64),
        "h_bs": height,
        "az": az_grid,
        "bw": beamwidth,
        "tilt": tilt,
        "eirp_re": eirp - 10.0 * np.log10(12.0 * n_rb),
        "f_ghz": freq / 1000.0,
        "freq_mhz": freq,
        "noise_mw": 10.0
        ** ((-174.0 + 10.0 * np.log10(scs * 1000.0) + params.noise_figure_db) / 10.0),
        "wavelength": SPEED_OF_LIGHT_M_S / (freq * 1e6),
    }


def ray_scratch_bytes(radius_m: float, res: float) -> int:
    """Bytes of the horizon sweep's scratch for one cut-off radius (one worker, one band):
    ``M × S`` float64 slopes + int32 steps (:func:`gigacov.radio.kernels.ray_scratch`)."""
    n_rays = horizon_ray_count(radius_m, res)
    steps = int(math.floor(radius_m / res + 0.5)) + 1
    return 12 * n_rays * steps + 24 * n_rays


def _windows(x, y, radius, grid: Grid):
    """Per-cell pixel windows [r0, r1) × [c0, c1) (clipped), as :meth:`Grid.window_around`."""
    res = grid.resolution_m
    t = grid.transform
    with np.errstate(invalid="ignore"):
        c0 = np.floor((x - radius - t.c) / res)
        c1 = np.ceil((x + radius - t.c) / res)
        r0 = np.floor((t.f - (y + radius)) / res)
        r1 = np.ceil((t.f - (y - radius)) / res)
    c0 = np.clip(c0, 0, grid.width).astype(np.int64)
    c1 = np.clip(c1, 0, grid.width).astype(np.int64)
    r0 = np.clip(r0, 0, grid.height).astype(np.int64)
    r1 = np.clip(r1, 0, grid.height).astype(np.int64)
    active = (c0 < c1) & (r0 < r1) & (radius > 0)
    return r0, r1, c0, c1, active


def _class_presence(classes: np.ndarray, cls: int) -> np.ndarray:
    """Integral image (int64) of the blocks of ``_BLOCK``² pixels that contain class ``cls``."""
    h, w = classes.shape
    bh, bw = -(-h // _BLOCK), -(-w // _BLOCK)
    present = np.zeros((bh, bw), dtype=bool)
    for r in range(bh):
        rows = classes[r * _BLOCK : (r + 1) * _BLOCK]
        hit = (rows == cls).any(axis=0)
        if hit.any():
            padded = np.zeros(bw * _BLOCK, dtype=bool)
            padded[:w] = hit
            present[r] = padded.reshape(bw, _BLOCK).any(axis=1)
    integral = np.zeros((bh + 1, bw + 1), dtype=np.int64)
    integral[1:, 1:] = present.cumsum(axis=0).cumsum(axis=1)
    return integral


def _radii(
    table, params: RadioParams, grid: Grid, classes: np.ndarray | None, has_dem: bool
) -> tuple[np.ndarray, dict[int, float]]:
    """Cut-off radius per cell (m): largest over the clutter classes present within it.

    Also returns, per concrete model code, the largest distance at which that model will be
    evaluated (for the validity warnings).
    """
    model = MODEL_CODES[params.model]
    level = params.rsrp_threshold_dbm - params.cutoff_margin_db
    budget = table["eirp_re"] - params.extra_loss_db - level
    f_ghz, h_bs = table["f_ghz"], table["h_bs"]
    n = budget.size
    # A calibration lowers the loss by at most this much per class (offset, and the slope term at
    # its most negative over 1 m … max_radius_m), so radii computed with the uncalibrated model
    # and a budget raised by it still bound every pixel where the calibrated cell contributes.
    log_max = math.log10(max(params.max_radius_m, 1.0))
    gain = {
        cls: -params.calibration_offsets_db[cls - 1] - min(-3.0 * s, s * (log_max - 3.0))
        for cls, s in ((c, params.calibration_slopes_db[c - 1]) for c in (URBAN, SUBURBAN, RURAL))
    }

    def radius_for(cls: int, extra_db: float | None = None) -> np.ndarray:
        # Once per distinct (budget, frequency, mast height): the sectors of a site usually
        # share them, and the bisection is most of the preparation of a province.
        key = np.stack([budget + (gain[cls] if extra_db is None else extra_db), f_ghz, h_bs], 1)
        uniq, inverse = np.unique(key, axis=0, return_inverse=True)
        out = np.empty(len(uniq), dtype=np.float64)
        K.cutoff_radii(
            np.ascontiguousarray(uniq[:, 0]),
            K.resolve_model(model, cls),
            cls,
            has_dem,
            np.ascontiguousarray(uniq[:, 1]),
            np.ascontiguousarray(uniq[:, 2]),
            params.ue_height_m,
            params.building_height_m,
            params.street_width_m,
            params.max_radius_m,
            out,
        )
        return out[inverse.reshape(-1)]

    reach: dict[int, float] = {}
    if classes is None or (model != AUTO and model != COST231_HATA):
        radius = radius_for(SUBURBAN, extra_db=max(gain.values()))
        active = _windows(table["x"], table["y"], radius, grid)[4]
        reach[K.resolve_model(model, SUBURBAN)] = (
            float(radius[active].max()) if active.any() else 0.0
        )
        return radius, reach
    radius = np.zeros(n, dtype=np.float64)
    present_classes = [c for c in (URBAN, SUBURBAN, RURAL) if (classes == c).any()]
    for cls in present_classes:
        r_c = radius_for(cls)
        integral = _class_presence(classes, cls)
        r0, r1, c0, c1, active = _windows(table["x"], table["y"], r_c, grid)
        br0, bc0 = r0 // _BLOCK, c0 // _BLOCK
        br1, bc1 = -(-r1 // _BLOCK), -(-c1 // _BLOCK)
        count = integral[br1, bc1] - integral[br0, bc1] - integral[br1, bc0] + integral[br0, bc0]
        near = active & (count > 0)
        radius = np.where(near, np.maximum(radius, r_c), radius)
        m = K.resolve_model(model, cls)
        reach[m] = max(reach.get(m, 0.0), float(r_c[near].max()) if near.any() else 0.0)
    return radius, reach


def path_loss_coefficients(table: dict[str, np.ndarray], params: RadioParams) -> np.ndarray:
    """Per-cell coefficients of the coefficient form of the path loss (see :mod:`.kernels`).

    Derived term by term from the published formulas of :mod:`.models` for each clutter class
    (urban, suburban, rural → the model ``params.model`` resolves to for that class).
    Returns float64 (n, 3·NCOEF).
    """
    f = table["f_ghz"]
    hbs = table["h_bs"]
    hut = params.ue_height_m
    n = f.size
    lgf = np.log10(f)
    dh2 = (hbs - hut) ** 2
    h, w_st = params.building_height_m, params.street_width_m
    model = MODEL_CODES[params.model]
    out = np.zeros((n, 3 * K.NCOEF), dtype=np.float64)
    inf = np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        for cls in (URBAN, SUBURBAN, RURAL):
            m = K.resolve_model(model, cls)
            c = {
                name: np.zeros(n)
                for name in (
                    "BP",
                    "A1L",
                    "B1L",
                    "C1L",
                    "A1H",
                    "B1H",
                    "C1H",
                    "E1",
                    "A2N",
                    "A2L",
                    "B2",
                )
            }
            c["A2L"] = np.full(n, -inf)
            if m == FREE_SPACE:
                c["BP"][:] = inf
                c["A1L"] = c["A1H"] = 32.45 + 20.0 * np.log10(f * 1000.0) - 60.0
                c["B1L"][:] = c["B1H"][:] = 20.0
                c["A2N"] = np.full(n, -inf)
            elif m in (UMA, UMI):
                dbp = 4.0 * np.maximum(hbs - 1.0, 0.0) * max(hut - 1.0, 0.0) * f * 1e9 / 3.0e8
                c["BP"] = dbp
                if m == UMA:
                    c["A1L"] = 28.0 + 20.0 * lgf
                    c["B1L"][:] = 22.0
                    c["A1H"] = 28.0 + 20.0 * lgf - 9.0 * np.log10(dbp**2 + dh2)
                    c["A2N"] = 13.54 + 20.0 * lgf - 0.6 * (hut - 1.5)
                    c["B2"][:] = 39.08
                else:
                    c["A1L"] = 32.4 + 20.0 * lgf
                    c["B1L"][:] = 21.0
                    c["A1H"] = 32.4 + 20.0 * lgf - 9.5 * np.log10(dbp**2 + dh2)
                    c["A2N"] = 22.4 + 21.3 * lgf - 0.3 * (hut - 1.5)
                    c["B2"][:] = 35.3
                c["B1H"][:] = 40.0
            elif m == RMA:
                hp = h**1.72
                dbp = 2.0 * math.pi * hbs * hut * f * 1e9 / 3.0e8
                c["BP"] = dbp
                c["A1L"] = 20.0 * np.log10(40.0 * math.pi * f / 3.0) - min(0.044 * hp, 14.77)
                c["B1L"][:] = 20.0 + min(0.03 * hp, 10.0)
                c["C1L"][:] = 0.002 * math.log10(h)
                pl1_bp = (
                    20.0 * np.log10(40.0 * math.pi * dbp * f / 3.0)
                    + min(0.03 * hp, 10.0) * np.log10(dbp)
                    - min(0.044 * hp, 14.77)
                    + 0.002 * math.log10(h) * dbp
                )
                c["A1H"] = pl1_bp - 40.0 * np.log10(dbp)
                c["B1H"][:] = 40.0
                lh = np.log10(hbs)
                c["A2N"] = (
                    161.04
                    - 7.1 * math.log10(w_st)
                    + 7.5 * math.log10(h)
                    - (24.37 - 3.7 * (h / hbs) ** 2) * lh
                    - 3.0 * (43.42 - 3.1 * lh)
                    + 20.0 * lgf
                    - (3.2 * math.log10(11.75 * hut) ** 2 - 4.97)
                )
                c["B2"] = 43.42 - 3.1 * lh
            else:  # COST-231 Hata, environment = class
                lf = np.log10(f * 1000.0)
                a_hm = (1.1 * lf - 0.7) * hut - (1.56 * lf - 0.8)
                lhb = np.log10(hbs)
                slope = 44.9 - 6.55 * lhb
                base = (
                    46.3 + 33.9 * lf - 13.82 * lhb - a_hm - 3.0 * slope
                )  # log10(d_km) = log10(d) − 3
                if cls == URBAN:
                    base = base + 3.0
                elif cls == SUBURBAN:
                    base = base - 2.0 * np.log10(f * 1000.0 / 28.0) ** 2 - 5.4
                else:
                    base = base - 4.78 * lf**2 + 18.33 * lf - 40.94
                c["BP"][:] = inf
                c["A1L"] = c["A1H"] = base
                c["E1"] = slope
                c["A2N"] = c["A2L"] = 32.45 + 20.0 * lf - 60.0  # free-space floor
                c["B2"][:] = 20.0
            # Calibration: PL + offset + slope·(log10 d3d − 3) on every branch of the class.
            off = params.calibration_offsets_db[cls - 1]
            slope = params.calibration_slopes_db[cls - 1]
            if off or slope:
                for name in ("A1L", "A1H", "A2N", "A2L"):
                    c[name] = c[name] + off - 3.0 * slope
                for name in ("B1L", "B1H", "B2"):
                    c[name] = c[name] + slope
            o = (cls - 1) * K.NCOEF
            for name, j in (
                ("BP", K.BP),
                ("A1L", K.A1L),
                ("B1L", K.B1L),
                ("C1L", K.C1L),
                ("A1H", K.A1H),
                ("B1H", K.B1H),
                ("C1H", K.C1H),
                ("E1", K.E1),
                ("A2N", K.A2N),
                ("A2L", K.A2L),
                ("B2", K.B2),
            ):
                out[:, o + j] = c[name]
    return out


def prepare(
    cells: pd.DataFrame,
    grid: Grid,
    params: RadioParams,
    population: np.ndarray | None,
    clutter: RasterData | None,
    dem: RasterData | None,
    budget_bytes: int | None = None,
) -> Prepared:
    validate_params(params)
    table = cell_table(cells, grid, params)
    model = MODEL_CODES[params.model]
    has_dem = dem is not None
    classes = None
    # Clutter classes pick the model (auto), the COST-231 environment, and — with a DEM — whether
    # a terrain-clear path uses the LOS formula (rural pixels only; see kernels._rsrp_dem).
    if model in (AUTO, COST231_HATA) or has_dem:
        if budget_bytes is not None:
            grid.check_allocation(1, budget_bytes, "the clutter-class grid")
        classes = clutter_classes(grid, params, population, clutter)
        if classes is None and model in (AUTO, COST231_HATA):
            log.warning(
                "model %r: no population grid and no clutter raster; every pixel is treated as "
                "suburban",
                params.model,
            )
    radius, reach = _radii(table, params, grid, classes, has_dem)
    r0, r1, c0, c1, active = _windows(table["x"], table["y"], radius, grid)
    n = radius.size
    res = grid.resolution_m

    dem_grid = None
    pad = 0
    z_site = np.zeros(n, dtype=np.float64)
    if has_dem:
        r_max = float(radius[active].max()) if active.any() else 0.0
        pad = int(math.ceil(r_max / res)) + 2
        if budget_bytes is not None:
            padded = Grid(grid.crs, grid.transform, grid.width + 2 * pad, grid.height + 2 * pad)
            padded.check_allocation(4, budget_bytes, "the DEM on the analysis grid")
        method = terrain_method_code(params)
        if method == PROFILE and params.terrain_method != "profile":
            log.info(
                "[radio] diffraction = 'deygout' needs the exact path profile: using "
                "terrain_method 'profile' (O(distance) work per pixel) instead of %r",
                params.terrain_method,
            )
        if method != PROFILE and budget_bytes is not None and r_max > 0:
            scratch = ray_scratch_bytes(r_max, res)
            if scratch > budget_bytes:
                raise ResourceError(
                    f"the horizon sweep needs {scratch / 2**20:.0f} MiB of scratch per worker for "
                    f"a cut-off radius of {r_max:.0f} m at {res:g} m, over the budget of "
                    f"{budget_bytes / 2**20:.0f} MiB; lower [radio] max_radius_m, use a coarser "
                    "[grid] resolution_m or raise [compute] memory_budget_mb"
                )
        dem_grid = dem_on_grid(dem, grid, pad)
        sample_bilinear_many(
            dem_grid,
            grid.transform.c - pad * res,
            grid.transform.f + pad * res,
            res,
            table["x"],
            table["y"],
            z_site,
        )
        if np.isnan(z_site[active]).any():
            log.warning(
                "DEM has no data at %d site(s); their ground is taken as 0 m",
                int(np.isnan(z_site[active]).sum()),
            )
        z_site = np.where(np.isnan(z_site), 0.0, z_site)

    # Validity of the models actually used, up to the distance each is used (logged once per
    # process and model).
    if active.any():
        for m, d_max in reach.items():
            if d_max > 0:
                check_validity(
                    m,
                    d_max,
                    table["f_ghz"][active],
                    table["h_bs"][active],
                    params.ue_height_m,
                    los=has_dem,
                )

    # Carrier groups: cells on the same carrier (operator's carrier, or frequency ± bandwidth/2)
    # share one; overlap[a, b] weighs group b's power as interference to a server on group a.
    groups, overlap, _spans = carrier_groups(cells)
    omni = np.isnan(table["az"])
    az_rad = np.radians(np.where(omni, 0.0, table["az"]))
    has_tilt = np.isfinite(table["tilt"])
    cellp = np.empty((n, K.NCELLP), dtype=np.float64)
    cellp[:, K.X] = table["x"]
    cellp[:, K.Y] = table["y"]
    cellp[:, K.HBS] = table["h_bs"]
    cellp[:, K.EIRP_RE] = table["eirp_re"]
    cellp[:, K.FGHZ] = table["f_ghz"]
    cellp[:, K.ZSITE] = z_site
    cellp[:, K.RADIUS] = radius
    cellp[:, K.NOISE_MW] = table["noise_mw"]
    cellp[:, K.WAVELEN] = table["wavelength"]
    cellp[:, K.SINAZ] = np.sin(az_rad)
    cellp[:, K.COSAZ] = np.cos(az_rad)
    # 12·(φ/φ3dB)² with angles in radians; 0 = no horizontal (omni) / vertical (no tilt) pattern.
    cellp[:, K.KH] = np.where(omni, 0.0, 12.0 / np.radians(table["bw"]) ** 2)
    cellp[:, K.KV] = np.where(
        has_tilt, 12.0 / math.radians(params.vertical_beamwidth_deg) ** 2, 0.0
    )
    cellp[:, K.TILT_RAD] = np.radians(np.where(has_tilt, table["tilt"], 0.0))
    coef = path_loss_coefficients(table, params)
    celli = np.empty((n, K.NCELLI), dtype=np.int64)
    celli[:, K.GID] = np.arange(n)
    celli[:, K.GROUP] = groups
    celli[:, K.R0] = r0
    celli[:, K.R1] = r1
    celli[:, K.C0] = c0
    celli[:, K.C1] = c1
    celli[:, K.N_RAYS] = horizon_ray_count(radius, res)

    sp = np.zeros(K.NSP, dtype=np.float64)
    sp[K.SX0] = grid.transform.c
    sp[K.SY0] = grid.transform.f
    sp[K.RES] = res
    sp[K.HUT] = params.ue_height_m
    sp[K.EXTRA] = params.extra_loss_db
    sp[K.LEVEL] = params.rsrp_threshold_dbm - params.cutoff_margin_db
    sp[K.LOAD] = params.load
    sp[K.THR_RSRP] = params.rsrp_threshold_dbm
    sp[K.THR_SINR] = params.sinr_threshold_db
    sp[K.DEM_X0] = grid.transform.c - pad * res
    sp[K.DEM_Y0] = grid.transform.f + pad * res
    sp[K.DMIN] = 0.0 if model == FREE_SPACE else D2D_MIN_M
    sp[K.D3MIN2] = D3D_MIN_FREE_SPACE_M**2 if model == FREE_SPACE else 0.0
    ip = np.zeros(K.NIP, dtype=np.int64)
    ip[K.MODEL] = model
    ip[K.NEED_LOG_D2D] = model == COST231_HATA
    ip[K.NEED_D3] = bool(np.any(coef[:, [K.C1L, K.NCOEF + K.C1L, 2 * K.NCOEF + K.C1L]] != 0.0))
    ip[K.HAS_DEM] = has_dem
    ip[K.DIFFR] = DIFFRACTION_CODES[params.diffraction]
    ip[K.TERRAIN] = terrain_method_code(params)
    ip[K.DEM_PAD] = pad
    ip[K.NGROUPS] = len(overlap)
    return Prepared(
        grid,
        params,
        cellp,
        coef,
        celli,
        active,
        sp,
        ip,
        classes,
        dem_grid,
        pad,
        len(overlap),
        overlap,
    )
