"""Operators and their carriers: who transmits on which frequencies, and which cells serve whom.

* **Names.** :func:`normalise_operator` turns what site lists write (``移动``, ``中国移动``,
  ``CMCC``, ``China Mobile``, PLMN ``46000``/``460-02``/``46007``, …) into one canonical name
  (``"China Mobile"``, ``"China Telecom"``, ``"China Unicom"``, ``"China Broadnet"``); reports show
  :func:`operator_label` (``"中国移动 China Mobile"``).
* **Carriers.** A cell's carrier is its operator plus a frequency range. The shipped table
  (``carriers.toml``, MIIT allocations, with its provenance) gives each operator's carrier per
  band; a scenario replaces or adds entries with ``[[radio.carriers]]``. A cell whose site list
  names only a band or a rough frequency (``n78``, ``3.5G``, ``B3``) — or nothing at all — takes its
  operator's carrier in that band (or its operator's main carrier); a rough frequency just outside
  a band (``1.8G`` = 1800 MHz, B3 starts at 1805) takes the nearest band within
  :data:`BAND_SNAP_MHZ`; a range wider than one carrier (``2515-2675MHz``, an allocation) counts
  as a band. An explicit frequency in MHz, an ARFCN or a range one carrier wide wins, and the
  carrier is then that frequency ± half the cell's bandwidth (the range's ends).
* **Interference.** Two cells interfere by the share of the serving cell's carrier that the
  other's carrier overlaps (:func:`overlap_weights`): fully on the same carrier, not at all on
  disjoint ones (电信 3400–3500 and 联通 3500–3600 touch but do not overlap).
* **Sharing.** ``[radio] shared = [["中国电信", "中国联通", "n78"]]`` declares that the listed
  operators' cells in that band are one radio network: they transmit on the carrier of the
  operator listed first and serve the users of every listed operator. A cell that several sharing
  operators list (same position, azimuth and carrier) is one transmitter
  (:func:`transmitters`).
* **Unknown operator.** A cell without a known operator keeps today's rule (its frequency ±
  half its bandwidth, interfering with every cell that overlaps it); it serves no operator in the
  per-operator results and ``gigacov validate`` counts it.
"""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError

__all__ = [
    "OPERATORS",
    "OPERATOR_ZH",
    "OPERATORS_BY_PLMN",
    "Carrier",
    "CarrierTable",
    "Sharing",
    "normalise_operator",
    "parse_operator",
    "operator_label",
    "operator_slug",
    "load_carrier_table",
    "resolve_carriers",
    "transmitters",
    "cells_serving",
    "serving_mask",
    "operators_present",
    "carrier_span",
    "overlap_weights",
    "carrier_groups",
    "SERVES_SEP",
    "BAND_SNAP_MHZ",
]

log = logging.getLogger(__name__)

#: The four operators with 5G licences, in the order reports list them.
OPERATORS: tuple[str, ...] = ("China Mobile", "China Telecom", "China Unicom", "China Broadnet")
OPERATOR_ZH: dict[str, str] = {
    "China Mobile": "中国移动",
    "China Telecom": "中国电信",
    "China Unicom": "中国联通",
    "China Broadnet": "中国广电",
}
_SLUG = {
    "China Mobile": "cmcc",
    "China Telecom": "ctcc",
    "China Unicom": "cucc",
    "China Broadnet": "cbn",
}

#: MCC-MNC → operator (MNCs of China's operators).
OPERATORS_BY_PLMN: dict[str, str] = {
    **{f"460-{m}": "China Mobile" for m in ("00", "02", "04", "07", "08")},
    **{f"460-{m}": "China Unicom" for m in ("01", "06", "09")},
    **{f"460-{m}": "China Telecom" for m in ("03", "05", "11")},
    "460-15": "China Broadnet",
}

_OPERATOR_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("中国移动", "移动", "cmcc", "chinamobile", "cm", "mobile"), "China Mobile"),
    (("中国联通", "联通", "cucc", "chinaunicom", "cu", "unicom"), "China Unicom"),
    (("中国电信", "电信", "ctcc", "chinatelecom", "ct", "telecom"), "China Telecom"),
    (("中国广电", "广电", "cbn", "chinabroadnet", "broadnet", "中国广电网络"), "China Broadnet"),
    (("中国铁塔", "铁塔", "chinatower", "tower"), "China Tower"),
)

