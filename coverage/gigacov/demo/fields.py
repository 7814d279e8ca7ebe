"""Continuous synthetic fields of the demo: distance to the sea, terrain, population density.

Every field is a function of metric coordinates ``(x, y)`` in :data:`DEMO_CRS` (UTM 50N), so it
can be evaluated on any raster (the population raster at the scenario's resolution, the WGS84 DEM,
the fixed 200 m model grid the sites and villages are drawn on) and the synthetic world does not
change with the resolution asked for. Only the calibration of the population raster to the county
totals is done per raster (pixel-centre rule), so that every raster sums exactly to the published
county populations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from affine import Affine

from ..crs import transformer
from ..errors import InputError
from ..grid import Grid
from ..shipped_boundaries import read_shipped_boundaries
from .design import COUNTIES, KINMEN_CODE, REGION, CountyDesign

__all__ = [
    "DEMO_CRS",
    "MODEL_RES_M",
    "Region",
    "load_region",
    "Terrain",
    "PopulationModel",
    "county_labels",
]

log = logging.getLogger(__name__)

#: Metric CRS of the generator (and of the population raster): WGS84 / UTM zone 50N.
DEMO_CRS = pyproj.CRS.from_epsg(32650)
#: Resolution of the fixed model grid on which villages and sites are drawn (metres).
MODEL_RES_M = 200.0
_COAST_STEP_M = 1000.0
#: Share of each county's population spread thinly over the countryside (the rest: towns and
#: villages).
DIFFUSE_SHARE = 0.10
#: Standard deviation of a village's population bump (metres) — a hamlet and its fields.
VILLAGE_SIGMA_M = 450.0


@dataclass
class Region:
    """Quanzhou's real county boundaries and the coast, in WGS84 and in :data:`DEMO_CRS`.

    Attributes
    ----------
    counties
        The 12 county-level units with code ``3505xx`` (WGS84), index = admin_code.
    counties_m
        The same in :data:`DEMO_CRS`.
    land_m
        Fujian's land (the province polygon) in :data:`DEMO_CRS`, simplified to 100 m.
    coast_transform, coast_dist_m
        A 1 km grid of the distance to the sea (metres; 0 at sea) for bilinear interpolation.
    """

    counties: gpd.GeoDataFrame
    counties_m: gpd.GeoDataFrame
    land_m: shapely.Geometry
    land_wgs84: shapely.Geometry
    coast_transform: Affine
    coast_dist_m: np.ndarray

    @property
    def bounds_m(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.counties_m.total_bounds)  # type: ignore[return-value]

    @property
    def administered(self) -> list[str]:
        """County codes that get synthetic content (all but 金门县)."""
        return [c.code for c in COUNTIES]

    def geometry_m(self, code: str) -> shapely.Geometry:
        """The county polygon in :data:`DEMO_CRS` (prepared for fast point tests)."""
        geoms = self.__dict__.setdefault("_geoms", {})
        if code not in geoms:
            g = self.counties_m.loc[code, "geometry"]
            shapely.prepare(g)
            geoms[code] = g
        return geoms[code]

    def to_m(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        x, y = transformer(4326, DEMO_CRS).transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x), np.asarray(y)

    def to_wgs84(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = transformer(DEMO_CRS, 4326).transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon), np.asarray(lat)

    def coast_distance(self, x, y) -> np.ndarray:
        """Distance to the sea (metres), bilinear between the 1 km grid nodes."""
        t = self.coast_transform
        col = (np.asarray(x, float) - t.c) / t.a
        row = (np.asarray(y, float) - t.f) / t.e
        a = self.coast_dist_m
        h, w = a.shape
        c0 = np.clip(np.floor(col).astype(np.int64), 0, w - 2)
        r0 = np.clip(np.floor(row).astype(np.int64), 0, h - 2)
        fc = np.clip(col - c0, 0.0, 1.0)
        fr = np.clip(row - r0, 0.0, 1.0)
        top = a[r0, c0] * (1 - fc) + a[r0, c0 + 1] * fc
        bottom = a[r0 + 1, c0] * (1 - fc) + a[r0 + 1, c0 + 1] * fc
        return top * (1 - fr) + bottom * fr

    def grid(self, resolution_m: float) -> Grid:
        """The analysis grid the pipeline will use for ``region = "350500"`` at this resolution."""
        return Grid.for_geometries(self.counties, resolution_m, DEMO_CRS)


def load_region(boundaries_path=None) -> Region:
    """Read the shipped Fujian boundaries and prepare Quanzhou's counties and coast.

    The result is cached per path (it takes a few seconds and never changes); treat it as
    read-only.
    """
    key = str(Path(boundaries_path).resolve()) if boundaries_path else ""
    if key not in _REGION_CACHE:
        _REGION_CACHE[key] = _load_region(boundaries_path)
    return _REGION_CACHE[key]


_REGION_CACHE: dict[str, Region] = {}


def _load_region(boundaries_path=None) -> Region:
    gdf = read_shipped_boundaries(boundaries_path)
    counties = gdf[(gdf["level"] == "county") & gdf["admin_code"].str.startswith(REGION[:4])]
    counties = counties.set_index("admin_code", drop=False).sort_index()
    expected = sorted([c.code for c in COUNTIES] + [KINMEN_CODE])
    if sorted(counties.index) != expected:
        raise InputError(
            f"{boundaries_path or 'data/boundaries/fujian.gpkg'}: expected Quanzhou's 12 county "
            f"codes {expected!r}, found {sorted(counties.index)!r}; rebuild the file with "
            "'gigacov boundaries build'"
        )
    province = gdf[gdf["level"] == "province"]
    land_wgs84 = province.geometry.union_all() if len(province) else gdf.geometry.union_all()
    counties_m = counties.to_crs(DEMO_CRS)
    land_m = gpd.GeoSeries([land_wgs84], crs=4326).to_crs(DEMO_CRS).iloc[0]
    land_m = shapely.simplify(land_m, 100.0)
    # Distance to the sea on a 1 km grid around the region.
    minx, miny, maxx, maxy = counties_m.total_bounds
    pad = 20_000.0
    x0 = np.floor((minx - pad) / _COAST_STEP_M) * _COAST_STEP_M
    y1 = np.ceil((maxy + pad) / _COAST_STEP_M) * _COAST_STEP_M
    w = int(np.ceil((maxx + pad - x0) / _COAST_STEP_M)) + 1
    h = int(np.ceil((y1 - (miny - pad)) / _COAST_STEP_M)) + 1
    xs = x0 + np.arange(w) * _COAST_STEP_M
    ys = y1 - np.arange(h) * _COAST_STEP_M
    far = 200_000.0
    sea = shapely.box(
        x0 - far, y1 - h * _COAST_STEP_M - far, x0 + w * _COAST_STEP_M + far, y1 + far
    )
    sea = shapely.difference(sea, land_m)
    shapely.prepare(sea)
    xx, yy = np.meshgrid(xs, ys)
    dist = shapely.distance(shapely.points(xx.ravel(), yy.ravel()), sea).reshape(h, w)
    return Region(
        counties=counties,
        counties_m=counties_m,
        land_m=land_m,
        land_wgs84=land_wgs84,
        # Nodes at the grid points: transform maps (col, row) → node (x, y).
        coast_transform=Affine(_COAST_STEP_M, 0.0, x0, 0.0, -_COAST_STEP_M, y1),
        coast_dist_m=dist.astype(np.float64),
    )


def county_labels(region: Region, grid: Grid) -> np.ndarray:
    """int16 raster on ``grid``: index into :data:`COUNTIES` + 1 (pixel-centre rule); 0 elsewhere.

    金门县 and the sea are 0.
    """
    from rasterio.features import rasterize

    counties_g = region.counties.to_crs(grid.crs)
    shapes = [(counties_g.loc[c.code, "geometry"], i + 1) for i, c in enumerate(COUNTIES)]
    return rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        dtype="int16",
        all_touched=False,
    )


# ------------------------------------------------------------------------------------------------
# Terrain
# ------------------------------------------------------------------------------------------------


@dataclass
class Terrain:
    """Synthetic terrain: a coastal plain rising to mountains inland (north-west), with hills.

    ``elevation = base(d) + relief(d)·n(x, y)``, lowered in the valleys of the towns, where ``d`` is
    the distance to the sea, ``base`` rises from ~0 m at the coast to ~900 m some 100 km inland
    (德化/永春/安溪), ``relief`` grows with ``base`` and ``n`` is a sum of random plane waves
    (wavelengths 3–70 km, amplitude ∝ wavelength^0.9), normalised to unit variance and softly
    clipped. Peaks reach ~1,700 m in the north-west (戴云山 is 1,856 m).
    """

    kx: np.ndarray
    ky: np.ndarray
    phase: np.ndarray
    amp: np.ndarray
    valley_xy: np.ndarray
    valley_sigma_m: np.ndarray
    region: Region

    @classmethod
    def from_seed(cls, rng: np.random.Generator, region: Region, n_modes: int = 64) -> Terrain:
        wavelength = np.exp(rng.uniform(np.log(3_000.0), np.log(70_000.0), n_modes))
        theta = rng.uniform(0.0, np.pi, n_modes)
        phase = rng.uniform(0.0, 2 * np.pi, n_modes)
        amp = (wavelength / 70_000.0) ** 0.9
        amp = amp / np.sqrt(np.sum(amp**2) / 2.0)
        k = 2 * np.pi / wavelength
        lon = np.array([ctr[0] for c in COUNTIES for ctr in c.centres])
        lat = np.array([ctr[1] for c in COUNTIES for ctr in c.centres])
        sig = np.array([ctr[2] for c in COUNTIES for ctr in c.centres]) * 1000.0
        vx, vy = region.to_m(lon, lat)
        return cls(
            k * np.cos(theta),
            k * np.sin(theta),
            phase,
            amp,
            np.column_stack([vx, vy]),
            3.0 * sig,
            region,
        )

    def noise(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        out = np.zeros(np.broadcast(x, y).shape)
        for kx, ky, ph, a in zip(self.kx, self.ky, self.phase, self.amp, strict=True):
            out += a * np.cos(kx * x + ky * y + ph)
        return out

    def noise_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """:meth:`noise` on the grid ``ys × xs`` (rows × columns), as one matrix product.

        ``cos(kx·x + ky·y + φ) = cos(kx·x + φ)·cos(ky·y) − sin(kx·x + φ)·sin(ky·y)``.
        """
        ax = np.outer(self.kx, xs) + self.phase[:, None]  # (K, W)
        ay = np.outer(ys, self.ky)  # (H, K)
        left = np.hstack([np.cos(ay) * self.amp, -np.sin(ay) * self.amp])  # (H, 2K)
        right = np.vstack([np.cos(ax), np.sin(ax)])  # (2K, W)
        return left @ right

    def elevation(self, x, y, coast_m: np.ndarray | None = None) -> np.ndarray:
        """Elevation (metres above sea level, float32) at metric points; 0 at sea."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        d = self.region.coast_distance(x, y) if coast_m is None else coast_m
        valley = np.zeros(np.broadcast(x, y).shape)
        for (vx, vy), s in zip(self.valley_xy, self.valley_sigma_m, strict=True):
            valley += np.exp(-((x - vx) ** 2 + (y - vy) ** 2) / (2 * s * s))
        return self._combine(d, self.noise(x, y), valley)

    def elevation_grid(
        self, xs: np.ndarray, ys: np.ndarray, coast_m: np.ndarray | None = None
    ) -> np.ndarray:
        """:meth:`elevation` on the grid ``ys × xs`` (same values, much faster)."""
        if coast_m is None:
            xx, yy = np.meshgrid(xs, ys)
            coast_m = self.region.coast_distance(xx, yy)
        valley = _gauss_grid(
            xs,
            ys,
            self.valley_xy[:, 0],
            self.valley_xy[:, 1],
            self.valley_sigma_m,
            np.ones(len(self.valley_sigma_m)),
        )
        return self._combine(coast_m, self.noise_grid(xs, ys), valley)

    @staticmethod
    def _combine(d: np.ndarray, n: np.ndarray, valley: np.ndarray) -> np.ndarray:
        dkm = d / 1000.0
        base = 900.0 * (1.0 - np.exp(-dkm / 40.0)) ** 1.6
        relief = 40.0 + 0.55 * base
        n = 2.2 * np.tanh(n / 2.2)
        elev = base + relief * n
        elev = elev * (1.0 - 0.8 * np.minimum(valley, 1.0))
        elev = np.maximum(elev, 2.0 + 1.5 * dkm)
        elev = np.where(d <= 0.0, 0.0, elev)
        return elev.astype(np.float32)


