"""Monitoring figures and the planner's report: one self-contained HTML page per run (figures
inlined as PNG data URIs, styles inline; no network, no script needed to read it)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from retail_forecasting.monitoring.checks import ALERT, MonitoringParams
from retail_forecasting.monitoring.checks import BANDS as SCORED_BANDS
from retail_forecasting.monitoring.store import quantile_column

# Figures are rendered to PNG only, never shown: no GUI backend, also headless.
matplotlib.use("Agg")


def rolling_accuracy_figure(
    scores: pd.DataFrame, summary: dict[str, Any], threshold: float
) -> Figure:
    """Each week's WMAE (its stored forecasts, all steps) against what the backtest promised
    for the same rows, and the alert level (``threshold`` x the promise)."""
    fig, ax = plt.subplots(figsize=(9, 4))
    # (scores read back from CSV carry a numeric version: compare as text)
    weeks = scores[
        (scores["segment"] == "week")
        & (scores["model_version"].astype(str) == str(summary["model_version"]))
    ]
    weeks = weeks.assign(date=pd.to_datetime(weeks["segment_value"])).sort_values("date")
    if len(weeks):
        ax.plot(
            weeks["date"],
            weeks["wmae"],
            marker="o",
            label="observed WMAE (stored forecasts of the week)",
        )
        ax.plot(
            weeks["date"],
            weeks["promised_wmae"],
            ls="--",
            marker=".",
            label="promised by the backtest (same steps)",
        )
        ax.plot(
            weeks["date"],
            threshold * weeks["promised_wmae"],
            color="tab:red",
            lw=1,
            label=f"alert level ({threshold:.2f}x)",
        )
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "no forecast has its actuals yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.set_title(f"Rolling accuracy vs expectation, model version {summary['model_version']}")
    ax.set_ylabel("WMAE")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def store_deviation_figure(checks: pd.DataFrame, summary: dict[str, Any]) -> Figure:
    """Each store's week total against its latest forecast, with its alert band."""
    rows = checks[checks["check_name"] == "total.store_deviation"].copy()
    fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(rows) + 2), 4))
    if len(rows):
        rows["store"] = rows["scope"].str.removeprefix("store=").astype(int)
        rows = rows.sort_values("store")
        x = np.arange(len(rows))
        colors = np.where(rows["status"] == ALERT, "tab:red", "tab:blue")
        ax.bar(x, 100 * rows["value"].astype(float), color=colors)
        ax.scatter(
            x,
            100 * rows["threshold"].astype(float),
            marker="_",
            color="k",
            s=80,
            label="alert band",
        )
        ax.scatter(x, -100 * rows["threshold"].astype(float), marker="_", color="k", s=80)
        ax.set_xticks(
            x, rows["store"].astype(str), fontsize=7, rotation=90 if len(rows) > 20 else 0
        )
        ax.axhline(0, color="grey", lw=0.8)
        ax.legend(fontsize=8)
    ax.set_title(f"Week {summary['as_of_week']}: store totals vs their latest forecast")
    ax.set_ylabel("actual vs forecast (%)")
    ax.set_xlabel("store")
    fig.tight_layout()
    return fig


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


#: The bands drawn around the forecast ahead: lower and upper quantile, opacity, legend label.
BANDS = ((0.1, 0.9, 0.2, "80% band"), (0.025, 0.975, 0.1, "95% band"))


def _series_panel(
    ax, actual: pd.Series, past: pd.DataFrame, future: pd.DataFrame, title: str
) -> None:
    """Actuals, the latest forecast made before each past week, and the newest forecast ahead."""
    ax.plot(actual.index, actual.to_numpy(), color="k", lw=1.5, label="actual")
    if len(past):
        ax.plot(
            past.index,
            past["forecast"],
            color="tab:orange",
            marker=".",
            lw=1,
            label="forecast (latest before the week)",
        )
    if len(future):
        ax.plot(future.index, future["forecast"], color="tab:blue", lw=1.5, label="forecast ahead")
        for lower, upper, alpha, label in BANDS:
            if future[quantile_column(lower)].notna().any():
                ax.fill_between(
                    future.index,
                    future[quantile_column(lower)],
                    future[quantile_column(upper)],
                    color="tab:blue",
                    alpha=alpha,
                    label=label,
                )
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)


