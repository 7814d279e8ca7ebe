"""Field truth: measurements ingest, field check, calibration, disputed areas, speed tests."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest

from gigacov.errors import ConfigError
from gigacov.field import binomial_sf, disputed_hexagons, error_stats, huber_fit
from gigacov.field.calibration import read_calibration, spatial_folds
from gigacov.field.speed import speed_tests_by_county
from gigacov.pipeline import run
from gigacov.scenario import load_scenario

# 鲤城区 (Quanzhou): a small real county, so the grid stays about 130 × 100 pixels at 100 m.
REGION = "350502"
CENTRE = (118.545, 24.910)


# ------------------------------------------------------------------------------------------------
# Statistics worked out on paper
# ------------------------------------------------------------------------------------------------


def test_binomial_tail_worked_on_paper():
    # P(X ≥ 3 | n = 10, p = 0.1) = 1 − (0.9¹⁰ + 10·0.1·0.9⁹ + 45·0.01·0.9⁸)
    #                            = 1 − (0.3486784401 + 0.387420489 + 0.1937102445) = 0.0701908264
    assert binomial_sf(3, 10, 0.1) == pytest.approx(0.0701908264, abs=1e-12)
    # P(X ≥ 4) = 0.0701908264 − C(10,3)·0.1³·0.9⁷ = 0.0701908264 − 0.057395628 = 0.0127951984
    assert binomial_sf(4, 10, 0.1) == pytest.approx(0.0127951984, abs=1e-12)
    assert binomial_sf(0, 10, 0.1) == 1.0
    assert binomial_sf(11, 10, 0.1) == 0.0
    assert binomial_sf(10, 10, 0.1) == pytest.approx(1e-10, rel=1e-9)  # 0.1¹⁰
    np.testing.assert_allclose(binomial_sf([3, 4], [10, 10], 0.1), [0.0701908264, 0.0127951984])


def _hex_samples(hex_id: str, n: int, n_not_covered: int, pred_covered: bool) -> pd.DataFrame:
    lat, lon = h3.cell_to_latlng(hex_id)
    return pd.DataFrame(
        {
            "lon": np.full(n, lon),
            "lat": np.full(n, lat),
            "tech": "5G",
            "meas_covered": np.arange(n) >= n_not_covered,
            "pred_covered": np.full(n, pred_covered),
            "error_rsrp_db": np.zeros(n),
            "admin_code": REGION,
        }
    )


def test_disputed_decision_follows_the_worked_binomial_case():
    a = h3.latlng_to_cell(24.91, 118.54, 8)
    b = h3.latlng_to_cell(24.93, 118.58, 8)
    c = h3.latlng_to_cell(24.89, 118.52, 8)
    d = h3.latlng_to_cell(24.90, 118.57, 8)
    assert len({a, b, c, d}) == 4
    samples = pd.concat(
        [
            _hex_samples(a, 10, 3, True),  # p = 0.0702 ≥ 0.05: not disputed
            _hex_samples(b, 10, 4, True),  # p = 0.0128 < 0.05: disputed
            _hex_samples(c, 9, 9, True),  # fewer than 10 samples: not tested
            _hex_samples(d, 10, 6, False),  # predicted not covered, 4 of 10 measured covered
        ],
        ignore_index=True,
    )
    hexes = disputed_hexagons(samples, resolution=8, min_samples=10, share=0.1, confidence=0.95)
    by = hexes.set_index("hex_id")
    assert by.loc[a, "p_value"] == pytest.approx(0.0701908264)
    assert not by.loc[a, "disputed"]
    assert by.loc[b, "disputed"] and by.loc[b, "dispute"] == "predicted_covered_measured_not"
    assert not by.loc[c, "tested"] and not by.loc[c, "disputed"]
    assert by.loc[d, "predicted_verdict"] == "not_covered"
    assert by.loc[d, "p_value"] == pytest.approx(0.0127951984)
    assert by.loc[d, "dispute"] == "predicted_not_measured_covered"
    assert by.loc[b, "share_measured_not_covered"] == pytest.approx(0.4)


def test_h3_aggregation_matches_h3_directly():
    rng = np.random.default_rng(3)
    lon = 118.5 + 0.1 * rng.random(500)
    lat = 24.85 + 0.1 * rng.random(500)
    samples = pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "tech": "5G",
            "meas_covered": rng.random(500) < 0.7,
            "pred_covered": True,
            "error_rsrp_db": rng.normal(size=500),
            "admin_code": REGION,
        }
    )
    hexes = disputed_hexagons(samples, resolution=8, min_samples=1)
    direct = pd.Series([h3.latlng_to_cell(la, lo, 8) for lo, la in zip(lon, lat, strict=True)])
    counts = direct.value_counts()
    assert set(hexes["hex_id"]) == set(counts.index)
    assert hexes.set_index("hex_id")["n"].sort_index().equals(counts.sort_index().rename("n"))
    assert int(hexes["n"].sum()) == 500
    for row in hexes.head(5).itertuples():
        ring = [(lo, la) for la, lo in h3.cell_to_boundary(row.hex_id)]
        assert np.allclose(np.asarray(row.geometry.exterior.coords)[:-1], ring)
        assert h3.get_resolution(row.hex_id) == 8
        la, lo = h3.cell_to_latlng(row.hex_id)
        assert row.geometry.contains(gpd.points_from_xy([lo], [la])[0])


def test_error_stats_and_robust_fit():
    e = np.array([1.0, -1.0, 3.0, np.nan])
    s = error_stats(e, np.array([True, False, True, True]))
    assert s["n"] == 3
    assert s["mean_error_db"] == pytest.approx(1.0)
    assert s["std_db"] == pytest.approx(2.0)  # deviations 0, −2, 2 → √(8/2)
    assert s["rmse_db"] == pytest.approx(math.sqrt(11 / 3))
    assert s["verdict_agreement"] == pytest.approx(2 / 3)
    rng = np.random.default_rng(1)
    y = 5.0 + rng.normal(0, 2, 2000)
    y[:40] += 60.0  # 2 % gross outliers
    X = np.ones((2000, 1))
    beta, w, scale = huber_fit(X, y)
    assert beta[0] == pytest.approx(5.0, abs=0.2)  # the mean would be 6.2
    assert y.mean() > 6.1
    assert (w[:40] < 0.1).all()
    assert scale == pytest.approx(2.0, rel=0.1)


def test_spatial_folds_keep_blocks_together():
    rng = np.random.default_rng(0)
    x = rng.random(3000) * 20000
    y = rng.random(3000) * 20000
    fold, n_blocks, k = spatial_folds(x, y, 5000.0, 5)
    assert n_blocks == 16 and k == 5
    block = (x // 5000).astype(int) * 10 + (y // 5000).astype(int)
    for b in np.unique(block):
        assert len(set(fold[block == b])) == 1
    assert set(fold) == set(range(5))


def test_speed_tests_compared_with_reported_shares():
    samples = pd.DataFrame(
        {
            "tech": ["fixed"] * 10 + ["5G"],
            "download_mbps": [1200, 950, 600, 520, 300, 100, 1100, 80, 60, 40, 900],
            "admin_code": [REGION] * 11,
        }
    )
    counties = pd.DataFrame(
        {
            "admin_code": [REGION],
            "name": ["鲤城区"],
            "users_500m_share": [0.3],
            "users_1000m_share": [0.2],
        }
    )
    (entry,) = speed_tests_by_county(samples, counties, disagreement_pp=10)
    assert entry["tests"] == 10
    assert entry["share_500_tests"] == pytest.approx(0.5)  # 1200, 950, 600, 520, 1100
    assert entry["share_1000_tests"] == pytest.approx(0.2)
    assert entry["gap_500_pp"] == pytest.approx(20.0)
    assert len(entry["notes"]) == 1 and "500 Mbps+" in entry["notes"][0]


# ------------------------------------------------------------------------------------------------
# Scenario helpers
# ------------------------------------------------------------------------------------------------


def _write_sites(path, operators=("中国移动",)):
    rows = []
    offsets = [(-0.03, -0.01), (0.0, 0.015), (0.03, -0.015), (0.01, -0.03), (-0.02, 0.025)]
    for i, (dx, dy) in enumerate(offsets):
        for j, op in enumerate(operators):
            rows.append(
                {
                    "站号": f"S{i}-{j}",
                    "小区名称": f"C{i}-{j}",
                    "经度": CENTRE[0] + dx + 0.002 * j,
                    "纬度": CENTRE[1] + dy,
                    "制式": "NR",
                    "运营商": op,
                    "频段": "n78" if op != "中国移动" else "n41",
                    "带宽": 100,
                    "挂高": 30,
                    "EIRP(dBm)": 55,
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8")


def _scenario(tmp_path, name, extra=""):
    text = f"""
