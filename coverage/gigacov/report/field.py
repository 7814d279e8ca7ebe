"""The report section "实测对比 / field check": measurements against the prediction.

Built from the run's :class:`gigacov.field.FieldResult` (the same numbers as
``field_check.json``, ``calibration.json`` and ``disputed.gpkg``): error statistics with their
breakdowns, a predicted-versus-measured scatter and an error histogram, the calibration fitted on
the samples (before / after on held-out spatial folds), the disputed hexagons per county with the
counties whose verdict would change, and the speed tests against the reported user shares.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import charts

if TYPE_CHECKING:  # pragma: no cover
    from ..run_result import RunResult

__all__ = ["field_context"]

_BREAKDOWNS = (
    ("by_clutter", "按地物类型", "by clutter class"),
    ("by_county", "按区县", "by county"),
    ("by_operator", "按运营商", "by operator"),
    ("by_distance_band", "按与服务小区距离", "by distance to the serving cell"),
)


def _f(v: Any, digits: int = 1, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.{digits}f}{unit}"


def _pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{100.0 * v:.1f} %"


def _stats_row(label: str, s: dict[str, Any]) -> list[str]:
    return [
        label,
        f"{s['n']:,}",
        _f(s["mean_error_db"], 2),
        _f(s["std_db"], 2),
        _f(s["rmse_db"], 2),
        _pct(s.get("verdict_agreement")),
    ]


def _scatter_and_histogram(
    compared, tech: str, font: str, lang, suffix: str
) -> list[dict[str, str]]:
    part = compared[(compared["tech"] == tech) & np.isfinite(compared["error_rsrp_db"].to_numpy())]
    if part.empty:
        return []
    meas = part["rsrp_dbm"].to_numpy(dtype=np.float64)
    pred = part["pred_rsrp_dbm"].to_numpy(dtype=np.float64)
    err = part["error_rsrp_db"].to_numpy(dtype=np.float64)
    thr = float(part.attrs.get("threshold", math.nan))
    out = []
    with charts._style(font):
        fig = charts._new_figure(5.2, 4.6)
        ax = fig.add_subplot()
        lo = float(np.floor(min(meas.min(), pred.min()) / 10.0) * 10.0)
        hi = float(np.ceil(max(meas.max(), pred.max()) / 10.0) * 10.0)
        if len(part) > 5000:
            hb = ax.hexbin(
                meas,
                pred,
                gridsize=60,
                extent=(lo, hi, lo, hi),
                mincnt=1,
                cmap="viridis",
            )
            fig.colorbar(hb, ax=ax, label=lang("样本数", "samples"))
        else:
            ax.scatter(meas, pred, s=4, alpha=0.5, color="#3182bd", linewidths=0)
        ax.plot(
            [lo, hi],
            [lo, hi],
            color="#333333",
            linewidth=1,
            label=lang("预测 = 实测", "predicted = measured"),
        )
        if math.isfinite(thr):
            ax.axvline(thr, color="#d7301f", linestyle="--", linewidth=0.8)
            ax.axhline(
                thr,
                color="#d7301f",
                linestyle="--",
                linewidth=0.8,
                label=lang("覆盖门限", "coverage threshold"),
            )
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(lang(f"实测 {tech} RSRP (dBm)", f"measured {tech} RSRP (dBm)"))
        ax.set_ylabel(lang(f"预测 {tech} RSRP (dBm)", f"predicted {tech} RSRP (dBm)"))
        ax.legend(loc="upper left", frameon=False)
        title = f"{lang('预测与实测', 'predicted versus measured')} — {tech}{suffix}"
        ax.set_title(charts.wrap_title(title, 60))
        out.append({"title": title, "uri": charts.png_data_uri(charts._png(fig))})
        fig = charts._new_figure(5.2, 4.6)
        ax = fig.add_subplot()
        lim = float(np.clip(np.nanpercentile(np.abs(err), 99.5), 10.0, 60.0))
        ax.hist(
            np.clip(err, -lim, lim),
            bins=np.linspace(-lim, lim, 61),
            color="#6baed6",
            edgecolor="white",
            linewidth=0.3,
        )
        mean = float(np.mean(err))
        ax.axvline(0.0, color="#333333", linewidth=1)
        ax.axvline(
            mean,
            color="#d7301f",
            linewidth=1.2,
            label=lang(f"平均误差 {mean:+.1f} dB", f"mean error {mean:+.1f} dB"),
        )
        ax.set_xlabel(lang("误差 = 预测 − 实测 (dB)", "error = predicted − measured (dB)"))
        ax.set_ylabel(lang("样本数", "samples"))
        ax.legend(loc="upper left", frameon=False)
        title = f"{lang('RSRP 误差分布', 'RSRP error')} — {tech}{suffix}"
        ax.set_title(charts.wrap_title(title, 60))
        out.append({"title": title, "uri": charts.png_data_uri(charts._png(fig))})
    return out


def field_context(run: RunResult, lang, font: str, suffix: str) -> dict[str, Any] | None:
    """Template context of the field-check section, or None for a run without measurements."""
    fr = getattr(run, "field_result", None)
    if fr is None:
        return None
    summary = fr.summary
    stats_headers = [
        lang("分组", "group"),
        lang("样本数", "samples"),
        lang("平均误差 dB", "mean error dB"),
        lang("标准差 dB", "std dB"),
        lang("均方根误差 RMSE dB", "RMSE dB"),
        lang("覆盖判定一致", "verdict agreement"),
    ]
    techs = []
    compared = fr.compared
    for tech, entry in summary.get("technologies", {}).items():
        block: dict[str, Any] = {
            "tech": tech,
            "n": f"{entry['n']:,}",
            "agreement": _pct(entry["verdict_agreement"]),
            "measured_covered": _pct(entry["measured_covered_share"]),
            "predicted_covered": _pct(entry["predicted_covered_share"]),
            "pred_not_meas": f"{entry['predicted_covered_measured_not']:,}",
            "meas_not_pred": f"{entry['measured_covered_predicted_not']:,}",
            "tables": [],
            "charts": [],
        }
        for what, label in (("rsrp", "RSRP"), ("sinr", "SINR")):
            if what not in entry:
                continue
            e = entry[what]
            rows = [_stats_row(lang("全部", "overall"), e["overall"])]
            block["tables"].append(
                {
                    "title": f"{label} — {lang('总体', 'overall')}",
                    "headers": stats_headers,
                    "rows": rows,
                }
            )
            if what != "rsrp":
                continue
            for key, zh, en in _BREAKDOWNS:
                rows = [_stats_row(k, v) for k, v in e[key].items()]
                block["tables"].append(
                    {"title": f"{label} — {lang(zh, en)}", "headers": stats_headers, "rows": rows}
                )
        thr = summary.get("thresholds", {}).get(tech, {}).get("rsrp_dbm", math.nan)
        part = compared[compared["tech"] == tech]
        part.attrs["threshold"] = thr
        block["charts"] = _scatter_and_histogram(part, tech, font, lang, suffix)
        techs.append(block)
    applied = [
        {
            "tech": tech,
            "file": a["file"],
            "offsets": ", ".join(f"{k} {v:+.2f} dB" for k, v in a["offsets_db"].items()),
        }
        for tech, a in (summary.get("calibration_applied") or {}).items()
        if a
    ]
    cal_rows = []
    for tech, t in fr.calibration.get("technologies", {}).items():
        offs = ", ".join(f"{k} {v:+.2f}" for k, v in t["offsets_db"].items())
        if t.get("slopes_db_per_decade"):
            offs += (
                "; "
                + lang("斜率", "slopes")
                + " "
                + ", ".join(f"{k} {v:+.2f}" for k, v in t["slopes_db_per_decade"].items())
            )
        cal_rows.append(
            [
                tech,
                f"{t['n']:,}",
                offs,
                _f(t["before"]["rmse_db"], 2),
                _f(t["after"]["rmse_db"], 2),
                _f(t["before"]["mean_error_db"], 2),
                _f(t["after"]["mean_error_db"], 2),
                _pct(t["before"].get("verdict_agreement")),
                _pct(t["after"].get("verdict_agreement")),
                f"{t['downweighted']:,} / {t['outliers_beyond_3_sigma']:,}",
                f"{t['cv']['folds']} × {t['cv']['block_m'] / 1000:g} km",
            ]
        )
    d = summary.get("disputed", {})
    county_rows = [
        [
            r["tech"],
            f"{r['county']} {r['admin_code']}".strip(),
            f"{int(r['hexagons']):,}",
            f"{int(r['tested']):,}",
            f"{int(r['disputed_not_covered']):,}",
            f"{int(r['disputed_covered']):,}",
        ]
        for r in d.get("by_county", [])
    ]
    changes = [
        {
            "county": f"{c['name']} ({c['admin_code']})",
            "standard": c["standard"],
            "before": lang.status(c["status_before"]),
            "after": lang.status(c["status_after"]),
            "indicators": "; ".join(c["indicators"]),
        }
        for c in d.get("verdict_changes", [])
    ]
    speed_rows = [
        [
            f"{s['name']} {s['admin_code']}".strip(),
            f"{s['tests']:,}",
            _pct(s["share_500_tests"]),
            _pct(s["reported_500_share"]),
            _f(s["gap_500_pp"], 1),
            _pct(s["share_1000_tests"]),
            _pct(s["reported_1000_share"]),
            _f(s["gap_1000_pp"], 1),
            "; ".join(s["notes"]),
        ]
        for s in summary.get("speed_tests", [])
    ]
    status = summary.get("status", {})
    return {
        "samples": f"{summary.get('samples', 0):,}",
        "status": [[k, f"{v:,}"] for k, v in status.items()],
        "techs": techs,
        "applied": applied,
        "calibration": cal_rows,
        "disputed": {
            "hexagons": f"{d.get('hexagons', 0):,}",
            "tested": f"{d.get('tested', 0):,}",
            "not_covered": f"{d.get('disputed_predicted_covered_measured_not', 0):,}",
            "covered": f"{d.get('disputed_predicted_not_measured_covered', 0):,}",
            "resolution": d.get("h3_resolution"),
            "min_samples": d.get("min_samples"),
            "share": _pct(d.get("share")),
            "confidence": _pct(d.get("confidence")),
            "counties": county_rows,
            "changes": changes,
        },
        "speed": speed_rows,
    }
