"""The carrier table: each operator's carrier (downlink MHz) per band, from the shipped
``carriers.toml`` (MIIT allocations, with its provenance) with a scenario's ``[[radio.carriers]]``
and the declared sharing (``[radio] shared``)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .operator_names import operator_label, parse_operator

__all__ = [
    "BAND_SNAP_MHZ",
    "Carrier",
    "Sharing",
    "CarrierTable",
    "load_carrier_table",
    "band_key",
]


#: How far (MHz) a rough frequency spelling (``1.8G``, ``900M``, ``700M``) may lie outside a band's
#: edges and still name that band: the operator's carrier in the nearest band within this
#: distance applies, provided the frequency lies in no band of the table (a band name such as
#: B39 = 1880–1920 MHz never snaps to B3). 60 MHz covers the usual roundings (1.8G → B3
#: 1805–1880, 2.1G → B1 2110–2170, 900M → B8 925–960, 700M → n28 758–803) and is under half the
#: gap between any two bands one operator holds for one technology.
BAND_SNAP_MHZ = 60.0


_CARRIERS_PATH = Path(__file__).with_name("carriers.toml")


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
        key = band_key(band)
        for c in self.of(operator, tech):
            if band_key(c.band) == key:
                return c
        return None

    def sharing_for(self, operator: str, carrier: Carrier | None) -> Sharing | None:
        if carrier is None:
            return None
        for s in self.sharing:
            if operator in s.operators and band_key(carrier.band) == band_key(s.band):
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


def band_key(band: str) -> str:
    return re.sub(r"\s+", "", str(band)).lower()


def _base_band(band: str) -> str:
    return band_key(band).split("-")[0]


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
    tech = str(raw.get("tech") or ("5G" if band_key(band).startswith("n") else "4G")).upper()
    if tech not in ("4G", "5G"):
        raise ConfigError(f"{where}: tech {raw.get('tech')!r} is not '4G' or '5G'")
    base = _base_band(band)
    edges = next((v for k, v in bands.items() if band_key(k) == base), None)
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
            and band_key(old.band) == band_key(c.band)
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
            if band_key(other.band) == band_key(band) and set(other.operators) & set(ops):
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
