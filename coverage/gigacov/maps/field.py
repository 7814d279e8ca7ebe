"""Map layers of the field check: samples coloured by error, disputed H3 hexagons.

* **Field samples** — every compared radio sample (at most :data:`MAX_SAMPLES`, an even
  deterministic subset beyond that; the legend says how many are drawn) as a small canvas circle
  coloured by the RSRP error (predicted − measured): blue where the model is pessimistic, red
  where it is optimistic. Tooltip: measured and predicted RSRP, the error, the clutter class.
* **Disputed areas** — the tested H3 hexagons: red where the prediction says covered but the
  measurements significantly say otherwise, blue for the reverse, a thin grey outline where the
  measurements do not contradict the prediction. Tooltip: counts, shares, p-value, county.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .encoding import Display, _feature, esc

if TYPE_CHECKING:  # the map being built (a type only)
    from .context import MapLayers

__all__ = ["add_field_layers", "ERROR_CLASSES", "MAX_SAMPLES", "DISPUTE_COLOURS"]

MAX_SAMPLES = 20_000
#: (upper bound of predicted − measured in dB, colour, label), in order.
ERROR_CLASSES = (
    (-10.0, "#2166ac", "model ≥ 10 dB too pessimistic"),
    (-3.0, "#67a9cf", "model 3–10 dB too pessimistic"),
    (3.0, "#bdbdbd", "within ±3 dB"),
    (10.0, "#ef8a62", "model 3–10 dB too optimistic"),
    (np.inf, "#b2182b", "model ≥ 10 dB too optimistic"),
)
DISPUTE_COLOURS = {
    "predicted_covered_measured_not": "#d7301f",
    "predicted_not_measured_covered": "#2b8cbe",
    "": "#636363",
}


def _sample_payload(samples, display: Display) -> dict[str, Any]:
    s = samples[np.isfinite(samples["error_rsrp_db"].to_numpy())]
    n_all = len(s)
    if n_all > MAX_SAMPLES:
        idx = np.linspace(0, n_all - 1, MAX_SAMPLES).round().astype(np.int64)
        s = s.iloc[idx]
    lon, lat = display.lonlat(s["lon"].to_numpy(), s["lat"].to_numpy())
    err = s["error_rsrp_db"].to_numpy(dtype=np.float64)
    bounds = np.array([b for b, _, _ in ERROR_CLASSES[:-1]])
    cls = np.searchsorted(bounds, err, side="left")
    return {
        "lat": np.round(lat, 6).tolist(),
        "lon": np.round(lon, 6).tolist(),
        "meas": np.round(s["rsrp_dbm"].to_numpy(dtype=np.float64), 1).tolist(),
        "pred": np.round(s["pred_rsrp_dbm"].to_numpy(dtype=np.float64), 1).tolist(),
        "cls": cls.astype(int).tolist(),
        "clutter": s["clutter"].astype(str).tolist(),
        "colours": [c for _, c, _ in ERROR_CLASSES],
        "drawn": int(len(s)),
        "total": int(n_all),
    }


def _hex_payload(hexes, display: Display) -> dict[str, Any]:
    h = hexes[hexes["tested"]].reset_index(drop=True)
    geoms = display.geoms(h.geometry, simplify=False)
    features = []
    for i, row in enumerate(h.itertuples(index=False)):
        verdict = "covered" if row.predicted_verdict == "covered" else "not covered"
        title = {
            "predicted_covered_measured_not": "Disputed: predicted covered, measured not",
            "predicted_not_measured_covered": "Disputed: predicted not covered, measured covered",
        }.get(row.dispute, "Measurements agree with the prediction")
        rows = [
            ("technology", row.tech),
            ("samples", f"{row.n:,}"),
            (
                "measured not covered",
                f"{row.n_measured_not_covered:,} ({row.share_measured_not_covered:.0%})",
            ),
            ("predicted", verdict),
            ("p-value", f"{row.p_value:.3g}"),
            ("county", f"{row.county} {row.admin_code}".strip() or "–"),
            ("H3 cell", row.hex_id),
        ]
        tip = (
            f'<div class="gc-tip"><b>{esc(title)}</b><table class="gc-table">'
            + "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
            + "</table></div>"
        )
        features.append(_feature(geoms[i], {"tip": tip, "d": row.dispute}))
    return {"type": "FeatureCollection", "features": features}


def add_field_layers(lay: MapLayers) -> None:
    """Add the field-check layers to a map being built (no-op for a run without measurements)."""
    run, display, payload, legend = lay.run, lay.display, lay.payload, lay.legend
    counts, layer_bytes, size_of, add_group = lay.counts, lay.bytes, lay.size, lay.add_group
    fr = getattr(run, "field_result", None)
    if fr is None:
        return
    compared = fr.compared
    if len(compared):
        samples = _sample_payload(compared, display)
        payload["fieldSamples"] = samples
        layer_bytes["field_samples"] = size_of(samples)
        counts["field_samples"] = samples["drawn"]
        add_group("field_samples", "实测样本 RSRP 误差 / Field samples — RSRP error", False)
        note = (
            f"{samples['drawn']:,} of {samples['total']:,} samples drawn"
            if samples["drawn"] < samples["total"]
            else ""
        )
        legend.append(
            {
                "keys": ["field_samples"],
                "title": "Field samples: predicted − measured RSRP",
                "note": note,
                "items": [[c, lab, "circle"] for _, c, lab in ERROR_CLASSES],
            }
        )
    hexes = fr.hexagons
    if len(hexes) and hexes["tested"].any():
        fc = _hex_payload(hexes, display)
        payload["disputed"] = fc
        payload["disputeColours"] = DISPUTE_COLOURS
        layer_bytes["disputed"] = size_of(fc)
        counts["disputed"] = len(fc["features"])
        add_group(
            "disputed",
            "争议区域（实测与预测不符） / Disputed areas (measurements vs prediction)",
            True,
        )
        legend.append(
            {
                "keys": ["disputed"],
                "title": "H3 hexagons tested against the measurements",
                "items": [
                    [
                        DISPUTE_COLOURS["predicted_covered_measured_not"],
                        "disputed: predicted covered, measured not",
                        "box",
                    ],
                    [
                        DISPUTE_COLOURS["predicted_not_measured_covered"],
                        "disputed: predicted not covered, measured covered",
                        "box",
                    ],
                    [DISPUTE_COLOURS[""], "measurements agree", "line"],
                ],
            }
        )
