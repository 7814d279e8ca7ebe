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

The names are :mod:`gigacov.operator_names`, the carrier table :mod:`gigacov.carrier_table`,
each cell's carrier and the overlap weights :mod:`gigacov.cell_carriers`, transmitters and
serving :mod:`gigacov.serving`; every name is importable from here.
"""

from __future__ import annotations

from .carrier_table import BAND_SNAP_MHZ, Carrier, CarrierTable, Sharing, load_carrier_table
from .cell_carriers import (
    SERVES_SEP,
    CarrierSummary,
    carrier_groups,
    carrier_span,
    overlap_weights,
    resolve_carriers,
)
from .operator_names import (
    OPERATOR_ZH,
    OPERATORS,
    OPERATORS_BY_PLMN,
    normalise_operator,
    operator_label,
    operator_slug,
    parse_operator,
    parse_operators,
)
from .serving import cells_serving, operator_sites, operators_present, serving_mask, transmitters

__all__ = [
    "OPERATORS",
    "OPERATOR_ZH",
    "OPERATORS_BY_PLMN",
    "Carrier",
    "CarrierTable",
    "CarrierSummary",
    "Sharing",
    "normalise_operator",
    "parse_operator",
    "parse_operators",
    "operator_label",
    "operator_slug",
    "load_carrier_table",
    "resolve_carriers",
    "transmitters",
    "cells_serving",
    "serving_mask",
    "operators_present",
    "operator_sites",
    "carrier_span",
    "overlap_weights",
    "carrier_groups",
    "SERVES_SEP",
    "BAND_SNAP_MHZ",
]
