"""One set of radio defaults (gigacov.radio_defaults): the scenario, the engine's parameters, the
site reader and the planner take the same values."""

from __future__ import annotations

import dataclasses

import pandas as pd

from gigacov import radio_defaults as rd
from gigacov.planning.defaults import FALLBACK, new_site_radio
from gigacov.radio.result import RadioParams
from gigacov.scenario import PlanningSection, RadioSection


def test_radio_section_and_radio_params_agree_on_every_default():
    section = RadioSection()
    for tech in ("5G", "4G"):
        params = RadioParams.from_section(section, tech)
        plain = RadioParams(tech=tech)
        shared = {f.name for f in dataclasses.fields(RadioParams)} - {
            "tech",
            "rsrp_threshold_dbm",
            "sinr_threshold_db",
        }
        for name in shared:
            assert getattr(params, name) == getattr(plain, name), name
        assert params.rsrp_threshold_dbm == rd.RSRP_THRESHOLD_DBM[tech]
        assert params.sinr_threshold_db == rd.SINR_THRESHOLD_DB[tech]
    assert RadioParams().rsrp_threshold_dbm == rd.RSRP_THRESHOLD_DBM["5G"] == -105.0
    assert section.rsrp_threshold_4g_dbm == -110.0 and section.default_beamwidth_deg == 65.0
    assert PlanningSection().beamwidth_deg == rd.BEAMWIDTH_DEG


def test_a_new_site_without_any_network_takes_the_5g_cell_defaults():
    no_cells = pd.DataFrame(
        {c: [] for c in ("tech", "admin_code", "freq_mhz", "bandwidth_mhz", "scs_khz")}
        | {"height_m": [], "eirp_dbm": []}
    )
    got = new_site_radio(PlanningSection(), no_cells, ["350521"])["350521"]
    assert got["values"] == {
        "freq_mhz": rd.CELL["5G"]["freq_mhz"],
        "bandwidth_mhz": rd.CELL["5G"]["bandwidth_mhz"],
        "scs_khz": rd.CELL["5G"]["scs_khz"],
        "site_height_m": rd.CELL["5G"]["height_m"],
        "eirp_dbm": rd.CELL["5G"]["eirp_dbm"],
    }
    assert set(got["source"].values()) == {"built-in default"}
    assert FALLBACK["freq_mhz"] == 3500.0 and FALLBACK["eirp_dbm"] == 61.0
