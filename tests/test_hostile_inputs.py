"""Unlucky inputs: files that are not files, mixed encodings, infinite coordinates, empty inputs
and empty standard lists. Each stops with a message naming the input, or is handled and said."""

from __future__ import annotations

import logging
import os
import threading

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hostile import write_tiny_scenario

from gigacov.cli import main
from gigacov.errors import ConfigError, InputError
from gigacov.ingest import load_inputs
from gigacov.ingest.tables import read_table
from gigacov.scenario import load_scenario

ALIASES = {"site_id": ["site_id"], "name": ["name", "站名"], "lon": ["lon"], "lat": ["lat"]}


def test_a_fifo_as_input_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "sites.csv"
    os.mkfifo(fifo)
    result: dict[str, BaseException] = {}

    def read() -> None:
        try:
            read_table(fifo, what="sites", aliases=ALIASES)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            result["exc"] = exc

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO hangs")
    assert isinstance(result.get("exc"), InputError)
    assert "is a named pipe (FIFO), not a file" in str(result["exc"])


def test_a_device_as_input_is_refused(tmp_path):
    scenario = write_tiny_scenario(tmp_path)
    text = scenario.read_text("utf-8").replace('path = "sites.csv"', 'path = "/dev/urandom"')
    scenario.write_text(text, "utf-8")
    with pytest.raises(InputError, match=r"\[sites\] path: '/dev/urandom' is a device"):
        load_inputs(load_scenario(scenario))


def test_a_csv_mixing_utf8_and_gbk_rows_is_decoded_per_row(tmp_path, caplog):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"site_id,name,lon,lat\n"
        + "A,泉州鲤城站,118.5,24.9\n".encode()
        + "B,晋江安海站,118.4,24.7\n".encode("gbk")
        + "C,南安站,118.3,24.9\n".encode("gbk")
    )
    with caplog.at_level(logging.WARNING, logger="gigacov.ingest"):
        table = read_table(path, what="sites", aliases=ALIASES)
    assert table.df["name"].tolist() == ["泉州鲤城站", "晋江安海站", "南安站"]
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "mixes text encodings" in msg and "1 line(s) are UTF-8 (lines 2)" in msg


def test_a_pure_gbk_file_is_not_taken_for_mixed(tmp_path, caplog):
    path = tmp_path / "gbk.csv"
    path.write_bytes("site_id,name,lon,lat\nA,泉州鲤城站,118.5,24.9\nB,是,1,2\n".encode("gbk"))
    with caplog.at_level(logging.WARNING, logger="gigacov.ingest"):
        table = read_table(path, what="sites", aliases=ALIASES)
    assert table.df["name"].tolist() == ["泉州鲤城站", "是"]
    assert not [r for r in caplog.records if "mixes" in r.getMessage()]


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_coordinates_in_parquet_are_rejected_at_ingest(tmp_path, value):
    scenario = write_tiny_scenario(tmp_path)
    pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "lon": [118.52, value, 118.60],
            "lat": [24.82, 24.84, value],
            "tech": ["5G", "5G", "5G"],
        }
    ).to_parquet(tmp_path / "sites.parquet")
    text = scenario.read_text("utf-8").replace('path = "sites.csv"', 'path = "sites.parquet"')
    scenario.write_text(text, "utf-8")
    inp = load_inputs(load_scenario(scenario))
    assert inp.cells["site_id"].tolist() == ["S1"]
    rej = inp.rejected.sort_values("row")
    assert rej["row"].tolist() == [3, 4]
    assert set(rej["reason"]) == {"not_a_number"}
    assert rej["column"].tolist() == ["lon", "lat"]


def test_infinite_coordinates_in_csv_are_rejected_at_ingest(tmp_path):
    scenario = write_tiny_scenario(tmp_path)
    (tmp_path / "sites.csv").write_text(
        "site_id,lon,lat,tech\nS1,118.52,24.82,5G\nS2,inf,24.84,5G\nS3,118.6,-Infinity,5G\n",
        "utf-8",
    )
    inp = load_inputs(load_scenario(scenario))
    assert inp.cells["site_id"].tolist() == ["S1"]
    assert sorted(inp.rejected["row"]) == [3, 4]


# ------------------------------------------------------------------------------------------------
# empty inputs and empty standard lists
# ------------------------------------------------------------------------------------------------


def _invoke(args, folder):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, args)
    finally:
        os.chdir(cwd)


def test_a_header_only_sites_file_stops_the_run(tmp_path):
    scenario = write_tiny_scenario(tmp_path)
    (tmp_path / "sites.csv").write_text("site_id,lon,lat,tech\n", "utf-8")
    res = _invoke(["validate", str(scenario)], tmp_path)
    assert res.exit_code == 1, res.output
    assert "sites.csv: the sites file holds no data row" in res.output
    assert "--allow-empty" in res.output and "Traceback" not in res.output
    ok = _invoke(["validate", "--allow-empty", str(scenario)], tmp_path)
    assert ok.exit_code == 0, ok.output


def test_all_rows_rejected_stops_the_run_after_writing_rejected_rows(tmp_path):
    scenario = write_tiny_scenario(tmp_path)
    (tmp_path / "sites.csv").write_text("site_id,lon,lat,tech\nS1,abc,24.8,5G\n", "utf-8")
    res = _invoke(["validate", str(scenario)], tmp_path)
    assert res.exit_code == 1, res.output
    assert "all 1 rows were rejected" in res.output
    assert (tmp_path / "run" / "rejected_rows.csv").exists()


def test_an_empty_standard_list_is_an_error_unless_allowed(tmp_path):
    scenario = write_tiny_scenario(tmp_path)
    text = scenario.read_text("utf-8").replace('standards = ["std.toml"]', "standards = []")
    scenario.write_text(text, "utf-8")
    from gigacov.pipeline import run

    with pytest.raises(ConfigError, match=r"\[scenario\] standards = \[\] judges no unit"):
        run(scenario, until="check")
    res = _invoke(["check", str(scenario)], tmp_path)
    assert res.exit_code == 1 and "--allow-empty" in res.output
    # validate computes no compliance: an empty list does not concern it
    assert _invoke(["validate", str(scenario)], tmp_path).exit_code == 0


def test_one_site_id_at_two_places_11_km_apart_is_never_merged(tmp_path):
    """The #20 probe: duplicate ids 11 km apart were merged into one site (sites_5g = 1)."""
    scenario = write_tiny_scenario(tmp_path)
    (tmp_path / "sites.csv").write_text(
        "site_id,lon,lat,tech\nS1,118.51,24.82,5G\nS1,118.619,24.82,5G\nS2,118.53,24.84,5G\n",
        "utf-8",
    )
    inp = load_inputs(load_scenario(scenario))
    assert inp.cells["site_id"].tolist() == ["S2"]
    rej = inp.rejected.set_index("row")
    assert rej.loc[2, "reason"] == "site_conflict" and rej.loc[3, "reason"] == "site_conflict"
    assert "row 3" in rej.loc[2, "message"]