[scenario]
name = "{name}"
year = 2024
region = "{REGION}"
out_dir = "runs/{name}"
standards = ["miit-gigabit-city-2021"]

[sites]
path = "sites.csv"

[grid]
resolution_m = 100

[radio]
model = "free-space"
technologies = ["5G"]
max_radius_m = 5000
{extra}
"""
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _sample_points(cov, rng, n):
    """Random sample positions at pixels that have a server, inside the grid (WGS84)."""
    grid = cov.grid
    rows, cols = np.nonzero(np.isfinite(cov.rsrp_dbm))
    pick = rng.choice(rows.size, n, replace=True)
    r, c = rows[pick], cols[pick]
    res = grid.resolution_m
    x = grid.transform.c + (c + rng.random(n)) * res
    y = grid.transform.f - (r + rng.random(n)) * res
    lon, lat = grid.xy_to_lonlat(x, y)
    return lon, lat, cov.rsrp_dbm[r, c].astype(np.float64)


# ------------------------------------------------------------------------------------------------
# Measurements ingest
# ------------------------------------------------------------------------------------------------


def test_bad_measurement_rows_are_rejected_with_reasons(tmp_path):
    from gigacov.ingest import load_inputs

    _write_sites(tmp_path / "sites.csv")
    lines = [
        "2024年鲤城区5G路测数据（合成）",
        "经度,纬度,NR_SS-RSRP,SS-SINR,下载速率(kbps),网络制式,时间,室内外",
        f"{CENTRE[0]},{CENTRE[1]},-90.5,12,350000,NR,2024-05-01 10:00:00,室外",  # row 3: ok
        f"{CENTRE[0]},{CENTRE[1]},-160,5,,NR,2024-05-01 10:00:01,室外",  # 4: RSRP out of range
        f"{CENTRE[0]},{CENTRE[1]},-100,45,,NR,2024-05-01 10:00:02,室外",  # 5: SINR out of range
        f"{CENTRE[0]},{CENTRE[1]},,,,NR,2024-05-01 10:00:03,室外",  # 6: no value at all
        f"{CENTRE[0]},{CENTRE[1]},abc,3,,NR,2024-05-01 10:00:04,室外",  # 7: not a number
        "121.5,31.2,-95,3,,NR,2024-05-01 10:00:05,室外",  # 8: Shanghai, outside
        f"{CENTRE[1]},{CENTRE[0]},-95,3,,NR,2024-05-01 10:00:06,室外",  # 9: lat/lon exchanged
        f"{CENTRE[0]},{CENTRE[1]},-95,3,,WiFi,2024-05-01 10:00:07,室外",  # 10: unknown tech
        f"{CENTRE[0]},{CENTRE[1]},-95,3,,NR,yesterday-ish,室外",  # 11: bad time
        f"{CENTRE[0]},{CENTRE[1]},-101,-2,,LTE,2024-05-01 10:00:09,室内",  # 12: ok, 4G, indoor
        f"{CENTRE[0]},{CENTRE[1]},,,980000,宽带,2024-05-01 10:00:10,",  # 13: ok, fixed test
        f"{CENTRE[0]},{CENTRE[1]},-88,,,,,",  # 14: ok, tech from the header (NR → 5G)
    ]
    (tmp_path / "dt.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    scn = load_scenario(_scenario(tmp_path, "ingest", '\n[measurements]\npath = "dt.csv"\n'))
    inputs = load_inputs(scn)
    rej = inputs.rejected[inputs.rejected["file"].str.endswith("dt.csv")]
    reasons = dict(zip(rej["row"], rej["reason"], strict=True))
    assert reasons == {
        4: "out_of_range",
        5: "out_of_range",
        6: "missing_value",
        7: "not_a_number",
        8: "outside_region",
        9: "lat_lon_swapped",
        10: "unknown_technology",
        11: "bad_date",
    }
    msg = rej.set_index("row")["message"]
    assert "−156 … −31".replace("−", "-") in msg[4]
    assert "-23 … 40" in msg[5]
    assert (rej.set_index("row").loc[4, "column"]) == "NR_SS-RSRP"
    rep = next(r for r in inputs.reports if r.input == "measurements")
    assert (rep.read, rep.used, rep.rejected) == (12, 4, 8)
    s = inputs.measurements.set_index("source_row")
    assert list(s.index) == [3, 12, 13, 14]
    assert s.loc[3, "download_mbps"] == pytest.approx(350.0)  # kbps header → Mbit/s
    assert s.loc[13, "download_mbps"] == pytest.approx(980.0)
    assert list(s["tech"]) == ["5G", "4G", "fixed", "5G"]
    assert list(s["indoor"]) == [False, True, False, False]
    assert (s["admin_code"] == REGION).all()
    assert s.loc[3, "time"] == pd.Timestamp("2024-05-01 10:00:00")


def test_gcj02_measurements_are_converted(tmp_path):
    from gigacov.crs import wgs84_to_gcj02
    from gigacov.ingest import load_inputs

    _write_sites(tmp_path / "sites.csv")
    lon, lat = np.array([CENTRE[0]]), np.array([CENTRE[1]])
    glon, glat = wgs84_to_gcj02(lon, lat)
    pd.DataFrame({"lng": glon, "lat": glat, "RSRP": [-90.0]}).to_csv(
        tmp_path / "amap.csv", index=False
    )
    scn = load_scenario(
        _scenario(tmp_path, "gcj", '\n[measurements]\npath = "amap.csv"\ncrs = "gcj02"\n')
    )
    m = load_inputs(scn).measurements
    assert m["lon"].iloc[0] == pytest.approx(CENTRE[0], abs=1e-5)
    assert m["lat"].iloc[0] == pytest.approx(CENTRE[1], abs=1e-5)
    assert abs(glon[0] - CENTRE[0]) > 1e-3  # the shift was real


# ------------------------------------------------------------------------------------------------
# Known answer: free space + a fixed extra loss + Gaussian shadowing of known σ
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known_answer(tmp_path_factory):
    from gigacov.pipeline import calibrate

    tmp = tmp_path_factory.mktemp("known")
    _write_sites(tmp / "sites.csv")
    base = run(_scenario(tmp, "base"), until="coverage")
    cov = base.coverage["5G"]
    rng = np.random.default_rng(42)
    extra_loss, sigma = 8.0, 4.0
    lon, lat, pred = _sample_points(cov, rng, 3000)
    measured = pred - extra_loss + rng.normal(0.0, sigma, pred.size)
    keep = measured > -150
    pd.DataFrame(
        {"经度": lon[keep], "纬度": lat[keep], "SS-RSRP": np.round(measured[keep], 2)}
    ).to_csv(tmp / "dt-synthetic.csv", index=False)
    meas = '\n[measurements]\npath = "dt-synthetic.csv"\ncv_block_m = 2000\n'
    cal, paths = calibrate(_scenario(tmp, "fit", meas))
    return {"tmp": tmp, "base": base, "cal": cal, "paths": paths, "L": extra_loss, "sigma": sigma}


def test_calibration_recovers_known_offset_and_sigma(known_answer):
    cal, L, sigma = known_answer["cal"], known_answer["L"], known_answer["sigma"]
    # No population and no clutter raster: every pixel is suburban.
    assert cal["offsets_db"]["suburban"] == pytest.approx(L, abs=0.5)
    assert cal["offsets_db"]["urban"] == 0.0 and cal["offsets_db"]["rural"] == 0.0
    assert cal["before"]["rmse_db"] == pytest.approx(math.hypot(L, sigma), rel=0.08)
    assert cal["after"]["rmse_db"] == pytest.approx(sigma, rel=0.08)
    assert cal["after"]["mean_error_db"] == pytest.approx(0.0, abs=0.5)
    t = cal["technologies"]["5G"]
    assert t["cv"]["folds"] == 5 and t["cv"]["blocks"] >= 5
    doc = json.loads(known_answer["paths"]["calibration_json"].read_text("utf-8"))
    for key in ("n", "offsets_db", "before", "after"):
        assert key in doc
    for key in ("mean_error_db", "std_db", "rmse_db"):
        assert key in doc["before"] and key in doc["after"]


def test_applying_the_calibration_shifts_rsrp_by_the_offset(known_answer):
    tmp = known_answer["tmp"]
    toml = known_answer["paths"]["calibration_toml"]
    off = read_calibration(toml, "5G", "free-space")[0][1]
    assert off == pytest.approx(known_answer["cal"]["offsets_db"]["suburban"], abs=1e-3)
    scn = _scenario(tmp, "applied", f'calibration = "{toml.as_posix()}"')
    res = run(scn, until="coverage")
    a = known_answer["base"].coverage["5G"].rsrp_dbm
    b = res.coverage["5G"].rsrp_dbm
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 1000
    np.testing.assert_allclose(b[both], a[both] - off, atol=1e-3)
    manifest = json.loads((res.run_dir / "manifest.json").read_text("utf-8"))
    assert manifest["calibration"]["5G"]["file"] == str(toml)
    with pytest.raises(ConfigError, match="fitted for \\[radio\\] model = 'free-space'"):
        read_calibration(toml, "5G", "auto")


def test_calibration_file_errors_name_the_key(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('[calibration."5G"]\noffsets_db = { urbn = 3.0 }\n', "utf-8")
    with pytest.raises(ConfigError, match="unknown clutter class 'urbn'"):
        read_calibration(bad, "5G", "auto")
    bad.write_text('[calibration."5G"]\noffsets_db = { urban = "x" }\n', "utf-8")
    with pytest.raises(ConfigError, match="urban: 'x' is not a number"):
        read_calibration(bad, "5G", "auto")
    assert read_calibration(bad, "4G", "auto") == ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    with pytest.raises(ConfigError, match="does not exist"):
        read_calibration(tmp_path / "none.toml", "5G", "auto")


# ------------------------------------------------------------------------------------------------
# The field stage of a run; per-operator predictions
# ------------------------------------------------------------------------------------------------


def test_run_writes_field_outputs_that_agree(known_answer):
    tmp = known_answer["tmp"]
    meas = (
        '\n[measurements]\npath = "dt-synthetic.csv"\ncv_block_m = 2000\ndisputed_min_samples = 5\n'
    )
    res = run(_scenario(tmp, "stage", meas), until="check")
    fc = json.loads((res.run_dir / "field_check.json").read_text("utf-8"))
    cal = json.loads((res.run_dir / "calibration.json").read_text("utf-8"))
    hexes = gpd.read_file(res.run_dir / "disputed.gpkg", layer="hexagons")
    samples = gpd.read_file(res.run_dir / "disputed.gpkg", layer="samples")
    t = fc["technologies"]["5G"]
    assert t["n"] == len(samples) == cal["n"] == fc["status"]["compared"]
    assert t["rsrp"]["overall"]["mean_error_db"] == pytest.approx(known_answer["L"], abs=0.5)
    assert t["rsrp"]["overall"]["rmse_db"] == pytest.approx(cal["before"]["rmse_db"], rel=1e-9)
    assert set(t["rsrp"]["by_clutter"]) == {"suburban"}
    # samples in the grid's margin, outside the county, are counted apart
    assert set(t["rsrp"]["by_county"]) <= {f"{REGION} 鲤城区", "(outside the counties)"}
    assert t["rsrp"]["by_county"][f"{REGION} 鲤城区"]["n"] > t["n"] / 2
    assert sum(v["n"] for v in t["rsrp"]["by_distance_band"].values()) == t["n"]
    d = fc["disputed"]
    assert d["hexagons"] == len(hexes) and int(hexes["n"].sum()) == len(samples)
    assert d["disputed_predicted_covered_measured_not"] == int(
        (hexes["dispute"] == "predicted_covered_measured_not").sum()
    )
    assert set(samples["hex_id"]) == set(hexes["hex_id"])
    # The model is 8 dB optimistic, so some covered hexagons must be disputed.
    assert d["disputed_predicted_covered_measured_not"] > 0
    assert fc["calibration"]["offsets_db"] == cal["offsets_db"]
    man = json.loads((res.run_dir / "manifest.json").read_text("utf-8"))
    assert man["field"]["samples"] == fc["samples"]
    assert man["calibration"]["5G"] is None
    assert res.outputs["disputed"].name == "disputed.gpkg"


def test_operator_samples_are_compared_with_their_operators_cells(tmp_path):
    from gigacov.radio import compute_coverage

    _write_sites(tmp_path / "sites.csv", operators=("中国移动", "中国电信", "中国联通"))
    base = run(_scenario(tmp_path, "ops"), until="coverage")
    cov = base.coverage["5G"]
    rng = np.random.default_rng(5)
    lon, lat, _ = _sample_points(cov, rng, 60)
    ops = np.array(["中国联通"] * 20 + ["中国移动"] * 20 + [""] * 20, dtype=object)
    pd.DataFrame({"经度": lon, "纬度": lat, "RSRP": -95.0, "运营商": ops}).to_csv(
        tmp_path / "dt.csv", index=False
    )
    shared = '\nshared = [["中国电信", "中国联通", "n78"]]\n'
    res = run(
        _scenario(tmp_path, "ops2", shared + '\n[measurements]\npath = "dt.csv"\n'),
        until="check",
    )
    s = res.field_result.check.samples
    assert list(s["basis"][:20].unique()) == ["China Unicom"]
    assert list(s["basis"][20:40].unique()) == ["China Mobile"]
    assert list(s["basis"][40:].unique()) == ["all operators"]
    grid = res.grid
    cov = res.coverage["5G"]
    for label, names in (
        ("China Unicom", {"China Telecom", "China Unicom"}),  # shared n78: both serve 联通
        ("China Mobile", {"China Mobile"}),
    ):
        cells = cov.cells[cov.cells["operator"].isin(names)].reset_index(drop=True)
        alone = compute_coverage(cells, grid, cov.params)
        part = s[s["basis"] == label]
        want = alone.rsrp_dbm[part["row"].to_numpy(), part["col"].to_numpy()]
        np.testing.assert_allclose(part["pred_rsrp_dbm"].to_numpy(), want, atol=1e-4)
    # Without [radio] per_operator the field check computes the operator rasters itself: same values.
    res2 = run(
        _scenario(
            tmp_path,
            "ops3",
            shared + "per_operator = false\n" + '\n[measurements]\npath = "dt.csv"\n',
        ),
        until="check",
    )
    s2 = res2.field_result.check.samples
    np.testing.assert_allclose(
        s2["pred_rsrp_dbm"].to_numpy(), s["pred_rsrp_dbm"].to_numpy(), atol=1e-4
    )
    rest = s[s["basis"] == "all operators"]
    np.testing.assert_array_equal(
        rest["pred_rsrp_dbm"].to_numpy(), cov.rsrp_dbm[rest["row"], rest["col"]]
    )


# ------------------------------------------------------------------------------------------------
# Report section and map layers
# ------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_report_section_and_map_layers_show_the_field_check(known_answer, tmp_path, monkeypatch):
    from support.map_browser import check_map

    monkeypatch.chdir(tmp_path)  # the map goes to ./maps/
    tmp = known_answer["tmp"]
    toml = known_answer["paths"]["calibration_toml"]
    meas = (
        f'calibration = "{toml.as_posix()}"\n'
        '\n[measurements]\npath = "dt-synthetic.csv"\ncv_block_m = 2000\ndisputed_min_samples = 5\n'
    )
    res = run(_scenario(tmp, "shown", meas), skip={"plan"})
    html = res.outputs["report"].read_text("utf-8")
    assert 'id="field-check"' in html and "实测对比" in html and "field check" in html
    # A run that applies a calibration says so in its report and manifest.
    assert 'id="calibration-applied"' in html and str(toml) in html
    man = json.loads((res.run_dir / "manifest.json").read_text("utf-8"))
    assert man["calibration"]["5G"]["offsets_db"][1] == pytest.approx(
        known_answer["cal"]["offsets_db"]["suburban"], abs=1e-3
    )
    fc = json.loads((res.run_dir / "field_check.json").read_text("utf-8"))
    # Calibrated, the model is no longer 8 dB optimistic.
    assert abs(fc["technologies"]["5G"]["rsrp"]["overall"]["mean_error_db"]) < 0.5
    assert fc["calibration_applied"]["5G"]["file"] == str(toml)
    section = html[html.index('id="field-check"') :]
    assert section.count("data:image/png;base64,") >= 2  # scatter and histogram
    n = fc["technologies"]["5G"]["n"]
    assert f"{n:,}" in section
    hexes = gpd.read_file(res.run_dir / "disputed.gpkg", layer="hexagons")
    stats = check_map(
        res.outputs["map"],
        layers=[
            "实测样本 RSRP 误差 / Field samples — RSRP error",
            "争议区域（实测与预测不符） / Disputed areas (measurements vs prediction)",
        ],
        feature_counts={
            "争议区域（实测与预测不符） / Disputed areas (measurements vs prediction)": int(
                hexes["tested"].sum()
            )
        },
    )
    assert "实测样本 RSRP 误差 / Field samples — RSRP error" in stats["layer_names"]


def test_xlsx_with_title_rows_gpkg_in_utm_and_parquet_together(tmp_path):
    import openpyxl

    from gigacov.ingest import load_inputs

    _write_sites(tmp_path / "sites.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年第二季度 MR 抽样（合成）"])
    ws.append([])
    ws.append(["经度", "纬度", "LTE RSRP", "SINR", "运营商", "室内外"])
    ws.append([CENTRE[0], CENTRE[1], -99.5, 4.0, "联通", "室外"])
    ws.append([CENTRE[0] + 0.01, CENTRE[1], -170.0, 4.0, "联通", "室外"])  # out of range
    wb.save(tmp_path / "mr.xlsx")
    pts = gpd.GeoDataFrame(
        {"SS-RSRP": [-101.0, -97.0]},
        geometry=gpd.points_from_xy([CENTRE[0], CENTRE[0] + 0.005], [CENTRE[1], CENTRE[1]]),
        crs=4326,
    ).to_crs(32650)
    pts.to_file(tmp_path / "dt.gpkg", driver="GPKG")
    pd.DataFrame(
        {
            "longitude": [CENTRE[0]],
            "latitude": [CENTRE[1]],
            "下载速率": ["950Mbps"],
            "制式": ["FTTH"],
        }
    ).to_parquet(tmp_path / "speed.parquet")
    extra = '\n[measurements]\npaths = ["mr.xlsx", "dt.gpkg", "speed.parquet"]\n'
    inputs = load_inputs(load_scenario(_scenario(tmp_path, "files", extra)))
    m = inputs.measurements
    assert list(m["tech"]) == ["4G", "5G", "5G", "fixed"]
    assert m["source_row"].tolist() == [4, 2, 3, 2]  # title rows counted; GPKG feature i → i + 2
    assert m["lon"].iloc[1] == pytest.approx(CENTRE[0], abs=1e-7)  # UTM back to WGS84
    assert m["operator"].iloc[0] == "China Unicom"
    assert m["download_mbps"].iloc[3] == pytest.approx(950.0)
    rej = inputs.rejected
    (row,) = rej[rej["file"].str.endswith("mr.xlsx")].itertuples()
    assert (row.row, row.reason, row.column) == (5, "out_of_range", "LTE RSRP")
    reps = [r for r in inputs.reports if r.input == "measurements"]
    assert [(r.read, r.used) for r in reps] == [(2, 1), (2, 2), (1, 1)]