#: How far (MHz) a rough frequency spelling (``1.8G``, ``900M``, ``700M``) may lie outside a band's
#: edges and still name that band: the operator's carrier in the nearest band within this
#: distance applies, provided the frequency lies in no band of the table (a band name such as
#: B39 = 1880–1920 MHz never snaps to B3). 60 MHz covers the usual roundings (1.8G → B3
#: 1805–1880, 2.1G → B1 2110–2170, 900M → B8 925–960, 700M → n28 758–803) and is under half the
#: gap between any two bands one operator holds for one technology.
BAND_SNAP_MHZ = 60.0

#: Separator of the operators in a cell's ``serves`` column.
SERVES_SEP = ";"

_CARRIERS_PATH = Path(__file__).with_name("carriers.toml")


# ------------------------------------------------------------------------------------------------
# Names
# ------------------------------------------------------------------------------------------------


def normalise_operator(value: Any) -> str:
    """The canonical operator name of what a site list writes; ``""`` for nothing.

    ``"移动"``, ``"中国移动"``, ``"CMCC"``, ``"China Mobile"``, ``"46000"``, ``"460-02"`` →
    ``"China Mobile"``; ``"电信"``/``"CTCC"``/``46003``/``46011`` → ``"China Telecom"``;
    ``"联通"``/``"CUCC"``/``46001``/``46006`` → ``"China Unicom"``; ``"广电"``/``"CBN"``/``46015``
    → ``"China Broadnet"``. Anything else comes back cleaned but unchanged (an unknown operator).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    t = unicodedata.normalize("NFKC", str(value)).strip()
    key = re.sub(r"[\s_\-.]+", "", t).lower()
    if not key or key in ("nan", "none"):
        return ""
    for words, name in _OPERATOR_WORDS:
        if key in words or any(w in key for w in words if len(w) > 2):
            return name
    m = re.fullmatch(r"(\d{3})-?(\d{2,3})", re.sub(r"\s+", "", t))
    if m:
        plmn = f"{m.group(1)}-{m.group(2)}"
        return OPERATORS_BY_PLMN.get(plmn, plmn)
    return t


def parse_operator(text: str, where: str = "operator") -> str:
    """A known operator from user text (CLI ``--operator``, scenario keys), else ConfigError."""
    name = normalise_operator(text)
    if name not in OPERATORS:
        known = ", ".join(f"{OPERATOR_ZH[o]} ({o})" for o in OPERATORS)
        raise ConfigError(f"{where}: {text!r} is not an operator gigacov knows ({known})")
    return name


def operator_label(name: str) -> str:
    """``"China Mobile"`` → ``"中国移动 China Mobile"``; other names unchanged."""
    zh = OPERATOR_ZH.get(name)
    return f"{zh} {name}" if zh else str(name)


def operator_slug(name: str) -> str:
    """Short ASCII id for file and layer names: ``cmcc``, ``ctcc``, ``cucc``, ``cbn``."""
    return _SLUG.get(name) or re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")


# ------------------------------------------------------------------------------------------------
# The carrier table
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Carrier:
    """One operator's carrier in one band: downlink ``low_mhz``–``high_mhz``."""

    operator: str
    band: str
    tech: str
    low_mhz: float
    high_mhz: float
    band_low_mhz: float
    band_high_mhz: float
    main: bool = False
    confirmed: bool = False
    note: str = ""
    source: str = "shipped"

    @property
    def centre_mhz(self) -> float:
        return 0.5 * (self.low_mhz + self.high_mhz)

    @property
    def width_mhz(self) -> float:
        return self.high_mhz - self.low_mhz

    def in_band(self, f_mhz: float) -> bool:
        return self.band_low_mhz <= f_mhz <= self.band_high_mhz


@dataclass(frozen=True)
class Sharing:
    """A declared shared network: ``operators`` share one RAN in ``band`` on ``carrier``."""

    operators: tuple[str, ...]
    band: str
    tech: str
    carrier: Carrier