def _sum_by_date(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return (
        frame.groupby("date")[columns].sum(min_count=1)
        if len(frame)
        else pd.DataFrame(columns=columns)
    )


def planner_figures(
    sales: pd.DataFrame,
    latest: pd.DataFrame,
    scored: pd.DataFrame,
    summary: dict[str, Any],
    params: MonitoringParams,
) -> dict[str, Figure]:
    """Forecast vs actual for total sales, per store type and for the worst-tracking series."""
    sales = sales.assign(date=pd.to_datetime(sales["date"]))
    start = sales["date"].max() - pd.Timedelta(weeks=params.report_weeks)
    shown = sales[sales["date"] > start]
    version = summary["model_version"]
    mine = (
        scored[(scored["model_version"] == version) & (scored["date"] > start)]
        if len(scored)
        else scored
    )
    # the most recent forecast made for each past week (smallest step)
    past = (
        mine.sort_values("step").drop_duplicates(["store", "dept", "date"]) if len(mine) else mine
    )
    q = ["forecast", *(quantile_column(level) for band in BANDS for level in band[:2])]
    figures: dict[str, Figure] = {}

    fig, ax = plt.subplots(figsize=(10, 4))
    _series_panel(
        ax,
        shown.groupby("date")["weekly_sales"].sum(),
        _sum_by_date(past, ["forecast"]),
        _sum_by_date(latest, q),
        "Total weekly sales: actual and forecast",
    )
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    figures["total"] = fig

    types = sorted(shown["store_type"].dropna().unique())
    fig, axes = plt.subplots(
        1, max(len(types), 1), figsize=(4 * max(len(types), 1), 3.5), squeeze=False
    )
    for ax, t in zip(axes[0], types, strict=False):
        pick = lambda f, t=t: f[f["store_type"] == t] if len(f) else f  # noqa: E731
        _series_panel(
            ax,
            pick(shown).groupby("date")["weekly_sales"].sum(),
            _sum_by_date(pick(past), ["forecast"]),
            _sum_by_date(pick(latest), q),
            f"Store type {t}",
        )
    fig.tight_layout()
    figures["store_type"] = fig

    n = params.worst_series
    if len(past):
        err = (
            past.assign(e=(past["forecast"] - past["actual"]).abs())
            .groupby(["store", "dept"])["e"]
            .mean()
        )
        worst = err.sort_values(ascending=False).head(n).index.tolist()
    else:
        worst = []
    cols = 3
    fig, axes = plt.subplots(
        max(1, -(-len(worst) // cols)),
        cols,
        figsize=(12, 3 * max(1, -(-len(worst) // cols))),
        squeeze=False,
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, (s, d) in zip(axes.flat, worst, strict=False):
        ax.axis("on")
        key = lambda f, s=s, d=d: f[(f["store"] == s) & (f["dept"] == d)]  # noqa: E731
        _series_panel(
            ax,
            key(shown).set_index("date")["weekly_sales"],
            key(past).set_index("date")[["forecast"]],
            key(latest).set_index("date")[q],
            f"store {s}, dept {d}: mean |error| {err[(s, d)]:,.0f}",
        )
    if not worst:
        axes.flat[0].text(0.5, 0.5, "no forecast has its actuals yet", ha="center", va="center")
    fig.suptitle(
        "Worst-tracking series (largest mean absolute error of the forecasts with actuals)",
        fontsize=10,
    )
    fig.tight_layout()
    figures["worst_series"] = fig
    return figures


STYLE = """
body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.badge{display:inline-block;padding:3px 10px;border-radius:4px;color:#fff;font-weight:bold}
.badge.ok{background:#2e7d32}.badge.alert{background:#c62828}.badge.info{background:#607d8b}
table{border-collapse:collapse;font-size:13px;width:100%}\
td,th{border:1px solid #ccc;padding:4px 6px;text-align:left}
tr.alert td{background:#ffebee}img{max-width:100%;border:1px solid #eee}
"""


def planner_report(
    summary: dict[str, Any],
    forecast_summary: dict[str, Any],
    checks: pd.DataFrame,
    figures: dict[str, Figure],
) -> str:
    """The self-contained HTML page: status, the planner's figures, the checks (alerts first)."""
    status = summary["status"]
    ordered = checks.assign(_o=(checks["status"] != ALERT).astype(int)).sort_values(
        ["_o", "check_name", "scope"]
    )
    rows = "\n".join(
        f'<tr class="{html.escape(r.status)}"><td>{html.escape(r.check_name)}</td>'
        f"<td>{html.escape(str(r.scope))}</td>"
        f'<td><span class="badge {html.escape(r.status)}">{html.escape(r.status)}</span></td>'
        f"<td>{'' if r.value is None or pd.isna(r.value) else f'{r.value:,.3g}'}</td>"
        f"<td>{'' if r.threshold is None or pd.isna(r.threshold) else f'{r.threshold:,.3g}'}</td>"
        f"<td>{html.escape(r.message)}</td></tr>"
        for r in ordered.itertuples()
    )
    images = "\n".join(
        f'<h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" src="{_png(fig)}">'
        for title, fig in (
            ("Total sales", figures["total"]),
            ("Per store type", figures["store_type"]),
            ("Worst-tracking series", figures["worst_series"]),
            ("Rolling accuracy vs the backtest's promise", figures["rolling_accuracy"]),
            ("Store totals this week", figures["store_deviation"]),
        )
    )
    overall = summary.get("overall") or {}
    accuracy = (
        (
            f"WMAE {overall['wmae']:,.1f} over {int(overall['n']):,} forecasts with actuals, "
            f"{overall['ratio']:.2f}x the promised {overall['promised_wmae']:,.1f}"
        )
        if overall
        else "no forecast scored yet"
    )
    bands = [
        f"the {level} % band held {overall[f'coverage_{level}']:.1%} of the actuals"
        for level in SCORED_BANDS
        if overall.get(f"coverage_{level}") is not None and pd.notna(overall[f"coverage_{level}"])
    ]
    if bands:
        accuracy += "; " + " and ".join(bands)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">\
<title>Weekly forecast report {summary["as_of_week"]}</title>
<style>{STYLE}</style></head><body>
<h1>Weekly forecast report: week ending {summary["as_of_week"]}</h1>
<p id="status">Status <span class="badge {status}">{status.upper()}</span> \
{summary["alerts"]} alert(s) of {summary["checks"]} checks.</p>
<p>Model <b>{html.escape(str(forecast_summary.get("model_name")))}</b> \
version <b>{html.escape(str(summary["model_version"]))}</b>,
trained on data up to {forecast_summary.get("trained_origin")}; \
forecasting from {forecast_summary.get("origin")}
({forecast_summary.get("weeks_since_training")} week(s) later, \
history refreshed, parameters unchanged) the next
{forecast_summary.get("horizon_weeks")} weeks of {forecast_summary.get("series")} series. \
Accuracy so far: {accuracy}.</p>
<h2>Checks</h2>
<table id="checks"><thead><tr><th>check</th><th>scope</th><th>status</th><th>value</th>\
<th>threshold</th><th>what</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{images}
<script>/* for automated checks: how many figures decoded (the page needs no script to be read) */
window.addEventListener("load", function () {{
  document.body.dataset.imagesLoaded = Array.prototype.filter.call(document.images,
    function (i) {{ return i.complete && i.naturalWidth > 0; }}).length;
}});</script>
</body></html>
"""
