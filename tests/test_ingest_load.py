"""load_inputs end to end, and `gigacov validate` on the same fixtures (CLI, JSON, exit codes)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from gigacov.cli import main
from gigacov.errors import InputError
from gigacov.ingest import REJECTED_COLUMNS, load_inputs
from gigacov.ingest.tables import detect_encoding, match_columns, split_header
from gigacov.rundir import sha256_file
from gigacov.scenario import load_scenario

JINJIANG = (118.5501, 24.7083)
FENGZE = (118.6438, 24.9237)


def write_scenario(tmp_path, *, bad_row=True):
    (tmp_path / "data").mkdir()
    rows = [
        f"A,1,{JINJIANG[0]},{JINJIANG[1]},5G",
        f"A,2,{JINJIANG[0]},{JINJIANG[1]},5G",
        f"B,1,{FENGZE[0]},{FENGZE[1]},LTE",
    ]
    if bad_row:
        rows.append(f"C,1,{FENGZE[0]},{FENGZE[1]},CDMA")
    (tmp_path / "data" / "sites.csv").write_bytes(
        ("站号,小区ID,经度,纬度,制式\n" + "\n".join(rows) + "\n").encode("gbk")
    )
    (tmp_path / "data" / "bb.csv").write_text(
        "区划代码,年份,家庭户数,千兆覆盖家庭数\n350582,2024,1000,900\n", "utf-8"
    )
    (tmp_path / "s.toml").write_text(
        '[scenario]\nname = "v"\nyear = 2024\nregion = "350500"\nout_dir = "run"\n'
        '[sites]\npath = "data/sites.csv"\n[broadband]\npath = "data/bb.csv"\n',
        "utf-8",
    )
    return tmp_path / "s.toml"


def test_load_inputs_end_to_end_with_relative_paths(tmp_path):
    scn = load_scenario(write_scenario(tmp_path))
    assert scn.sites.path == str(tmp_path / "data" / "sites.csv")  # resolved against the file
    inp = load_inputs(scn)
    assert len(inp.cells) == 3 and len(inp.broadband) == 1
    assert list(inp.rejected.columns) == REJECTED_COLUMNS
    assert inp.rejected[["row", "column", "value", "reason"]].values.tolist() == [
        [5, "制式", "CDMA", "unknown_technology"]
    ]
    for rep in inp.reports:
        assert rep.read == rep.used + rep.rejected + rep.skipped
        assert rep.path in inp.file_hashes
    assert inp.file_hashes[scn.sites.path] == sha256_file(scn.sites.path)
    assert set(inp.cells["admin_code"]) == {"350582", "350503"}
    assert inp.region_geometry.contains(__import__("shapely").Point(*JINJIANG))


def test_missing_file_names_the_key(tmp_path):
    path = write_scenario(tmp_path)
    (tmp_path / "data" / "bb.csv").unlink()
    with pytest.raises(InputError, match=r"\[broadband\] path: file .*bb.csv' does not exist"):
        load_inputs(load_scenario(path))


def test_validate_command_json_table_and_strict(tmp_path):
    path = write_scenario(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["validate", str(path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is True and doc["rejected_rows"] == 1 and doc["skipped_rows"] == 80
    # a rejected row is said in the warnings of every command, not only in the CSV
    assert any("1 of 4 row(s) rejected (unknown_technology: 1)" in w for w in doc["warnings"]), doc[
        "warnings"
    ]
    by = {r["input"]: r for r in doc["inputs"]}
    assert by["sites"]["read"] == 4 and by["sites"]["used"] == 3 and by["sites"]["rejected"] == 1
    assert by["sites"]["defaults"]["freq_mhz"] == 3
    assert by["boundaries"]["skipped"] == 80 and by["broadband"]["used"] == 1
    rejected = pd.read_csv(tmp_path / "run" / "rejected_rows.csv", dtype=str)
    assert rejected[["row", "reason"]].values.tolist() == [["5", "unknown_technology"]]
    # each of the 80 boundary units outside the region is listed once, with why
    skipped = pd.read_csv(tmp_path / "run" / "skipped_rows.csv", dtype=str)
    assert len(skipped) == 80 and set(skipped["reason"]) == {"outside_region"}
    assert skipped["row"].is_unique and not skipped["value"].str.startswith("3505").any()
    assert skipped["message"].str.contains("outside the region").all()
    res = runner.invoke(main, ["validate", str(path)])
    assert res.exit_code == 0 and "sites" in res.output and "rejected rows: 1" in res.output
    assert "skipped rows: 80" in res.output
    res = runner.invoke(main, ["validate", str(path), "--strict"])
    assert res.exit_code == 1
    res = runner.invoke(main, ["validate", str(path), "--strict", "--json"])
    assert res.exit_code == 1 and json.loads(res.stdout)["ok"] is False


def test_validate_command_clean_input_strict_passes(tmp_path):
    path = write_scenario(tmp_path, bad_row=False)
    res = CliRunner().invoke(main, ["validate", str(path), "--strict", "--json"])
    assert res.exit_code == 0, res.output
    assert (
        (tmp_path / "run" / "rejected_rows.csv")
        .read_text("utf-8")
        .startswith("file,row,column,value,reason,message")
    )


def test_validate_command_input_error_exit_1(tmp_path):
    path = write_scenario(tmp_path)
    (tmp_path / "data" / "sites.csv").write_text("name,lat\nA,24.7\n", "utf-8")
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 1
    assert (
        "sites.csv" in res.output
        and "no lon column" in res.output
        and "Traceback" not in res.output
    )
    # with --json the failure is still one JSON document on stdout, the message on stderr
    res = CliRunner().invoke(main, ["validate", str(path), "--json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 1 and "no lon column" in doc["error"]
    assert "no lon column" in res.stderr


# ---- tables: encodings, headers, aliases --------------------------------------------------------


def test_detect_encoding():
    text = "站名,经度\n泉州,118.5\n"
    assert detect_encoding(text.encode("utf-8"), "f") == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8"), "f") == "utf-8-sig"
    assert detect_encoding(text.encode("gbk"), "f") == "gb18030"
    assert detect_encoding(text.encode("utf-16"), "f") == "utf-16"
    with pytest.raises(
        InputError, match=r"f.csv: not valid utf-8 text \(invalid continuation byte at byte 2\)"
    ):
        detect_encoding(text.encode("gbk"), "f.csv", declared="utf-8")


def test_header_units_and_aliases():
    assert split_header("挂高(m)") == ("挂高", "m")
    assert split_header("EIRP（W）") == ("eirp", "w")
    assert split_header(" Antenna Height ") == ("antennaheight", "")
    from gigacov.ingest.sites import SITE_ALIASES

    cmap = match_columns(
        ["LONGITUDE", "Lat", "天线挂高(米)", "eirp_w", "小区名称", "基站名称"], SITE_ALIASES
    )
    assert cmap.header("lon") == "LONGITUDE" and cmap.header("lat") == "Lat"
    assert cmap.unit("height") == "米" and cmap.unit("eirp") == "w"
    assert cmap.header("name") == "基站名称"  # the site name wins over the cell name


def test_utf16_tab_separated_export(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(f"经度\t纬度\t制式\n{JINJIANG[0]}\t{JINJIANG[1]}\t5G\n".encode("utf-16"))
    from gigacov.scenario import scenario_from_dict

    inp = load_inputs(
        scenario_from_dict(
            {
                "scenario": {"name": "u", "year": 2024, "region": "350500"},
                "sites": {"path": str(path)},
            }
        )
    )
    assert len(inp.cells) == 1
