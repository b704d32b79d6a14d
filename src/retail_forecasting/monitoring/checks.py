"""Monitoring, pure part: what the backtest promised per horizon step, how the stored forecasts
did once their actuals arrived, whether the inputs drifted, and which checks raise an alert.

Everything here is a function of frames and parameters (no I/O): the Kedro nodes
(``pipelines/monitoring``) and the Lambda handler (``infra/lambdas/monitoring_check.py``) call
:func:`evaluate` on frames read from the warehouse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.forecasting.contract import MARKDOWNS, OBSERVED
from retail_forecasting.metrics import HOLIDAY_WEIGHT, holiday_weights
from retail_forecasting.monitoring.store import QUANTILE_COLUMNS

logger = logging.getLogger(__name__)

WEEK = pd.Timedelta(weeks=1)
OK, ALERT, INFO = "ok", "alert", "info"
#: The bands the monitoring scores: nominal level (%) -> (lower, upper) quantile column.
BANDS = {80: ("q0_1", "q0_9"), 95: ("q0_025", "q0_975")}


class AccuracyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: alert when a week's WMAE exceeds the promised WMAE (per step) by this factor ...
    min_ratio: float = Field(1.5, gt=1)
    #: ... or by this multiple of the worst week-to-promise ratio of the backtest, if larger
    backtest_margin: float = Field(1.2, gt=0)


class CoverageParams(BaseModel):
    """The bands' coverage, once the model returns quantiles (80 %: q0.1..q0.9, 95 %:
    q0.025..q0.975)."""

    model_config = ConfigDict(extra="forbid")
    #: the newest week's 80 % coverage (every stored forecast of that week) further than this
    #: from 80 %: one week's forecasts share its shocks, so only a gross miss shows there
    week_tolerance: float = Field(0.2, gt=0, le=1)
    #: the coverage of every forecast scored in the last ``weeks`` weeks, per level: alert when
    #: it is further from nominal than ``tolerance`` or ``z`` standard errors (weeks as
    #: clusters: the week-to-week spread of the coverage), whichever is larger ...
    tolerance: float = Field(0.03, gt=0, le=1)
    z: float = Field(3.0, gt=0)
    weeks: int = Field(13, ge=2)
    #: ... once that many weeks are scored (before: information only)
    min_weeks: int = Field(8, ge=2)


class TotalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: a store's (or the chain's) week total deviates from its latest forecast by more than this
    #: share of the forecast ...
    min_deviation: float = Field(0.2, gt=0)
    #: ... or more than this multiple of its worst deviation in the backtest
    #: (steps <= promise_steps)
    backtest_margin: float = Field(1.5, gt=0)
    promise_steps: int = Field(4, ge=1)


class DriftParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active_weeks: int = Field(8, ge=1, description="weeks that define 'active' series and stores")
    range_tolerance: float = Field(
        0.1, ge=0, description="share of the historical range allowed beyond it"
    )
    max_vanished_series_share: float = Field(0.1, ge=0, le=1)
    max_row_count_change: float = Field(0.1, ge=0)
    calibration_weeks: int = Field(
        26, ge=2, description="past weeks that calibrate the series and row-count checks"
    )
    calibration_margin: float = Field(1.5, gt=0)
    markdown_present_drop: float = Field(
        0.5,
        gt=0,
        le=1,
        description="alert when the share of stores with markdowns falls below this share "
        "of its recent level",
    )


class MonitoringParams(BaseModel):
    """``monitoring`` parameters (``conf/base/parameters_monitoring.yml``)."""

    model_config = ConfigDict(extra="forbid")

    holiday_weight: float = HOLIDAY_WEIGHT
    accuracy: AccuracyParams = AccuracyParams()
    coverage: CoverageParams = CoverageParams()
    total: TotalParams = TotalParams()
    drift: DriftParams = DriftParams()
    report_weeks: int = Field(
        26, ge=4, description="weeks of actuals shown in the planner's report"
    )
    worst_series: int = Field(6, ge=1)


# ------------------------------------------------------------------------------ the promise


def backtest_promise(
    backtest: pd.DataFrame, model: str, holiday_weight: float = HOLIDAY_WEIGHT, total_steps: int = 4
) -> dict[str, Any]:
    """What the champion's rolling-origin backtest promises (``<model>.mo_backtest``: one row per
    series, week and cutoff with ``step``, ``actual`` and the ``model`` column):

    - ``by_step``: WMAE, MAE, bias (mean forecast - actual) and rows per horizon step;
    - ``weekly_ratio``: the distribution (median, 95th percentile, max) of one week's WMAE over
      its step's WMAE, i.e. how far a single normal week strays from the promise;
    - ``store_total``: per store, the largest relative deviation of a week's store total from
      its forecast at steps ``1..total_steps``; ``chain_total`` the same for all stores.
    """
    if model not in backtest:
        raise ValueError(f"the backtest has no column {model!r}; columns {list(backtest.columns)}")
    bt = backtest.assign(
        _err=backtest[model] - backtest["actual"],
        _w=holiday_weights(backtest["is_holiday"], holiday_weight),
    )
    bt["_wabs"] = bt["_w"] * bt["_err"].abs()
    by_step = bt.groupby("step").agg(
        n=("_err", "size"),
        w=("_w", "sum"),
        wabs=("_wabs", "sum"),
        abs=("_err", lambda e: e.abs().sum()),
        bias=("_err", "mean"),
    )
    by_step["wmae"] = by_step["wabs"] / by_step["w"]
    by_step["mae"] = by_step["abs"] / by_step["n"]
    weekly = (
        bt.groupby(["cutoff", "step"]).agg(w=("_w", "sum"), wabs=("_wabs", "sum")).reset_index()
    )
    weekly["ratio"] = (weekly["wabs"] / weekly["w"]) / weekly["step"].map(by_step["wmae"])
    near = bt[bt["step"] <= total_steps]
    store_weeks = near.groupby(["cutoff", "date", "store"])[[model, "actual"]].sum()
    store_dev = (
        (store_weeks["actual"] - store_weeks[model]) / store_weeks[model].abs().clip(lower=1.0)
    ).abs()
    chain = near.groupby(["cutoff", "date"])[[model, "actual"]].sum()
    chain_dev = ((chain["actual"] - chain[model]) / chain[model].abs().clip(lower=1.0)).abs()
    return {
        "model": model,
        "cutoffs": sorted(f"{c:%Y-%m-%d}" for c in pd.to_datetime(bt["cutoff"].unique())),
        "holiday_weight": holiday_weight,
        "by_step": [
            {
                "step": int(s),
                "wmae": float(r.wmae),
                "mae": float(r.mae),
                "bias": float(r.bias),
                "n": int(r.n),
            }
            for s, r in by_step.iterrows()
        ],
        "overall_wmae": float(by_step["wabs"].sum() / by_step["w"].sum()),
        "weekly_ratio": {
            "median": float(weekly["ratio"].median()),
            "q95": float(weekly["ratio"].quantile(0.95)),
            "max": float(weekly["ratio"].max()),
        },
        "store_total": {
            "steps": total_steps,
            "max_deviation": {
                str(int(s)): float(v) for s, v in store_dev.groupby(level="store").max().items()
            },
            "q95": float(store_dev.quantile(0.95)),
        },
        "chain_total": {"steps": total_steps, "max_deviation": float(chain_dev.max())},
    }


def promised_wmae(promise: dict[str, Any], steps: pd.Series) -> np.ndarray:
    """The promised WMAE of each row's step (the last promised step beyond the backtest's)."""
    table = pd.DataFrame(promise["by_step"]).set_index("step")["wmae"]
    return table.reindex(steps.clip(upper=table.index.max()).to_numpy()).to_numpy(dtype=float)


# ------------------------------------------------------------------------------ scores


def normalise_scored(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``vw_forecast_vs_actual`` as read by any driver: dates as datetime64, numbers as
    floats (NULL quantiles come back as None from some drivers), ``is_holiday`` as bool."""
    out = frame.copy()
    for column in ("date", "origin", "created_at"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).astype("datetime64[ns]")
    for column in ("forecast", "actual", *QUANTILE_COLUMNS):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    for column in ("store", "dept", "step"):
        if column in out:
            out[column] = out[column].astype("int64")
    if "is_holiday" in out:
        out["is_holiday"] = out["is_holiday"].fillna(False).astype(bool)
    if "model_version" in out:
        out["model_version"] = out["model_version"].astype(str)
    return out