@dataclass
class CarrierTable:
    """The carriers in use (shipped table + scenario overrides) and the declared sharing."""

    carriers: list[Carrier]
    bands: dict[str, tuple[float, float]]
    sharing: list[Sharing] = field(default_factory=list)
    provenance: str = ""
    version: str = ""

    def of(self, operator: str, tech: str) -> list[Carrier]:
        """The operator's carriers of one technology, main carriers first."""
        own = [c for c in self.carriers if c.operator == operator and c.tech == tech]
        return sorted(own, key=lambda c: not c.main)

    def find(
        self, operator: str, tech: str, f_mhz: float, tolerance_mhz: float = 0.0
    ) -> Carrier | None:
        """The operator's carrier for a band or rough frequency ``f_mhz`` (None when none).

        Among the operator's carriers whose band holds ``f_mhz``: the first (main first) whose
        own range holds it, else the band's main carrier, else the band's first. When no band
        of the table (:attr:`bands`) holds it, the operator's band nearest to ``f_mhz`` if that
        is at most ``tolerance_mhz`` away (a rough spelling such as ``1.8G`` = 1800 MHz, just
        below B3's 1805 MHz edge); a frequency inside another band (B39's 1900 MHz) never
        snaps."""
        own = self.of(operator, tech)
        cands = [c for c in own if c.in_band(f_mhz)]
        in_a_band = any(lo <= f_mhz <= hi for lo, hi in self.bands.values())
        if not cands and tolerance_mhz > 0 and np.isfinite(f_mhz) and not in_a_band:

            def gap(c: Carrier) -> float:
                return max(c.band_low_mhz - f_mhz, f_mhz - c.band_high_mhz, 0.0)

            near = [c for c in own if gap(c) <= tolerance_mhz]
            if near:
                best = min(gap(c) for c in near)
                cands = [c for c in near if gap(c) == best]
        if not cands:
            return None
        for c in cands:
            if c.low_mhz <= f_mhz <= c.high_mhz:
                return c
        return cands[0]

    def main(self, operator: str, tech: str) -> Carrier | None:
        """The operator's main carrier of a technology (what a cell with no band gets)."""
        own = self.of(operator, tech)
        return own[0] if own else None

    def band_of(self, operator: str, tech: str, band: str) -> Carrier | None:
        key = _band_key(band)
        for c in self.of(operator, tech):
            if _band_key(c.band) == key:
                return c
        return None

    def sharing_for(self, operator: str, carrier: Carrier | None) -> Sharing | None:
        if carrier is None:
            return None
        for s in self.sharing:
            if operator in s.operators and _band_key(carrier.band) == _band_key(s.band):
                return s
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "carriers": [
                {
                    "operator": c.operator,
                    "band": c.band,
                    "tech": c.tech,
                    "low_mhz": c.low_mhz,
                    "high_mhz": c.high_mhz,
                    "source": c.source,
                }
                for c in self.carriers
            ],
            "shared": [
                {
                    "operators": list(s.operators),
                    "band": s.band,
                    "carrier_mhz": [s.carrier.low_mhz, s.carrier.high_mhz],
                }
                for s in self.sharing
            ],
        }


def _band_key(band: str) -> str:
    return re.sub(r"\s+", "", str(band)).lower()


def _base_band(band: str) -> str:
    return _band_key(band).split("-")[0]


def _carrier_from(
    raw: Mapping[str, Any], bands: Mapping[str, tuple[float, float]], where: str, source: str
) -> Carrier:
    need = ("operator", "band", "low_mhz", "high_mhz")
    missing = [k for k in need if k not in raw]
    if missing:
        raise ConfigError(
            f"{where}: missing {', '.join(missing)} (need operator, band, low_mhz, high_mhz)"
        )
    unknown = set(raw) - {*need, "tech", "main", "confirmed", "note"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    op = parse_operator(str(raw["operator"]), f"{where} operator")
    band = str(raw["band"]).strip()
    try:
        lo, hi = float(raw["low_mhz"]), float(raw["high_mhz"])
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: low_mhz/high_mhz must be numbers in MHz, got {raw['low_mhz']!r}, {raw['high_mhz']!r}"
        ) from None
    if not (400.0 <= lo < hi <= 52600.0):
        raise ConfigError(
            f"{where}: {lo:g}–{hi:g} MHz is not a frequency range (low < high, 400–52,600 MHz)"
        )
    tech = str(raw.get("tech") or ("5G" if _band_key(band).startswith("n") else "4G")).upper()
    if tech not in ("4G", "5G"):
        raise ConfigError(f"{where}: tech {raw.get('tech')!r} is not '4G' or '5G'")
    base = _base_band(band)
    edges = next((v for k, v in bands.items() if _band_key(k) == base), None)
    if edges is None:
        # a band the table does not know: the carrier itself bounds it
        edges = (lo, hi)
    return Carrier(
        operator=op,
        band=band,
        tech=tech,
        low_mhz=lo,
        high_mhz=hi,
        band_low_mhz=float(min(edges[0], lo)),
        band_high_mhz=float(max(edges[1], hi)),
        main=bool(raw.get("main", False)),
        confirmed=bool(raw.get("confirmed", False)),
        note=str(raw.get("note", "")),
        source=source,
    )


