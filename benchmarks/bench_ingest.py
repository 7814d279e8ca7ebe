"""Ingest speed: reading a large, seeded site list (CSV, Chinese headers) into the cells table.

Usage: python benchmarks/bench_ingest.py [--quick] [--rows N]

Generates N site rows (default 1,000,000; --quick 100,000) spread over Quanzhou's counties, with
about 1 % deliberately bad rows (non-numeric coordinates, unknown technology, duplicates, swapped
lat/lon, out-of-range heights, cells not yet commissioned), then in a fresh subprocess each:

* ``reference`` — ``pandas.read_csv(..., dtype=str, engine="pyarrow")`` of the same file: the
  floor any CSV ingest pays;
* ``ingest``    — ``gigacov.ingest.sites.read_sites`` (encoding detection, alias matching,
  parsing, CRS, region and county tests, every check, the cells table).

Reports seconds, rows per second, the ratio ingest / reference, and each subprocess's peak
resident memory. Writes bench-results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, save  # noqa: E402


def generate(path: Path, n: int, seed: int = 20240501) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from gigacov.scenario import default_boundaries_path

    rng = np.random.default_rng(seed)
    b = gpd.read_file(default_boundaries_path())
    q = b[(b.level == "county") & b.admin_code.str.startswith("3505") & (b.admin_code != "350527")]
    union = q.union_all()
    minx, miny, maxx, maxy = union.bounds
    n_sites = n // 3 + 1
    xs, ys = [], []
    while sum(len(v) for v in xs) < n_sites:
        x = rng.uniform(minx, maxx, n_sites)
        y = rng.uniform(miny, maxy, n_sites)
        m = shapely.contains_xy(union, x, y)
        xs.append(x[m])
        ys.append(y[m])
    sx = np.concatenate(xs)[:n_sites]
    sy = np.concatenate(ys)[:n_sites]
    site = np.arange(n) // 3
    sector = np.arange(n) % 3
    tech = rng.choice(np.array(["5G", "NR", "LTE", "4G"]), n)
    band = np.where(
        np.isin(tech, ["5G", "NR"]),
        rng.choice(np.array(["n78", "n41", "n28"]), n),
        rng.choice(np.array(["B3", "B1", "B8", "B39"]), n),
    )
    df = pd.DataFrame(
        {
            "基站ID": np.char.add("QZ", site.astype(str)),
            "小区ID": sector + 1,
            "基站名称": np.char.add("泉州站点", site.astype(str)),
            "经度": np.round(sx[site], 6),
            "纬度": np.round(sy[site], 6),
            "网络制式": tech,
            "频段": band,
            "方位角": (sector * 120 + rng.integers(0, 30, n)) % 360,
            "天线挂高(m)": np.round(rng.uniform(15, 45, n), 1),
            "总下倾角": rng.integers(2, 12, n),
            "EIRP": np.round(rng.uniform(55, 65, n), 1),
            "开通日期": rng.choice(
                np.array(["2019-11-01", "2020/6/30", "2021年3月", "2022", "2023-09-15"]), n
            ),
            "运营商": rng.choice(np.array(["中国移动", "中国联通", "中国电信", "中国广电"]), n),
        }
    )
    # ~1 % bad rows, each of a known kind
    bad = rng.choice(n, n // 100, replace=False)
    kinds = np.array_split(bad, 6)
    df["经度"] = df["经度"].astype(object)
    df.loc[kinds[0], "经度"] = "abc"
    df.loc[kinds[1], "网络制式"] = "GSM"
    df.loc[kinds[2], "天线挂高(m)"] = -5
    df.loc[kinds[3], "开通日期"] = "2030-01-01"
    lon = df.loc[kinds[4], "经度"].to_numpy()
    df.loc[kinds[4], "经度"] = df.loc[kinds[4], "纬度"].to_numpy()
    df.loc[kinds[4], "纬度"] = lon.astype(float)
    df.loc[kinds[5], "小区ID"] = (
        df.loc[kinds[5] - 1, "小区ID"].to_numpy()
        if kinds[5].min() > 0
        else df.loc[kinds[5], "小区ID"]
    )
    df.to_csv(path, index=False, encoding="utf-8")


def worker(kind: str, path: str) -> None:
    import pandas as pd

    t0 = time.perf_counter()
    if kind == "reference":
        df = pd.read_csv(path, dtype=str, engine="pyarrow", keep_default_na=False)
        rows, used = len(df), len(df)
        extra = {}
    else:
        from gigacov.ingest._common import Rejects
        from gigacov.ingest.boundaries import read_boundaries
        from gigacov.ingest.sites import read_sites
        from gigacov.scenario import scenario_from_dict

        scn = scenario_from_dict(
            {
                "scenario": {"name": "bench", "year": 2024, "region": "350500"},
                "sites": {"path": path},
            }
        )
        rejects = Rejects()
        t_b = time.perf_counter()
        bnd = read_boundaries(scn, rejects, {})
        t_b = time.perf_counter() - t_b
        t0 = time.perf_counter()
        res = read_sites(scn, bnd.region, rejects, {})
        rows, used = res.report.read, res.report.used
        rej = rejects.frame()
        extra = {
            "boundaries_s": round(t_b, 3),
            "rejected": int(len(rej)),
            "reasons": rej["reason"].value_counts().to_dict(),
            "fixed": res.report.fixed,
        }
    dt = time.perf_counter() - t0
    print(
        json.dumps(
            {"seconds": dt, "rows": rows, "used": used, "peak_rss_mb": peak_rss_mb(), **extra}
        )
    )


def run(kind: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"))
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    n = args.rows or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sites.csv"
        t0 = time.perf_counter()
        generate(path, n)
        gen_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 2**20
        ref = run("reference", path)
        ing = run("ingest", path)
    ratio = ing["seconds"] / ref["seconds"]
    print(f"site rows: {n:,}  (CSV {size_mb:.0f} MiB, generated in {gen_s:.1f} s; ~1 % bad rows)")
    print(f"{'step':<12}{'seconds':>10}{'rows/s':>14}{'peak RSS MiB':>15}")
    for name, r in (("read_csv", ref), ("ingest", ing)):
        print(
            f"{name:<12}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>14,.0f}{r['peak_rss_mb']:>15.0f}"
        )
    print(f"ingest / read_csv time ratio: {ratio:.1f}×")
    print(
        f"used {ing['used']:,} of {ing['rows']:,}; rejected {ing['rejected']:,} {ing['reasons']}; fixed {ing['fixed']}"
    )
    print("(timings on a shared 2-core machine; other work may be running)")
    figures = {
        "rows": n,
        "csv_mib": round(size_mb, 1),
        "reference_read_csv_s": round(ref["seconds"], 3),
        "ingest_s": round(ing["seconds"], 3),
        "ingest_rows_per_s": round(ing["rows"] / ing["seconds"]),
        "ratio_ingest_to_read_csv": round(ratio, 2),
        "peak_rss_mb_reference": round(ref["peak_rss_mb"]),
        "peak_rss_mb_ingest": round(ing["peak_rss_mb"]),
        "boundaries_s": ing["boundaries_s"],
        "used": ing["used"],
        "rejected": ing["rejected"],
        "reasons": ing["reasons"],
        "fixed": ing["fixed"],
    }
    print(f"results → {save('ingest', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