#: Columns of the additive score sums: one row per model version, horizon step, holiday flag
#: and segment value (``week``: the date as YYYY-MM-DD, ``store_type``, ``dept``); the warehouse
#: computes the same rows (``sql/11_monitoring_score_sums.sql``, run by
#: :mod:`retail_forecasting.monitoring.service` and the catalog's ``mon_score_sums``).
SUM_COLUMNS = [
    "model_version",
    "step",
    "is_holiday",
    "segment",
    "segment_value",
    "n",
    "abs_err",
    "err",
    "n80",
    "in80",
    "n95",
    "in95",
]
SEGMENTS = ("overall", "week", "step", "store_type", "dept")
#: The band counts a score row carries per scored band: rows with the band, actuals inside it.
BAND_COUNTS = [f"{prefix}{level}" for level in BANDS for prefix in ("n", "in")]


def score_sums(scored: pd.DataFrame) -> pd.DataFrame:
    """The additive sums :func:`scores_from_sums` turns into scores, from rows of
    ``vw_forecast_vs_actual`` with their actual: per model version, step, holiday flag and value
    of each segment (``week``, ``store_type``, ``dept``), the row count, the sums of absolute
    and signed errors, and how many rows have a band and how many actuals fall inside it."""
    if scored.empty:
        return pd.DataFrame(columns=SUM_COLUMNS)
    frame = scored.assign(
        is_holiday=scored["is_holiday"].fillna(False).astype(bool),
        week=scored["date"].dt.strftime("%Y-%m-%d"),
        _err=scored["forecast"] - scored["actual"],
        _n80=scored["q0_1"].notna(),
        _n95=scored["q0_025"].notna(),
        _in80=(scored["actual"] >= scored["q0_1"]) & (scored["actual"] <= scored["q0_9"]),
        _in95=(scored["actual"] >= scored["q0_025"]) & (scored["actual"] <= scored["q0_975"]),
    )
    frame["_abs"] = frame["_err"].abs()
    parts = []
    for segment in ("week", "store_type", "dept"):
        keys = ["model_version", "step", "is_holiday", segment]
        agg = (
            frame.groupby(keys, observed=True)
            .agg(
                n=("_err", "size"),
                abs_err=("_abs", "sum"),
                err=("_err", "sum"),
                n80=("_n80", "sum"),
                in80=("_in80", "sum"),
                n95=("_n95", "sum"),
                in95=("_in95", "sum"),
            )
            .reset_index()
        )
        parts.append(agg.assign(segment=segment, segment_value=agg[segment].astype(str)))
    return pd.concat(parts, ignore_index=True)[SUM_COLUMNS]


