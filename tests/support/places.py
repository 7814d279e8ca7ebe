"""Real places and small scenario folders on the shipped Fujian boundaries."""

from __future__ import annotations

from pathlib import Path

#: Points inside Quanzhou's county-level units (lon, lat, WGS 84).
JINJIANG = (118.5501, 24.7083)  # 晋江市 350582
FENGZE = (118.6438, 24.9237)  # 丰泽区 350503

#: A few 5G sites inside 晋江市: (site id, lon, lat).
JINJIANG_SITES = (
    ("J1", 118.5501, 24.7083),
    ("J2", 118.5800, 24.7400),
    ("J3", 118.5200, 24.6800),
    ("J4", 118.6000, 24.7000),
)


def write_county_scenario(
    folder: Path,
    *,
    name: str = "jinjiang-small",
    region: str = "350582",
    resolution_m: float = 500.0,
    sites: tuple[tuple[str, float, float], ...] = JINJIANG_SITES,
    out_dir: str = "run",
    extra: str = "",
) -> Path:
    """Write a small scenario on the shipped boundaries (one county, a few 5G sites, 5G only).

    No population raster and no broadband statistics: what needs them is ``no_data``. ``extra``
    is appended to the TOML as it is (more sections or keys). Returns the scenario's path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{sid},{sid}-1,{lon},{lat},5G,{az}" for sid, lon, lat in sites for az in (0, 120, 240)]
    (folder / "sites.csv").write_text(
        "site_id,cell_id,lon,lat,tech,azimuth_deg\n"
        + "\n".join(r.replace("-1,", f"-{i},", 1) for i, r in enumerate(rows))
        + "\n",
        "utf-8",
    )
    toml = (
        f'[scenario]\nname = "{name}"\nyear = 2024\nsynthetic = true\nregion = "{region}"\n'
        f'standards = ["miit-gigabit-city-2021"]\nout_dir = "{out_dir}"\n'
        '[sites]\npath = "sites.csv"\n'
        f'[grid]\nresolution_m = {resolution_m}\ncrs = "EPSG:32650"\n'
        '[radio]\ntechnologies = ["5G"]\n'
        "[compute]\nprogress = false\n" + extra
    )
    path = folder / "scenario.toml"
    path.write_text(toml, "utf-8")
    return path