# ------------------------------------------------------------------------------------------------
# Population
# ------------------------------------------------------------------------------------------------


def _gaussians(
    x: np.ndarray,
    y: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    sigma: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    out = np.zeros(np.broadcast(x, y).shape)
    for px, py, s, w in zip(cx, cy, sigma, weight, strict=True):
        out += w * np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * s * s))
    return out


def _gauss_grid(
    xs: np.ndarray,
    ys: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    sigma: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """:func:`_gaussians` on the grid ``ys × xs``: each Gaussian is an outer product."""
    gx = np.exp(-((xs[None, :] - cx[:, None]) ** 2) / (2 * sigma[:, None] ** 2))  # (n, W)
    gy = np.exp(-((ys[None, :] - cy[:, None]) ** 2) / (2 * sigma[:, None] ** 2))  # (n, H)
    return (gy * weight[:, None]).T @ gx


@dataclass
class PopulationModel:
    """Population density = towns + villages + a thin countryside, calibrated per county.

    Three unnormalised components, each a function of position:

    * ``urban``: Gaussian town centres at the county seats and main towns (approximate real
      positions, :attr:`CountyDesign.centres`), weighted per centre;
    * ``villages``: one Gaussian bump (σ = 450 m, or 0.6 pixel on coarse rasters) per village seed,
      its mass set by the countryside density there (lowland villages are bigger);
    * ``diffuse``: ``exp(−d/25 km)·exp(−h/300 m)`` — a coastal gradient, thinning with height.

    On a raster, each county's pixels (pixel-centre rule) get ``a·urban + b·villages + c·diffuse``
    with ``a, b, c`` chosen so that the three parts hold ``urban_share``, ``1 − urban_share −
    10 %`` and 10 % of the county's published population: the raster total per county equals
    the yearbook figure exactly (up to float32 rounding).
    """

    region: Region
    terrain: Terrain
    seeds_xy: np.ndarray | None = None
    seed_mass: np.ndarray | None = None

    def _centres(self) -> tuple[np.ndarray, ...]:
        lon = np.array([ctr[0] for c in COUNTIES for ctr in c.centres])
        lat = np.array([ctr[1] for c in COUNTIES for ctr in c.centres])
        sig = np.array([ctr[2] for c in COUNTIES for ctr in c.centres]) * 1000.0
        w = np.array([ctr[3] for c in COUNTIES for ctr in c.centres])
        cx, cy = self.region.to_m(lon, lat)
        return cx, cy, sig, w

    def components(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """The town and countryside components (unnormalised), elevation and distance to the sea
        at metric points of any shape (the village bumps are added on grids only)."""
        cx, cy, sig, w = self._centres()
        coast = self.region.coast_distance(x, y)
        elev = self.terrain.elevation(x, y, coast).astype(np.float64)
        return {
            "urban": _gaussians(x, y, cx, cy, sig, w),
            "diffuse": np.exp(-coast / 25_000.0) * np.exp(-elev / 300.0) + 0.01,
            "elevation": elev,
            "coast": coast,
        }

    def components_grid(self, grid: Grid) -> dict[str, np.ndarray]:
        """:meth:`components` at the pixel centres of ``grid`` (fast, separable); cached."""
        key = (grid.crs.to_string(), tuple(grid.transform)[:6], grid.shape)
        cache = self.__dict__.setdefault("_grid_cache", {})
        if key not in cache:
            if grid.crs != DEMO_CRS:
                raise ValueError(f"components_grid needs a grid in {DEMO_CRS}, got {grid.crs}")
            xs, ys = grid.centres()
            xx, yy = np.meshgrid(xs, ys)
            coast = self.region.coast_distance(xx, yy)
            del xx, yy
            elev = self.terrain.elevation_grid(xs, ys, coast).astype(np.float64)
            cx, cy, sig, w = self._centres()
            cache.clear()  # keep one grid at a time (memory)
            cache[key] = {
                "urban": _gauss_grid(xs, ys, cx, cy, sig, w),
                "diffuse": np.exp(-coast / 25_000.0) * np.exp(-elev / 300.0) + 0.01,
                "elevation": elev,
                "coast": coast,
            }
        return cache[key]

    def bumps_on_grid(self, grid: Grid, sigma: float) -> np.ndarray:
        """Village bumps summed on a grid, each over a window of ±4σ (fast for many villages)."""
        out = np.zeros(grid.shape)
        if self.seeds_xy is None or len(self.seeds_xy) == 0:
            return out
        xc, yc = grid.centres()
        for (px, py), m in zip(self.seeds_xy, self.seed_mass, strict=True):
            win = grid.window_around(px, py, 4.0 * sigma)
            if win is None:
                continue
            rs, cs = win.slices
            dx = xc[cs] - px
            dy = yc[rs] - py
            out[rs, cs] += m * np.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (2 * sigma * sigma))
        return out

    def raster(self, grid: Grid, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Persons per pixel on ``grid`` (float64) calibrated per county, and the county labels.

        Pixels outside the administered counties are 0 (label 0).
        """
        if labels is None:
            labels = county_labels(self.region, grid)
        comp = dict(self.components_grid(grid))
        sigma = max(VILLAGE_SIGMA_M, 0.6 * grid.resolution_m)
        comp["villages"] = self.bumps_on_grid(grid, sigma)
        pop = calibrate(labels, comp)
        return pop, labels


def calibrate(labels: np.ndarray, comp: dict[str, np.ndarray]) -> np.ndarray:
    """Combine the components so each county's pixels sum to its published population."""
    n = len(COUNTIES)
    flat = labels.ravel()
    pop = np.zeros(labels.size)
    sums = {
        k: np.bincount(flat, weights=comp[k].ravel(), minlength=n + 1)
        for k in ("urban", "villages", "diffuse")
    }
    coef = np.zeros((3, n + 1))
    for i, c in enumerate(COUNTIES, start=1):
        coef[:, i] = _coefficients(c, sums["urban"][i], sums["villages"][i], sums["diffuse"][i])
    for j, k in enumerate(("urban", "villages", "diffuse")):
        pop += coef[j][flat] * comp[k].ravel()
    return pop.reshape(labels.shape)


def _coefficients(c: CountyDesign, su: float, sv: float, sd: float) -> np.ndarray:
    total = float(c.population)
    shares = np.array([c.urban_share, 1.0 - c.urban_share - DIFFUSE_SHARE, DIFFUSE_SHARE])
    sums = np.array([su, sv, sd])
    # A component with no mass on this raster (e.g. no village yet) hands its share to the others.
    shares = np.where(sums > 0, shares, 0.0)
    if shares.sum() <= 0:
        return np.zeros(3)
    shares = shares / shares.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums > 0, shares * total / sums, 0.0)