def load_carrier_table(
    carriers: Sequence[Mapping[str, Any]] = (),
    shared: Sequence[Sequence[str]] = (),
    path: str | Path | None = None,
) -> CarrierTable:
    """The shipped carrier table with the scenario's ``[[radio.carriers]]`` and ``shared``.

    Parameters
    ----------
    carriers
        Entries ``{operator, band, low_mhz, high_mhz[, tech, main]}`` (MHz, downlink); one whose
        operator and band match a shipped entry replaces it, others are added.
    shared
        Declared sharing: each entry lists two or more operators and ends with a band
        (``["中国电信", "中国联通", "n78"]``). The shared cells use the carrier in that band of
        the operator listed first.
    path
        Another base table instead of the shipped ``carriers.toml``.
    """
    p = Path(path) if path else _CARRIERS_PATH
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    bands = {str(k): (float(v[0]), float(v[1])) for k, v in data.get("bands", {}).items()}
    table: list[Carrier] = [
        _carrier_from(raw, bands, f"{p.name} carrier {i + 1}", "shipped")
        for i, raw in enumerate(data.get("carrier", []))
    ]
    for i, raw in enumerate(carriers):
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f'[radio] carriers[{i}]: expected a table such as {{ operator = "中国电信", band = "n78", low_mhz = 3400, high_mhz = 3500 }}, got {raw!r}'
            )
        c = _carrier_from(raw, bands, f"[radio] carriers[{i}]", "scenario")
        same = [
            j
            for j, old in enumerate(table)
            if old.operator == c.operator
            and old.tech == c.tech
            and _band_key(old.band) == _band_key(c.band)
        ]
        if same:
            if "main" not in raw:
                c = Carrier(**{**c.__dict__, "main": table[same[0]].main})
            table[same[0]] = c
        else:
            table.append(c)
    sharing = []
    for i, entry in enumerate(shared):
        where = f"[radio] shared[{i}]"
        if isinstance(entry, str) or not isinstance(entry, Sequence) or len(entry) < 3:
            raise ConfigError(
                f"{where}: expected two or more operators and a band, e.g. "
                f'["中国电信", "中国联通", "n78"], got {entry!r}'
            )
        *names, band = [str(x) for x in entry]
        ops = tuple(parse_operator(n, where) for n in names)
        if len(set(ops)) < 2:
            raise ConfigError(f"{where}: name at least two different operators, got {entry!r}")
        host = None
        for tech in ("5G", "4G"):
            host = CarrierTable(table, bands).band_of(ops[0], tech, band)
            if host is not None:
                break
        if host is None:
            have = sorted({c.band for c in table if c.operator == ops[0]})
            raise ConfigError(
                f"{where}: {operator_label(ops[0])} has no carrier in band {band!r} "
                f"(its bands: {', '.join(have)}); list first the operator whose carrier the shared "
                "network uses, or add it with [[radio.carriers]]"
            )
        for other in sharing:
            if _band_key(other.band) == _band_key(band) and set(other.operators) & set(ops):
                raise ConfigError(
                    f"{where}: {band!r} sharing overlaps an earlier entry {list(other.operators)}"
                )
        sharing.append(Sharing(ops, band, host.tech, host))
    return CarrierTable(
        table,
        bands,
        sharing,
        provenance=str(data.get("source", {}).get("provenance", "")).strip(),
        version=str(data.get("version", "")),
    )


# ------------------------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------------------------