def scores_from_sums(
    sums: pd.DataFrame, promise: dict[str, Any], holiday_weight: float = HOLIDAY_WEIGHT
) -> pd.DataFrame:
    """Scores per model version and segment (``overall``, ``week``, ``step``, ``store_type``,
    ``dept``) from :func:`score_sums` rows (or the warehouse's, same columns): WMAE, MAE, bias, the
    promised WMAE of the same rows (each row's step) and their ratio, and the band coverage where
    quantiles exist, with its counts (``n80``: rows with an 80 % band, ``in80``: actuals inside
    it; the same for 95 %), so that scores of several segment values pool exactly. Sums are
    additive, so a week's rows are scored once whatever their number."""
    columns = [
        "model_version",
        "segment",
        "segment_value",
        "n",
        "wmae",
        "mae",
        "bias",
        "promised_wmae",
        "ratio",
        *(f"coverage_{level}" for level in BANDS),
        *BAND_COUNTS,
    ]
    sums = sums.dropna(subset=["segment_value"])
    if sums.empty:
        return pd.DataFrame(columns=columns)
    numbers = ["n", "abs_err", "err", *BAND_COUNTS]
    frame = sums.assign(
        model_version=sums["model_version"].astype(str),
        step=sums["step"].astype("int64"),
        **{c: pd.to_numeric(sums[c]).astype(float) for c in numbers},
    )
    weight = np.where(frame["is_holiday"].fillna(False).astype(bool), holiday_weight, 1.0)
    frame["w"] = frame["n"] * weight
    frame["wabs"] = frame["abs_err"] * weight
    frame["wprom"] = frame["w"] * promised_wmae(promise, frame["step"])
    week = frame[frame["segment"] == "week"]
    views = {
        "overall": week.assign(segment_value="all"),
        "week": week,
        "step": week.assign(segment_value=week["step"].astype(str)),
        "store_type": frame[frame["segment"] == "store_type"],
        "dept": frame[frame["segment"] == "dept"],
    }
    parts = []
    for segment in SEGMENTS:
        agg = (
            views[segment]
            .groupby(["model_version", "segment_value"])[["w", "wabs", "wprom", *numbers]]
            .sum()
            .reset_index()
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(
                pd.DataFrame(
                    {
                        "model_version": agg["model_version"],
                        "segment": segment,
                        "segment_value": agg["segment_value"],
                        "n": agg["n"].astype("int64"),
                        "wmae": agg["wabs"] / agg["w"],
                        "mae": agg["abs_err"] / agg["n"],
                        "bias": agg["err"] / agg["n"],
                        "promised_wmae": agg["wprom"] / agg["w"],
                        "ratio": agg["wabs"] / agg["wprom"],
                        **{
                            f"coverage_{level}": (agg[f"in{level}"] / agg[f"n{level}"]).where(
                                agg[f"n{level}"] > 0
                            )
                            for level in BANDS
                        },
                        **{c: agg[c].astype("int64") for c in BAND_COUNTS},
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)[columns]
    # numeric order of steps (and dates, departments) within a segment, as a groupby gave
    order = out["segment_value"].map(
        lambda v: (0, float(v), "") if v.replace(".", "", 1).isdigit() else (1, 0.0, v)
    )
    out = out.assign(_s=out["segment"].map({s: i for i, s in enumerate(SEGMENTS)}), _o=order)
    return (
        out.sort_values(["model_version", "_s", "_o"], kind="stable")
        .drop(columns=["_s", "_o"])
        .reset_index(drop=True)
    )


def score_forecasts(
    scored: pd.DataFrame, promise: dict[str, Any], holiday_weight: float = HOLIDAY_WEIGHT
) -> pd.DataFrame:
    """Scores of the stored forecasts whose actuals arrived (rows of ``vw_forecast_vs_actual``
    with ``actual``): :func:`scores_from_sums` of :func:`score_sums`."""
    return scores_from_sums(score_sums(scored), promise, holiday_weight)


# ------------------------------------------------------------------------------ checks


@dataclass
class Checks:
    """Collects check rows (one per check and scope)."""

    rows: list[dict[str, Any]]

    def add(
        self,
        name: str,
        scope: str,
        value: float | None,
        threshold: float | None,
        alert: bool | None,
        message: str,
    ) -> None:
        status = INFO if alert is None else (ALERT if alert else OK)
        self.rows.append(
            {
                "check_name": name,
                "scope": scope,
                "value": None if value is None or not np.isfinite(value) else float(value),
                "threshold": None if threshold is None else float(threshold),
                "status": status,
                "message": message,
            }
        )


def accuracy_threshold(promise: dict[str, Any], params: MonitoringParams) -> float:
    """The week-to-promise WMAE ratio above which a week raises an alert: ``min_ratio``, or
    ``backtest_margin`` times the worst ratio of a single backtest week, whichever is larger."""
    return max(
        params.accuracy.min_ratio, params.accuracy.backtest_margin * promise["weekly_ratio"]["max"]
    )


def _holiday_weighted_mean(values: Any, is_holiday: pd.Series, holiday_weight: float) -> float:
    """The mean of ``values`` (errors, or promised WMAEs) over rows weighted as in the WMAE:
    ``holiday_weight`` on holiday weeks (a missing flag counts as not a holiday), 1 otherwise."""
    w = holiday_weights(is_holiday.fillna(False).astype(bool), holiday_weight)
    return float((w * values).sum() / w.sum())


def _accuracy_checks(
    checks: Checks,
    week_rows: pd.DataFrame,
    promise: dict[str, Any],
    params: MonitoringParams,
    week: pd.Timestamp,
) -> None:
    threshold = accuracy_threshold(promise, params)
    if week_rows.empty:
        checks.add(
            "accuracy.week_wmae_ratio",
            "all",
            None,
            threshold,
            None,
            f"no stored forecast covers {week:%Y-%m-%d}: nothing to score yet",
        )
        return
    holiday, hw = week_rows["is_holiday"], params.holiday_weight
    err = (week_rows["forecast"] - week_rows["actual"]).abs().to_numpy()
    wmae = _holiday_weighted_mean(err, holiday, hw)
    expected = _holiday_weighted_mean(promised_wmae(promise, week_rows["step"]), holiday, hw)
    ratio = wmae / expected if expected > 0 else np.inf
    steps = sorted(week_rows["step"].unique())
    checks.add(
        "accuracy.week_wmae_ratio",
        "all",
        ratio,
        threshold,
        ratio > threshold,
        f"week {week:%Y-%m-%d}: WMAE {wmae:,.1f} over {len(week_rows):,} forecasts (steps "
        f"{steps[0]}..{steps[-1]}) vs {expected:,.1f} promised by the backtest at those steps: "
        f"ratio {ratio:.2f} (alert above {threshold:.2f})",
    )
    latest = week_rows[week_rows["step"] == week_rows["step"].min()]
    by_type = latest.groupby("store_type", observed=True)
    for store_type, rows in by_type:
        err_type = (rows["forecast"] - rows["actual"]).abs()
        value = _holiday_weighted_mean(err_type, rows["is_holiday"], hw)
        exp = _holiday_weighted_mean(promised_wmae(promise, rows["step"]), rows["is_holiday"], hw)
        checks.add(
            "accuracy.store_type_wmae_ratio",
            f"store_type={store_type}",
            value / exp if exp else None,
            threshold,
            None,
            f"type {store_type} stores, step {int(rows['step'].iloc[0])}: WMAE {value:,.1f} "
            f"vs {exp:,.1f} promised (information)",
        )


def _week_coverage_check(
    checks: Checks, week_rows: pd.DataFrame, params: MonitoringParams, week: pd.Timestamp
) -> None:
    """The newest week's 80 % coverage, over every stored forecast of that week."""
    lower, upper = BANDS[80]
    if week_rows.empty or not week_rows[lower].notna().any():
        return
    band = week_rows.dropna(subset=[lower, upper])
    coverage = float(((band["actual"] >= band[lower]) & (band["actual"] <= band[upper])).mean())
    tol = params.coverage.week_tolerance
    checks.add(
        "accuracy.coverage_80",
        "all",
        coverage,
        tol,  # the allowed gap, as the checks over the last weeks store theirs
        abs(coverage - 0.8) > tol,
        f"{coverage:.0%} of the actuals of {week:%Y-%m-%d} inside the q0.1..q0.9 band "
        f"(nominal 80%, alert outside {0.8 - tol:.0%}..{min(0.8 + tol, 1):.0%})",
    )


def coverage_to_date(scores: pd.DataFrame, version: str, weeks: int) -> pd.DataFrame:
    """The coverage of every forecast of model ``version`` scored in its last ``weeks`` weeks
    with actuals, per band (index: the nominal level): ``coverage`` (pooled over the rows),
    ``rows``, ``weeks`` and ``se``, the standard error of the pooled coverage with the weeks as
    clusters (CR1: a week's forecasts share that week's shocks, so its rows are not independent
    draws). From the ``week`` rows of :func:`scores_from_sums` and their band counts."""
    columns = ["coverage", "rows", "weeks", "se"]
    mine = scores[(scores["segment"] == "week") & (scores["model_version"].astype(str) == version)]
    per_week = mine.sort_values("segment_value")  # YYYY-MM-DD: date order
    out = {}
    for level in BANDS:
        n, inside = f"n{level}", f"in{level}"
        band = per_week[per_week[n] > 0].tail(weeks)
        k, rows = len(band), float(band[n].sum())
        if k == 0:
            continue
        coverage = float(band[inside].sum() / rows)
        # CR1 cluster-robust variance of a pooled proportion: sum over clusters of
        # (in_k - n_k * p)^2 / N^2, times k / (k - 1)
        resid = band[inside].to_numpy(float) - band[n].to_numpy(float) * coverage
        se = float(np.sqrt((resid**2).sum() * k / (k - 1)) / rows) if k > 1 else np.nan
        out[level] = {"coverage": coverage, "rows": int(rows), "weeks": k, "se": se}
    return pd.DataFrame.from_dict(out, orient="index", columns=columns)


def _coverage_to_date_checks(
    checks: Checks, scores: pd.DataFrame, version: str, params: MonitoringParams
) -> None:
    """Per band: is the coverage of the last weeks' forecasts within tolerance of nominal?"""
    p = params.coverage
    table = coverage_to_date(scores, version, p.weeks)
    for level, row in table.iterrows():
        nominal, coverage, k = level / 100, row["coverage"], int(row["weeks"])
        spread = p.z * row["se"] if np.isfinite(row["se"]) else 0.0
        threshold = max(p.tolerance, spread)
        gap = coverage - nominal
        judged = k >= p.min_weeks
        scope = (
            f"{int(row['rows']):,} forecasts of model version {version} over the last {k} week(s)"
        )
        if not judged:
            verdict = f"judged from {p.min_weeks} weeks (information)"
        elif abs(gap) <= threshold:
            verdict = f"within {threshold:.1%} of nominal"
        elif gap > 0:
            verdict = (
                f"{gap:+.1%}, beyond the {threshold:.1%} allowed: the bands are wider than "
                "these weeks needed (an origin with more history than the backtest's origins "
                "misses less, or a calmer season); retrain (`kedro run`) to recalibrate on the "
                "newest weeks"
            )
        else:
            verdict = (
                f"{gap:+.1%}, beyond the {threshold:.1%} allowed: the bands are too narrow (the "
                "errors are larger than the backtest's); see the accuracy checks, and retrain "
                "(`kedro run`) to recalibrate on the newest weeks"
            )
        checks.add(
            f"accuracy.coverage_to_date_{level}",
            "all",
            coverage,
            threshold,
            abs(gap) > threshold if judged else None,
            f"{coverage:.1%} of {scope} inside the {level}% band (nominal {level}%, "
            "week-to-week standard error "
            f"{format(row['se'], '.1%') if np.isfinite(row['se']) else 'n/a (one week)'}): "
            f"{verdict}",
        )


def _total_checks(
    checks: Checks,
    week_rows: pd.DataFrame,
    promise: dict[str, Any],
    params: MonitoringParams,
    week: pd.Timestamp,
) -> None:
    if week_rows.empty:
        return
    latest = week_rows[week_rows["step"] == week_rows["step"].min()]
    step = int(latest["step"].iloc[0])
    p = params.total
    chain_fc, chain_act = float(latest["forecast"].sum()), float(latest["actual"].sum())
    chain_dev = (chain_act - chain_fc) / max(abs(chain_fc), 1.0)
    chain_thr = max(p.min_deviation, p.backtest_margin * promise["chain_total"]["max_deviation"])
    checks.add(
        "total.chain_deviation",
        "all",
        chain_dev,
        chain_thr,
        abs(chain_dev) > chain_thr,
        f"week {week:%Y-%m-%d}: total sales {chain_act:,.0f} vs {chain_fc:,.0f} "
        f"forecast {step} week(s) "
        f"ahead ({chain_dev:+.1%}; alert beyond ±{chain_thr:.0%})",
    )
    stores = latest.groupby("store")[["forecast", "actual"]].sum()
    worst = promise["store_total"]["max_deviation"]
    for store, row in stores.iterrows():
        dev = (row["actual"] - row["forecast"]) / max(abs(row["forecast"]), 1.0)
        thr = max(
            p.min_deviation,
            p.backtest_margin * worst.get(str(int(store)), promise["store_total"]["q95"]),
        )
        checks.add(
            "total.store_deviation",
            f"store={int(store)}",
            dev,
            thr,
            abs(dev) > thr,
            f"store {int(store)}, week {week:%Y-%m-%d}: sales {row['actual']:,.0f} "
            f"vs {row['forecast']:,.0f} forecast ({dev:+.1%}; alert beyond ±{thr:.0%}, "
            "from the backtest's worst week of this store)",
        )


def _drift_checks(
    checks: Checks,
    sales: pd.DataFrame,
    store_features: pd.DataFrame,
    params: MonitoringParams,
    week: pd.Timestamp,
) -> None:
    d = params.drift
    now = sales[sales["date"] == week]
    before = sales[sales["date"] < week]
    recent = before[before["date"] > week - (d.active_weeks + 1) * WEEK]
    if before.empty:
        checks.add(
            "drift.history", "all", None, None, None, "no history before this week: no drift checks"
        )
        return
    new_stores = sorted(set(now["store"]) - set(before["store"]))
    checks.add(
        "drift.new_stores",
        "all",
        len(new_stores),
        0,
        bool(new_stores),
        f"stores with sales this week and none in the {before['date'].nunique()} weeks before: "
        f"{new_stores or 'none'}",
    )
    gone = sorted(set(recent["store"]) - set(now["store"]))
    checks.add(
        "drift.vanished_stores",
        "all",
        len(gone),
        0,
        bool(gone),
        f"stores with sales in the last {d.active_weeks} weeks and none this week: "
        f"{gone or 'none'}",
    )
    new_depts = sorted(set(now["dept"]) - set(before["dept"]))
    checks.add(
        "drift.new_departments",
        "all",
        len(new_depts),
        0,
        bool(new_depts),
        f"departments with no sales in the {before['date'].nunique()} weeks before: "
        f"{new_depts or 'none'} "
        "(the model forecasts a department it never saw as 0 until retrained)",
    )
    vanished, changes, counts = _presence_history(sales, week, d.active_weeks, d.calibration_weeks)
    share, past_shares = vanished[-1], vanished[:-1]
    thr = _calibrated(d.max_vanished_series_share, past_shares, d.calibration_margin)
    checks.add(
        "drift.vanished_series_share",
        "all",
        share,
        thr,
        share > thr,
        f"{share:.1%} of the series active in the last {d.active_weeks} weeks have no row "
        f"this week (alert above {thr:.1%}: {d.max_vanished_series_share:.0%}, or "
        f"{d.calibration_margin}x the most "
        f"of the {len(past_shares)} weeks before)",
    )
    typical = float(np.median(counts[-d.active_weeks - 1 : -1]))
    change, past_changes = changes[-1], np.abs(changes[:-1])
    thr = _calibrated(d.max_row_count_change, past_changes, d.calibration_margin)
    checks.add(
        "drift.row_count",
        "all",
        change,
        thr,
        abs(change) > thr,
        f"{int(counts[-1]):,} sales rows this week vs a median of {typical:,.0f} in the last "
        f"{d.active_weeks} "
        f"weeks ({change:+.1%}; alert beyond ±{thr:.1%}: {d.max_row_count_change:.0%}, or "
        f"{d.calibration_margin}x the widest swing of the {len(past_changes)} weeks before)",
    )
    feats = store_features[store_features["store"].isin(now["store"])]
    this = feats[feats["date"] == week]
    past = feats[feats["date"] < week]
    for name in OBSERVED:
        if name not in feats:
            continue
        lo, hi = past[name].min(), past[name].max()
        slack = d.range_tolerance * (hi - lo)
        values = this[name]
        outside = this.loc[(values < lo - slack) | (values > hi + slack), "store"].tolist()
        missing = int(values.isna().sum())
        checks.add(
            "drift.covariate_range",
            name,
            len(outside),
            0,
            bool(outside),
            f"{name}: {len(outside)} store(s) outside the historical range {lo:,.2f}..{hi:,.2f} "
            f"(±{d.range_tolerance:.0%} of it){': ' + str(outside[:10]) if outside else ''}",
        )
        checks.add(
            "drift.covariate_missing",
            name,
            missing,
            0,
            missing > 0,
            f"{name}: {missing} of {len(this)} store(s) have no value this week",
        )
    has_md = lambda f: f[list(MARKDOWNS)].notna().any(axis=1)  # noqa: E731
    recent_feats = past[past["date"] > week - (d.active_weeks + 1) * WEEK]
    level = float(has_md(recent_feats).mean()) if len(recent_feats) else 0.0
    share_now = float(has_md(this).mean()) if len(this) else 0.0
    floor = d.markdown_present_drop * level
    checks.add(
        "drift.markdowns_missing",
        "all",
        share_now,
        floor,
        level >= 0.5 and share_now < floor,
        f"{share_now:.0%} of the stores have markdowns this week vs {level:.0%} in the last "
        f"{d.active_weeks} weeks (alert below {floor:.0%} when most stores had them)",
    )


def _calibrated(floor: float, past: np.ndarray, margin: float) -> float:
    """An alert threshold calibrated on the weeks before: ``floor``, or ``margin`` times the
    most of ``past`` (those weeks' values) when that is higher."""
    return max(floor, margin * (past.max() if len(past) else 0.0))


def _presence_history(
    sales: pd.DataFrame, week: pd.Timestamp, active_weeks: int, calibration_weeks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``week`` and each of the ``calibration_weeks`` weeks before it: the share of series
    active in the ``active_weeks`` weeks before that week with no row in it, and the change of
    its row count against the median of those weeks; and the row count of every week."""
    span = calibration_weeks + active_weeks + 1
    recent = sales.loc[sales["date"] > week - span * WEEK, ["store", "dept", "date"]]
    col = ((recent["date"] - (week - (span - 1) * WEEK)) // WEEK).to_numpy()
    series = pd.MultiIndex.from_frame(recent[["store", "dept"]])
    codes, _ = pd.factorize(series)
    present = np.zeros((codes.max() + 1 if len(codes) else 0, span), dtype=bool)
    present[codes, col] = True
    counts = present.sum(axis=0).astype(float)
    shares, changes = [], []
    for w in range(active_weeks, span):
        active = present[:, w - active_weeks : w].any(axis=1)
        shares.append(float((active & ~present[:, w]).sum() / max(active.sum(), 1)))
        typical = np.median(counts[w - active_weeks : w])
        changes.append(float(counts[w] / typical - 1) if typical else 0.0)
    return np.array(shares), np.array(changes), counts


@dataclass
class MonitoringResult:
    """What :func:`evaluate` returns: the checks (one row each), the scores, the summary."""

    checks: pd.DataFrame
    scores: pd.DataFrame
    summary: dict[str, Any]

    @property
    def alerts(self) -> pd.DataFrame:
        return self.checks[self.checks["status"] == ALERT]


def monitored_version(forecasts: pd.DataFrame) -> str | None:
    """The model version whose forecasts are monitored: the one of the newest origin (of the
    newest week's forecasts: the forecast made the week before)."""
    if forecasts.empty:
        return None
    newest = forecasts.sort_values(["origin", "created_at"]).iloc[-1]
    return str(newest["model_version"])


def evaluate(
    scored: pd.DataFrame,
    sales: pd.DataFrame,
    store_features: pd.DataFrame,
    promise: dict[str, Any],
    params: MonitoringParams,
    now: pd.Timestamp | None = None,
    sums: pd.DataFrame | None = None,
) -> MonitoringResult:
    """Every check of one monitoring run, for the newest week of actuals in ``sales``.

    ``scored``: rows of ``vw_forecast_vs_actual`` whose actual arrived: at least every stored
    forecast of the newest week (``sql/09_monitoring_week_forecasts.sql``: what the checks read),
    all of them when ``sums`` is not given; ``sums``: the score sums of every stored forecast
    with its actual (``sql/11_monitoring_score_sums.sql``, or :func:`score_sums`), from which the
    scores are made; ``sales``: the analytics view (store, dept, date, weekly_sales, ...);
    ``store_features``: ``store_features_weekly`` (store, date, covariates, markdowns);
    ``promise``: :func:`backtest_promise`.
    """
    sales = sales.assign(date=pd.to_datetime(sales["date"]).astype("datetime64[ns]"))
    store_features = store_features.assign(
        date=pd.to_datetime(store_features["date"]).astype("datetime64[ns]")
    )
    scored = normalise_scored(scored)
    week = sales["date"].max()
    version = monitored_version(scored) or "none"
    mine = scored[scored["model_version"] == version] if len(scored) else scored
    week_rows = mine[mine["date"] == week] if len(mine) else mine
    checks = Checks([])
    if len(mine):
        names = sorted(set(mine["model_name"].astype(str)))
        same = names == [promise.get("model")]
        checks.add(
            "promise.model",
            "all",
            None,
            None,
            not same,
            f"the forecasts come from {names}, the backtest promise from {promise.get('model')!r}"
            + (
                ""
                if same
                else ": retrain (`kedro run`) or register the model the last training run chose"
            ),
        )
    scores = scores_from_sums(
        score_sums(scored) if sums is None else sums, promise, params.holiday_weight
    )
    _accuracy_checks(checks, week_rows, promise, params, week)
    _week_coverage_check(checks, week_rows, params, week)
    _coverage_to_date_checks(checks, scores, version, params)
    _total_checks(checks, week_rows, promise, params, week)
    _drift_checks(checks, sales, store_features, params, week)
    checked_at = (
        pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    ).floor("s")
    frame = pd.DataFrame(checks.rows).assign(
        model_version=version, as_of_week=week, checked_at=checked_at
    )
    alerts = frame[frame["status"] == ALERT]
    overall = scores[(scores["segment"] == "overall") & (scores["model_version"] == version)]
    summary = {
        "as_of_week": f"{week:%Y-%m-%d}",
        "model_version": version,
        "promise_model": promise.get("model"),
        "status": ALERT if len(alerts) else OK,
        "checks": int(len(frame)),
        "alerts": int(len(alerts)),
        "alert_checks": [f"{r.check_name}[{r.scope}]" for r in alerts.itertuples()],
        "forecasts_scored": int(overall["n"].iloc[0]) if len(overall) else 0,
        "overall": overall.drop(columns=["model_version", "segment", "segment_value"])
        .iloc[0]
        .to_dict()
        if len(overall)
        else None,
        "checked_at": f"{checked_at:%Y-%m-%dT%H:%M:%S}",
    }
    level = logging.WARNING if len(alerts) else logging.INFO
    logger.log(
        level,
        "Monitoring %s (model version %s): %d checks, %d alert(s)%s",
        summary["as_of_week"],
        version,
        len(frame),
        len(alerts),
        "".join(f"\n  ALERT {r.check_name}[{r.scope}]: {r.message}" for r in alerts.itertuples()),
    )
    return MonitoringResult(frame, scores, summary)


def alerts_payload(result: MonitoringResult) -> dict[str, Any]:
    """The alerts file's content (empty ``alerts`` when nothing crossed a threshold)."""
    return {
        "as_of_week": result.summary["as_of_week"],
        "model_version": result.summary["model_version"],
        "status": result.summary["status"],
        "alerts": [
            {
                "check": r.check_name,
                "scope": r.scope,
                "value": r.value,
                "threshold": r.threshold,
                "message": r.message,
            }
            for r in result.alerts.itertuples()
        ],
    }
