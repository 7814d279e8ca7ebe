"""``load_inputs(scenario)``: read, normalise and check every input of a scenario."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..operator_names import OPERATOR_ZH
from ..operators import CarrierSummary, load_carrier_table, resolve_carriers
from ..scenario import Scenario
from ._common import Rejects, require_regular_file
from .boundaries import read_boundaries
from .broadband import read_broadband
from .datum_check import datum_test, datum_warning
from .key_places import key_place_files, read_key_places
from .model import CELL_COLUMNS, Inputs
from .rasters import read_raster
from .sites import read_sites

__all__ = ["load_inputs"]

log = logging.getLogger("gigacov.ingest")


def _require(path: str, key: str) -> None:
    if path:
        require_regular_file(path, key)
    if path and not Path(path).exists():
        raise InputError(
            f"{key}: file {path!r} does not exist (relative paths resolve against the scenario file's folder)"
        )


def load_inputs(scenario: Scenario) -> Inputs:
    """Read every input of ``scenario`` and return them normalised (all WGS84).

    Boundaries first (they define the region), then sites, broadband statistics, rasters and key
    places. Unusable rows go to ``Inputs.rejected`` with a reason code; every input gets an
    :class:`~gigacov.ingest.model.InputReport` (``read == used + rejected``); warnings (repairs,
    defaults worth knowing, suspected datum shifts) go to ``Inputs.warnings``; every file read is
    hashed (SHA-256) into ``Inputs.file_hashes``.

    Raises
    ------
    InputError
        A file is missing, unreadable, lacks a required column (the message names the file, the
        columns found and the headers accepted), or a raster does not overlap the region.
    ConfigError
        A scenario setting (sheet, layer, column mapping, CRS) does not fit the file.
    """
    scn = scenario
    for path, key in (
        (scn.boundaries.counties, "[boundaries] counties"),
        (scn.boundaries.villages, "[boundaries] villages"),
        *(
            (p, "[sites] path")
            for p in ([scn.sites.path] if isinstance(scn.sites.path, str) else scn.sites.path)
        ),
        (scn.broadband.path, "[broadband] path"),
        (scn.population.raster, "[population] raster"),
        (scn.terrain.dem, "[terrain] dem"),
        (scn.radio.clutter, "[radio] clutter"),
        *((p, "[key_places] path") for p in key_place_files(scn.key_places)),
    ):
        _require(path, key)
    rejects = Rejects()
    hashes: dict[str, str] = {}
    warnings: list[str] = []
    reports = []

    bnd = read_boundaries(scn, rejects, hashes)
    reports.extend(bnd.reports)
    warnings.extend(bnd.warnings)
    region = bnd.region

    sites = read_sites(scn, region, rejects, hashes)
    reports.append(sites.report)
    warnings.extend(sites.warnings)
    if sites.raw_lon is not None and sites.raw_lon.size:
        msg = datum_warning(
            datum_test(sites.raw_lon, sites.raw_lat, sites.declared.kind, region),
            what="sites",
            path=sites.report.path,
            key="[sites] crs",
        )
        if msg:
            warnings.append(msg)
            sites.report.warnings.append(msg)

    carrier_table = load_carrier_table(scn.radio.carriers, scn.radio.shared)
    if sites.cells is not None:
        sites.cells, carriers = resolve_carriers(sites.cells, carrier_table)
        _report_carriers(carriers, sites.report, warnings)
        _say_missing_operators(carriers, sites.report, warnings)
    else:
        carriers = None

    for tech in scn.radio.technologies:
        tech = tech.upper()
        if tech != "5G" and sites.cells is not None and not (sites.cells["tech"] == tech).any():
            msg = (
                f"{sites.report.path}: no {tech} cells in the site list, so {tech} coverage is "
                f"not computed: its indicators are no data (not 0 %), and there are no {tech} "
                "rasters or map layers"
            )
            warnings.append(msg)
            sites.report.warnings.append(msg)

    broadband = None
    if scn.broadband.path:
        broadband, rep, w = read_broadband(scn, bnd, rejects, hashes)
        reports.append(rep)
        warnings.extend(w)

    margin = max(scn.sites.region_margin_m, scn.grid.buffer_m, scn.radio.max_radius_m) + 2000.0
    population = dem = clutter = None
    budget = int(scn.compute.memory_budget_mb) * 2**20
    if scn.population.raster:
        population, rep = read_raster(
            scn.population.raster,
            what="population raster",
            key="[population] raster",
            region=region,
            crs_override=scn.population.crs,
            margin_m=margin,
            hashes=hashes,
            nonnegative=True,
            budget_bytes=budget,
        )
        reports.append(rep)
        warnings.extend(rep.warnings)
    elif scn.population.column and "population" not in bnd.units.columns:
        raise InputError(
            f"[population] column = {scn.population.column!r}: no such column in the boundaries"
        )
    if scn.terrain.dem:
        dem, rep = read_raster(
            scn.terrain.dem,
            what="DEM",
            key="[terrain] dem",
            region=region,
            crs_override=scn.terrain.crs,
            margin_m=margin,
            hashes=hashes,
            budget_bytes=budget,
        )
        reports.append(rep)
        warnings.extend(rep.warnings)
    if scn.radio.clutter:
        clutter, rep = read_raster(
            scn.radio.clutter,
            what="clutter raster",
            key="[radio] clutter",
            region=region,
            margin_m=margin,
            hashes=hashes,
            budget_bytes=budget,
        )
        reports.append(rep)
        warnings.extend(rep.warnings)

    key_places = None
    if scn.key_places.sources():
        key_places, reps, w, kx, ky = read_key_places(scn, region, rejects, hashes)
        reports.extend(reps)
        warnings.extend(w)
        if kx.size:
            msg = datum_warning(
                datum_test(kx, ky, "wgs84", region),  # only files read as WGS84 give points
                what="key places",
                path=", ".join(r.path for r in reps),
                key="[key_places] crs",
            )
            if msg:
                warnings.append(msg)
                reps[0].warnings.append(msg)

    measurements = None
    if scn.measurements.path or scn.measurements.paths:
        from ..field.measurements import read_measurements

        measurements, reps, w = read_measurements(scn, region, rejects, hashes)
        reports.extend(reps)
        warnings.extend(w)

    rejected = rejects.frame()
    skipped = rejects.skipped_frame()
    for rep in reports:
        assert rep.read == rep.used + rep.rejected + rep.skipped, rep  # every row counted once
    # every skipped row is listed once
    assert len(skipped) == sum(rep.skipped for rep in reports), (len(skipped), reports)
    # rejected rows are never only in a file the user may not open: every command says so
    for rep in reports:
        if rep.rejected:
            # a report may stand for several files ("a.csv; b.xlsx") or sheets ("b.xlsx[4G]")
            files = rep.path.split("; ")
            name = rejected["file"].astype(str)
            of_rep = name.isin(files) | name.str.startswith(tuple(f + "[" for f in files))
            mine = rejected[of_rep.to_numpy()]["reason"].value_counts()
            why = ", ".join(f"{r}: {k}" for r, k in mine.items())
            msg = (
                f"{rep.path}: {rep.rejected} of {rep.read} row(s) rejected ({why}); they are "
                "not in any figure — see rejected_rows.csv"
            )
            warnings.append(msg)
            rep.warnings.append(msg)
    cells = sites.cells if sites.cells is not None else pd.DataFrame(columns=list(CELL_COLUMNS))
    log.info(
        "ingest: %d cells, %d rejected rows, %d warnings", len(cells), len(rejected), len(warnings)
    )
    return Inputs(
        scenario=scn,
        boundaries=bnd.units,
        cells=cells,
        broadband=broadband,
        population=population,
        dem=dem,
        clutter=clutter,
        key_places=key_places,
        measurements=measurements,
        rejected=rejected,
        skipped=skipped,
        reports=reports,
        warnings=warnings,
        file_hashes=hashes,
        carrier_table=carrier_table,
        carriers=carriers,
    )


#: The operators with national 4G/5G networks of their own: a list without one of them does not
#: describe a county's whole network.
NATIONAL_OPERATORS = ("China Mobile", "China Telecom", "China Unicom")


def _say_missing_operators(summ: CarrierSummary, report, warnings: list[str]) -> None:
    """A site list from some operators only is said, so that a coverage or sites-per-person
    verdict is read as those operators' network, not the county's."""
    present = [o for o in summ.by_operator if summ.by_operator[o]]
    if not present:
        return
    absent = [o for o in NATIONAL_OPERATORS if o not in present]
    if absent:
        msg = (
            f"{report.path}: cells of {', '.join(OPERATOR_ZH.get(o, o) for o in present)} only, "
            f"none of {', '.join(OPERATOR_ZH.get(o, o) for o in absent)}: coverage and 5G sites "
            "per 10,000 people describe these operators' networks, not the whole county's"
        )
        warnings.append(msg)
        report.warnings.append(msg)


def _report_carriers(summ: CarrierSummary, report, warnings: list[str]) -> None:
    """Count in the sites report what the carrier table did, in file rows (like every count
    there); warn about unknown operators."""
    rows = summ.rows or {}

    def n(key: str) -> int:
        return rows.get(key, 0) if rows else getattr(summ, key)

    if n("from_table"):
        report.defaults["carrier (operator's carrier for the band)"] = n("from_table")
    if n("main_carrier"):
        report.defaults["carrier (operator's main carrier)"] = n("main_carrier")
    if n("no_carrier"):
        report.defaults["carrier (band not in the operator's table: as given)"] = n("no_carrier")
        msg = (
            f"{report.path}: {n('no_carrier')} row(s) give a band in which their operator holds "
            f"no carrier ({', '.join(summ.no_carrier_examples)}); their frequency ± half the "
            "bandwidth is used as given and may overlap another operator's carrier: check the "
            "operator and band columns, or add the carrier with [[radio.carriers]]"
        )
        warnings.append(msg)
        report.warnings.append(msg)
    if n("shared"):
        report.defaults["carrier (declared shared network)"] = n("shared")
    if summ.unknown_operator:
        report.defaults["operator unknown (frequency ± bandwidth/2)"] = n("unknown_operator")
        msg = (
            f"{report.path}: {n('unknown_operator')} row(s) have no known operator "
            f"({', '.join(repr(x) for x in summ.unknown_examples)}): each keeps its frequency ± half "
            "its bandwidth as carrier and appears in no per-operator result; write 中国移动/电信/联通/"
            "广电, CMCC/CTCC/CUCC/CBN or a PLMN such as 46000 in the operator column"
        )
        warnings.append(msg)
        report.warnings.append(msg)