def carrier_span(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's carrier (low, high MHz): the resolved ``carrier_*_mhz`` columns where set,
    else ``freq_mhz`` ± half of ``bandwidth_mhz`` (a single frequency without a bandwidth)."""
    n = len(cells)
    f = (
        pd.to_numeric(cells["freq_mhz"], errors="coerce").to_numpy(dtype=np.float64)
        if n
        else np.zeros(0)
    )
    if "bandwidth_mhz" in cells.columns:
        bw = pd.to_numeric(cells["bandwidth_mhz"], errors="coerce").to_numpy(dtype=np.float64)
    else:
        bw = np.full(n, np.nan)
    half = np.where(np.isfinite(bw) & (bw > 0), bw / 2.0, 0.0)
    lo, hi = f - half, f + half
    if "carrier_low_mhz" in cells.columns and "carrier_high_mhz" in cells.columns:
        clo = pd.to_numeric(cells["carrier_low_mhz"], errors="coerce").to_numpy(dtype=np.float64)
        chi = pd.to_numeric(cells["carrier_high_mhz"], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(clo) & np.isfinite(chi) & (chi >= clo)
        lo = np.where(ok, clo, lo)
        hi = np.where(ok, chi, hi)
    return lo, hi


def overlap_weights(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``W[a, b]``: the share of carrier ``a`` that carrier ``b`` overlaps (0–1).

    A cell on carrier ``a`` sees an interferer on ``b`` with ``W[a, b]`` times its received power
    per resource element: the interferer's power falls on that share of the server's resource
    elements. Identical carriers give 1, disjoint (or merely touching) ones 0; a carrier without a
    width (a bare frequency) is hit fully by any carrier that holds its frequency.
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    width = hi - lo
    ov = np.minimum(hi[:, None], hi[None, :]) - np.maximum(lo[:, None], lo[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(width[:, None] > 0, np.clip(ov, 0.0, None) / width[:, None], 0.0)
    point = width <= 0
    if point.any():
        inside = (lo[:, None] >= lo[None, :]) & (lo[:, None] <= hi[None, :])
        same = (lo[:, None] == lo[None, :]) & (hi[:, None] == hi[None, :])
        w = np.where(point[:, None], (inside & ((width[None, :] > 0) | same)).astype(np.float64), w)
    np.fill_diagonal(w, 1.0)
    return np.clip(w, 0.0, 1.0)


def carrier_groups(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(group per cell (int64), W (groups × groups), [low, high] per group)``: cells on the same
    carrier share a group; ``W`` is :func:`overlap_weights` of the groups' carriers."""
    lo, hi = carrier_span(cells)
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64), np.ones((1, 1)), np.zeros((1, 2))
    spans = np.stack([lo, hi], axis=1)
    uniq, groups = np.unique(spans, axis=0, return_inverse=True)
    return groups.reshape(-1).astype(np.int64), overlap_weights(uniq[:, 0], uniq[:, 1]), uniq


@dataclass
class CarrierSummary:
    """What :func:`resolve_carriers` did, for ``gigacov validate`` and the manifest."""

    from_table: int = 0
    """Cells that took their operator's carrier from the table (band or rough frequency given)."""
    main_carrier: int = 0
    """Cells without any frequency or band that took their operator's main carrier."""
    explicit: int = 0
    """Cells whose explicit frequency (MHz or ARFCN) was kept."""
    no_carrier: int = 0
    """Cells of a known operator whose band the table has no carrier for (kept as given)."""
    unknown_operator: int = 0
    """Cells without a known operator: today's rule (frequency ± half the bandwidth)."""
    unknown_examples: list[str] = field(default_factory=list)
    shared: int = 0
    """Cells in a declared shared network (they serve every sharing operator)."""
    by_operator: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """The counts above in file rows (``source_row``; a row of several sectors once), by the
    same names; empty when the cells carry no row numbers."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def resolve_carriers(
    cells: pd.DataFrame, table: CarrierTable
) -> tuple[pd.DataFrame, CarrierSummary]:
    """Operator names normalised and each cell's carrier and served operators set.

    Adds ``carrier_low_mhz``, ``carrier_high_mhz`` (the cell's carrier, downlink MHz) and
    ``serves`` (the operators whose users the cell serves, :data:`SERVES_SEP`-separated; ``""``
    for an unknown operator); sets ``freq_mhz`` to the carrier's centre where the carrier came from
    the table. Which frequency a cell's row gave is read from ``freq_source`` (``"input"``: MHz or
    ARFCN, kept; ``"band"``: a band name or rough frequency; ``"default"``: nothing given); without
    that column every frequency counts as given. Returns a copy; ``cells`` is not modified.
    """
    out = cells.copy()
    n = len(out)
    summ = CarrierSummary()
    if n == 0:
        for c in ("carrier_low_mhz", "carrier_high_mhz"):
            out[c] = pd.Series(dtype=np.float64)
        out["serves"] = pd.Series(dtype=object)
        return out, summ
    ops = (
        out["operator"].map(_cached_normaliser()).astype(str)
        if "operator" in out.columns
        else pd.Series("", index=out.index)
    )
    out["operator"] = ops.to_numpy(dtype=object)
    src = (
        out["freq_source"].astype(str).to_numpy(dtype=object)
        if "freq_source" in out.columns
        else np.full(n, "input", dtype=object)
    )
    tech = out["tech"].astype(str).str.upper().to_numpy(dtype=object)
    freq = pd.to_numeric(out["freq_mhz"], errors="coerce").to_numpy(dtype=np.float64).copy()
    lo, hi = carrier_span(out)
    lo, hi = lo.copy(), hi.copy()
    serves = np.full(n, "", dtype=object)
    op_arr = ops.to_numpy(dtype=object)
    known = np.isin(op_arr, OPERATORS)
    kind = np.full(n, "", dtype=object)  # which count each cell went to
    shared_cell = np.zeros(n, dtype=bool)
    # one decision per distinct (operator, tech, source, frequency)
    keys = pd.DataFrame({"op": op_arr, "tech": tech, "src": src, "f": freq})
    for (op, t, s, f), idx in keys.groupby(
        ["op", "tech", "src", "f"], dropna=False
    ).indices.items():
        if op not in OPERATORS:
            continue
        carrier = None
        if s == "band":
            carrier = table.find(op, t, f, BAND_SNAP_MHZ)
        elif s == "default":
            carrier = table.main(op, t)
        share = None
        if s == "input":
            summ.explicit += len(idx)
            kind[idx] = "explicit"
            own = table.find(op, t, f)
            share = (
                table.sharing_for(op, own)
                if own is not None and own.low_mhz <= f <= own.high_mhz
                else None
            )
        elif carrier is None:
            summ.no_carrier += len(idx)
            kind[idx] = "no_carrier"
        else:
            share = table.sharing_for(op, carrier)
            use = share.carrier if share is not None else carrier
            lo[idx], hi[idx] = use.low_mhz, use.high_mhz
            freq[idx] = use.centre_mhz
            if s == "band":
                summ.from_table += len(idx)
                kind[idx] = "from_table"
            else:
                summ.main_carrier += len(idx)
                kind[idx] = "main_carrier"
        if share is not None:
            serves[idx] = SERVES_SEP.join(share.operators)
            summ.shared += len(idx)
            shared_cell[idx] = True
        else:
            serves[idx] = op
    unknown = ~known
    summ.unknown_operator = int(unknown.sum())
    if unknown.any():
        summ.unknown_examples = sorted({str(v) or "(empty)" for v in op_arr[unknown]})[:5]
    out["freq_mhz"] = freq
    out["carrier_low_mhz"] = lo
    out["carrier_high_mhz"] = hi
    out["serves"] = serves
    counts = pd.Series(op_arr[known]).value_counts()
    summ.by_operator = {o: int(counts.get(o, 0)) for o in OPERATORS if counts.get(o, 0)}
    if "source_row" in out.columns:
        row = out["source_row"].to_numpy()
        kind[unknown] = "unknown_operator"
        for k in ("explicit", "no_carrier", "from_table", "main_carrier", "unknown_operator"):
            if (kind == k).any():
                summ.rows[k] = int(np.unique(row[kind == k]).size)
        if shared_cell.any():
            summ.rows["shared"] = int(np.unique(row[shared_cell]).size)
    return out, summ


def _cached_normaliser():
    cache: dict[Any, str] = {}

    def norm(v: Any) -> str:
        try:
            return cache[v]
        except (KeyError, TypeError):
            r = normalise_operator(v)
            try:
                cache[v] = r
            except TypeError:
                pass
            return r

    return norm


def transmitters(cells: pd.DataFrame, tolerance_m: float = 1.0) -> pd.DataFrame:
    """The cells as transmitters: a shared cell listed by several sharing operators counts once.

    Cells of a declared shared network (``serves`` names several operators) that stand at the
    same position (within ``tolerance_m``), point the same way (or are both omni), use the same
    technology and carrier, and are listed under different operators are one physical cell: the
    first listed is kept. Every other cell is kept as it is. Returns a new frame (index reset).
    """
    if len(cells) == 0 or "serves" not in cells.columns:
        return cells.reset_index(drop=True)
    multi = cells["serves"].astype(str).str.contains(SERVES_SEP, regex=False).to_numpy()
    if not multi.any():
        return cells.reset_index(drop=True)
    lo, hi = carrier_span(cells)
    lat = cells["lat"].to_numpy(dtype=np.float64)
    lon = cells["lon"].to_numpy(dtype=np.float64)
    # ~1 m grid in degrees at China's latitudes
    step = tolerance_m / 111_000.0
    az = (
        pd.to_numeric(cells.get("azimuth_deg"), errors="coerce").to_numpy(dtype=np.float64)
        if "azimuth_deg" in cells.columns
        else np.full(len(cells), np.nan)
    )
    key = pd.DataFrame(
        {
            "x": np.round(lon / step).astype(np.int64),
            "y": np.round(lat / step).astype(np.int64),
            "az": np.where(np.isfinite(az), np.round(np.nan_to_num(az) % 360.0), -1.0),
            "tech": cells["tech"].astype(str).to_numpy(),
            "lo": lo,
            "hi": hi,
            "op": cells["operator"].astype(str).to_numpy(),
        }
    )
    dup = np.zeros(len(cells), dtype=bool)
    sub = key[multi]
    first_op = sub.groupby(["x", "y", "az", "tech", "lo", "hi"], sort=False)["op"].transform(
        "first"
    )
    repeated = sub.duplicated(["x", "y", "az", "tech", "lo", "hi"], keep="first")
    # the same operator listing two cells at one spot is not sharing: keep both
    dup[np.flatnonzero(multi)] = (repeated & (sub["op"] != first_op)).to_numpy()
    if dup.any():
        log.info(
            "%d shared cell(s) listed by a second operator count once as transmitters",
            int(dup.sum()),
        )
    return cells[~dup].reset_index(drop=True)


def serving_mask(cells: pd.DataFrame, operator: str) -> np.ndarray:
    """Boolean per cell: it serves ``operator``'s users (its own and the shared cells)."""
    if len(cells) == 0:
        return np.zeros(0, dtype=bool)
    if "serves" in cells.columns:
        serves = cells["serves"].astype(str)
        mask = serves.str.split(SERVES_SEP, regex=False).map(lambda ops: operator in ops)
    else:
        mask = cells["operator"].map(_cached_normaliser()) == operator
    return mask.to_numpy(dtype=bool)


def cells_serving(cells: pd.DataFrame, operator: str) -> pd.DataFrame:
    """The cells that serve ``operator``'s users (its own and the shared ones), index reset."""
    return cells[serving_mask(cells, operator)].reset_index(drop=True)


def operators_present(cells: pd.DataFrame, tech: str | None = "5G") -> list[str]:
    """Known operators with cells (of ``tech``) serving them, in :data:`OPERATORS` order."""
    if cells is None or len(cells) == 0:
        return []
    c = cells if tech is None else cells[cells["tech"].astype(str).str.upper() == tech]
    if "serves" in c.columns:
        named: set[str] = set()
        for s in pd.unique(c["serves"].astype(str)):
            named.update(s.split(SERVES_SEP))
    else:
        named = set(c["operator"].map(_cached_normaliser()))
    return [o for o in OPERATORS if o in named]


def operator_sites(cells: pd.DataFrame, operator: str) -> pd.DataFrame:
    """Cells whose listed operator is ``operator`` (its own sites, not the partner's)."""
    if len(cells) == 0:
        return cells
    return cells[cells["operator"].map(_cached_normaliser()) == operator]


def parse_operators(values: Iterable[str], where: str) -> list[str]:
    return [parse_operator(v, where) for v in values]
