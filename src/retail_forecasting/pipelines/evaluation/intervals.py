"""Interval nodes of the ``evaluation`` pipeline (issue #12): every model's quantile forecasts,
calibrated on its rolling-origin backtest (:mod:`retail_forecasting.forecasting.intervals`),
scored on the backtest (cross-fitted) and on the test window, the figures, and the champion's
pyfunc carrying its quantiles. The method lives in the engine; these nodes only feed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from retail_forecasting.forecasting.backtest import KEY_COLUMNS, side_by_side
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.contract import KEYS
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import (
    FeatureParams,
    origin_before,
)
from retail_forecasting.forecasting.intervals import (
    SCALE_FEATURES,
    CalibrationRows,
    IntervalModel,
    IntervalParams,
    apply_frame,
    attach_scales,
    calibrate_rows,
    cross_fitted_rows,
    last_fold_mask,
    level_bounds,
    level_name,
    quantile_columns,
    score_intervals,
)
from retail_forecasting.forecasting.learners import FittedLearner
from retail_forecasting.metrics import to_mlflow_metrics
from retail_forecasting.pipelines.evaluation import nodes

logger = logging.getLogger(__name__)

TOTAL = "total"  # the key of the aggregate (all series) interval model


def _models(frame: pd.DataFrame) -> list[str]:
    extra = ("scale", "floor", "last_year", *SCALE_FEATURES)
    return [c for c in frame.columns if c not in KEY_COLUMNS and c not in extra]


def merge_backtests(*backtests: pd.DataFrame) -> pd.DataFrame:
    """Backtests side by side (the same rows, in the first one's order): the first keeps all
    its columns, each other adds its forecast columns."""
    return side_by_side(backtests, _models)


def _totals(frame: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Sum over series per (cutoff, date): the aggregate rows (scale: the sum of the scales)."""
    totals = (
        frame.groupby(["cutoff", "date"], sort=True)
        .agg(
            step=("step", "first"),
            is_holiday=("is_holiday", "any"),
            actual=("actual", "sum"),
            scale=("scale", "sum"),
            **{m: (m, "sum") for m in models},
        )
        .reset_index()
    )
    return totals.assign(floor=-np.inf, store_type="all")


def _total_params(params: IntervalParams, horizon_weeks: int) -> IntervalParams:
    """The aggregate (total sales) model's parameters: one bucket over every step, no groups."""
    return params.model_copy(
        update={
            "by_holiday": False,
            "peak_season": None,
            "step_bucket_weeks": horizon_weeks,
            "min_bucket_rows": 1,
            "monotone": False,
            "by_store_type": False,
            "by_last_year": False,
            "scale_fit": False,
        }
    )


def interval_calibration_rows(
    feat_panel: pd.DataFrame, params: IntervalParams, reference: pd.DataFrame
) -> pd.DataFrame:
    """The rows every model is calibrated on: the keys of the ``reference`` backtest (the
    baselines'; every backtest covers the same rows), in its order, with each row's ``scale``,
    ``floor``, ``last_year`` and scale features at its cutoff (:func:`attach_scales`, from the
    train + validation history only). Shared by the per-backtest calibrations, so the scales are
    read once and no calibration holds more than one backtest's forecasts."""
    history = feat_panel[feat_panel["split"] != "test"]
    keys = reference.drop(columns=_models(reference)).reset_index(drop=True)
    return attach_scales(history, keys, params)


def calibrate_backtest_intervals(
    rows: pd.DataFrame, horizon_weeks: int, params: IntervalParams, backtest: pd.DataFrame
) -> dict[str, Any]:
    """Calibrate the intervals of the models of one backtest (its forecast columns) on
    ``rows`` (:func:`interval_calibration_rows`), each model on its own.

    Returns ``{"rows": n, "models": {model: IntervalModel JSON}, "total": {model: the
    aggregate model's JSON}, "summary": {model: cross-fitted scores}, "table": scores per
    segment}`` for :func:`calibrate_intervals`. The backtest's forecasts are matched to
    ``rows`` on the series, week and cutoff (a ``ValueError`` if it covers other rows)."""
    models = _models(backtest)
    matched = merge_backtests(rows[[*KEYS, "cutoff"]], backtest)
    frame = rows.assign(**{m: matched[m].to_numpy() for m in models})
    del matched
    totals = _totals(frame, models)
    total_params = _total_params(params, horizon_weeks)
    out: dict[str, Any] = {"rows": len(frame), "models": {}, "total": {}, "summary": {}}
    tables = []
    # the rows' arrays, calibration groups and scale regressors, read once for every model
    read = CalibrationRows.from_frame(frame, params)
    read_totals = CalibrationRows.from_frame(totals, total_params)
    for model in models:
        forecast = frame[model].to_numpy(dtype=float)
        out["models"][model] = calibrate_rows(read, forecast, horizon_weeks).as_dict()
        out["total"][model] = calibrate_rows(
            read_totals, totals[model].to_numpy(dtype=float), horizon_weeks
        ).as_dict()
        values = cross_fitted_rows(read, forecast, horizon_weeks)
        summary, table = score_intervals(frame, values, params.quantiles, params.levels)
        last = last_fold_mask(read)
        if last is not None:
            # the nested validation: the last fold calibrated on the earlier folds only, which
            # is what its cross-fitted intervals are (last_fold_rows, not computed twice)
            summary["last_fold"] = score_intervals(
                frame.loc[last], values[last], params.quantiles, params.levels, ()
            )[0]
        out["summary"][model] = summary
        tables.append(table.assign(model=model, stage="backtest"))
    out["table"] = pd.concat(tables, ignore_index=True)
    return out


def calibrate_intervals(
    params: IntervalParams, *calibrations: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Every model's intervals, from the per-backtest :func:`calibrate_backtest_intervals`
    (in the order given: the models keep that order in every output).

    Returns the interval models (JSON: per model, the scaled quantiles per holiday group and
    step bucket; ``total`` per model: the aggregate-sales intervals of the fan chart), the
    cross-fitted backtest scores per model and segment (each fold's intervals calibrated on the
    other folds), and their summary ``{model: {"80": {...}, "95": {...}, "pinball": ...,
    "last_fold": {...}}}`` (``last_fold``: nested validation, the last fold's intervals
    calibrated on the earlier folds only; absent with one fold).
    """
    fitted: dict[str, Any] = {"params": params.model_dump(mode="json"), "models": {}, TOTAL: {}}
    summary: dict[str, Any] = {}
    for part in calibrations:
        if twice := sorted(set(part["models"]) & set(fitted["models"])):
            raise ValueError(f"models calibrated twice (in two backtests): {', '.join(twice)}")
        fitted["models"] |= part["models"]
        fitted[TOTAL] |= part["total"]
        summary |= part["summary"]
    first = params.levels[0]
    logger.info(
        "Intervals calibrated on %d backtest rows; cross-fitted backtest coverage at %s %%: %s",
        calibrations[0]["rows"],
        level_name(first),
        {m: round(s[level_name(first)]["coverage"], 3) for m, s in summary.items()},
    )
    return fitted, pd.concat([p["table"] for p in calibrations], ignore_index=True), summary


def interval_model(fitted: dict[str, Any], model: str, kind: str = "models") -> IntervalModel:
    """The :class:`IntervalModel` of ``model`` from :func:`calibrate_intervals`' JSON."""
    return IntervalModel.from_dict(fitted[kind][model])


def forecast_intervals(
    mo_test_forecasts: pd.DataFrame,
    feat_panel: pd.DataFrame,
    fitted: dict[str, Any],
    params: IntervalParams,
) -> dict[str, Callable[[], pd.DataFrame]]:
    """Every model's quantile forecasts of the test window, tidy: store, dept, date, step,
    is_holiday, store_type, actual, model, forecast, q0.025 … q0.975 (the scales read from
    the history at the test origin, the last validation week).

    One partition per model (the calibration's order), each a function that makes the model's
    rows: the partitioned dataset calls it when it writes that model (Kedro's lazy saving), so
    one model's rows are in memory at a time."""
    cutoff = origin_before(feat_panel, "test")
    frame = attach_scales(feat_panel, mo_test_forecasts.assign(cutoff=cutoff), params)
    frame["step"] = ((frame["date"] - cutoff) // pd.Timedelta(weeks=1)).astype("int64")
    base = frame[[*KEYS, "step", "is_holiday", "store_type", "actual"]]

    def rows_of(model: str) -> pd.DataFrame:
        quantiles = apply_frame(interval_model(fitted, model), frame, model)
        return pd.concat([base.assign(model=model, forecast=frame[model]), quantiles], axis=1)

    return {model: partial(rows_of, model) for model in fitted["models"]}


def model_rows(partitions: Mapping[str, Callable[[], pd.DataFrame]], model: str) -> pd.DataFrame:
    """``model``'s rows of a per-model partitioned dataset (``mo_test_intervals``), loaded now."""
    if model not in partitions:
        raise ValueError(
            f"mo_test_intervals has no partition {model!r} (it holds {sorted(partitions)}): "
            "run the node forecast_intervals again (`kedro run --pipeline evaluation --tags "
            "intervals`)"
        )
    return partitions[model]()


def evaluate_intervals(
    mo_test_intervals: Mapping[str, Callable[[], pd.DataFrame]],
    rpt_champion: dict[str, Any],
    backtest_table: pd.DataFrame,
    backtest_summary: dict[str, Any],
    params: IntervalParams,
) -> tuple[dict[str, Any], pd.DataFrame, dict]:
    """Score every model's test-window intervals (overall, per step, holiday week, store type).

    Returns ``intervals`` for ``metrics.json`` — the champion's ``{"80": {coverage, width,
    interval_score, …}, "95": {…}, "pinball": …}`` plus ``coverage_by_holiday``,
    ``coverage_by_store_type``, ``backtest`` (its cross-fitted backtest scores) and ``models``
    (every model's test scores) — the report table (test and backtest rows per model, segment
    and level) and the MLflow metrics ``intervals.{test,backtest}.<model>.<level>.<score>``.
    The models are those calibrated (``backtest_summary``, in its order), each loaded from its
    partition of ``mo_test_intervals`` when it is scored.
    """
    columns = quantile_columns(params.quantiles)
    tables, per_model = [backtest_table], {}
    if extra := sorted(set(mo_test_intervals) - set(backtest_summary)):
        raise ValueError(
            f"mo_test_intervals holds models that were not calibrated: {extra}; run the node "
            "forecast_intervals again (`kedro run --pipeline evaluation --tags intervals`)"
        )
    for model in backtest_summary:
        rows = model_rows(mo_test_intervals, model)
        per_model[model], table = score_intervals(
            rows, rows[columns].to_numpy(), params.quantiles, params.levels
        )
        tables.append(table.assign(model=model, stage="test"))
        del rows
    report = pd.concat(tables, ignore_index=True)
    champion = rpt_champion["champion"]
    mine = report[(report["model"] == champion) & (report["stage"] == "test")]
    intervals = {
        "model": champion,
        "method": "split-conformal quantiles of scaled backtest residuals per step bucket "
        "(docs/forecasting.md)",
        "quantiles": list(params.quantiles),
        **per_model[champion],
        "coverage_by_holiday": _coverage(mine, "is_holiday"),
        "coverage_by_store_type": _coverage(mine, "store_type"),
        "backtest": backtest_summary[champion],
        "models": per_model,
    }
    for level in params.levels:
        name = level_name(level)
        logger.info(
            "Test-window %s %% intervals of the champion %s: coverage %.3f, width %.0f, "
            "interval score %.0f",
            name,
            champion,
            intervals[name]["coverage"],
            intervals[name]["width"],
            intervals[name]["interval_score"],
        )
    logged = to_mlflow_metrics(
        {
            "intervals": {
                "test": per_model,
                "backtest": backtest_summary,
                "champion": per_model[champion],
            }
        }
    )
    order = [
        "stage",
        "model",
        "segment",
        "segment_value",
        "level",
        "n",
        "coverage",
        "width",
        "interval_score",
        "interval_score_weighted",
    ]
    return intervals, report[order], logged


def _coverage(table: pd.DataFrame, segment: str) -> dict[str, dict[str, float]]:
    rows = table[(table["segment"] == segment) & (table["level"] != "pinball")]
    return {
        level: {str(k): float(v) for k, v in zip(g["segment_value"], g["coverage"], strict=True)}
        for level, g in rows.groupby("level", sort=False)
    }


def evaluate_test_window(
    mo_test_forecasts: pd.DataFrame,
    champion: dict[str, Any],
    horizon_weeks: int,
    intervals: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, dict]:
    """:func:`.nodes.evaluate_test_window` with the champion's interval scores under
    ``intervals`` in ``metrics.json``."""
    metrics, report, logged = nodes.evaluate_test_window(mo_test_forecasts, champion, horizon_weeks)
    return {**metrics, "intervals": intervals}, report, logged


def package_champion(
    rpt_champion: dict[str, Any],
    interval_models: dict[str, Any],
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    features: FeatureParams,
    baselines: BaselineParams,
    ensemble_weights: dict[str, Any],
    **models: FittedLearner | DecompositionParams,
):
    """:func:`.nodes.package_champion` with the champion's interval model: the pyfunc returns
    ``Weekly_Sales_q0.025`` … ``Weekly_Sales_q0.975`` beside ``Weekly_Sales``. The parameters are
    typed as there, so Kedro hands over the validated models, not dicts."""
    pyfunc = nodes.package_champion(
        rpt_champion, feat_panel, horizon_weeks, features, baselines, ensemble_weights, **models
    )
    pyfunc.forecaster.intervals = interval_model(interval_models, rpt_champion["champion"])
    return pyfunc


# ----------------------------------------------------------------------------- figures


def plot_fan_chart(
    mo_test_intervals: Mapping[str, Callable[[], pd.DataFrame]],
    mo_test_forecasts: pd.DataFrame,
    feat_panel: pd.DataFrame,
    rpt_champion: dict[str, Any],
    interval_models: dict[str, Any],
    params: nodes.EvaluationParams,
    intervals: IntervalParams,
) -> Figure:
    """The champion's fan chart over the test window: total sales (the aggregate interval
    model) and a seeded sample of the larger series: actuals, point forecast, 80 % and 95 %
    bands."""
    champion = rpt_champion["champion"]
    rows = model_rows(mo_test_intervals, champion)
    levels = sorted(intervals.levels, reverse=True)
    # total sales: the aggregate model applied to the sum of the forecasts and of the scales
    cutoff = origin_before(feat_panel, "test")
    scaled = attach_scales(feat_panel, mo_test_forecasts.assign(cutoff=cutoff), intervals)
    scaled["step"] = ((scaled["date"] - cutoff) // pd.Timedelta(weeks=1)).astype("int64")
    totals = _totals(scaled, [champion])
    total_q = apply_frame(interval_model(interval_models, champion, TOTAL), totals, champion)
    panels = [
        (
            "Total sales (all series)",
            totals["date"],
            totals["actual"],
            totals[champion],
            total_q,
            nodes.SALES_UNIT,
        )
    ]

    sizes = rows.groupby(["store", "dept"])["actual"].sum()
    pool = sizes[sizes >= sizes.quantile(0.5)].index
    rng = np.random.default_rng(params.seed)
    count = min(params.sampled_series, len(pool))
    for i in sorted(rng.choice(len(pool), count, replace=False)):
        store, dept = pool[i]
        series = rows[(rows["store"] == store) & (rows["dept"] == dept)].sort_values("date")
        panels.append(
            (
                f"Store {store}, dept {dept}",
                series["date"],
                series["actual"],
                series["forecast"],
                series[quantile_columns(intervals.quantiles)],
                1.0,
            )
        )

    cols = 2
    n_rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(12, 3.2 * n_rows), squeeze=False)
    for ax, (title, dates, actual, point, quantiles, unit) in zip(axes.flat, panels, strict=False):
        for level, alpha in zip(levels, (0.18, 0.35), strict=False):
            low, high = (quantile_columns([q])[0] for q in level_bounds(level))
            ax.fill_between(
                dates,
                quantiles[low] / unit,
                quantiles[high] / unit,
                color="tab:blue",
                alpha=alpha,
                linewidth=0,
                label=f"{level_name(level)} % interval",
            )
        ax.plot(dates, point / unit, color="tab:blue", linewidth=1.5, label=f"{champion} forecast")
        ax.plot(dates, actual / unit, color="black", linewidth=1.5, label="Actual")
        ax.set_title(title)
        ax.set_ylabel("Weekly sales" + (" (million USD)" if unit != 1.0 else " (USD)"))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"Test window: the champion ({champion}) with its prediction intervals")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def plot_coverage_by_step(
    report: pd.DataFrame, rpt_champion: dict[str, Any], intervals: IntervalParams
) -> Figure:
    """Empirical coverage by horizon step of the champion's intervals, test window and
    (cross-fitted) backtest, against the nominal level."""
    champion = rpt_champion["champion"]
    rows = report[
        (report["model"] == champion)
        & (report["segment"] == "step")
        & (report["level"] != "pinball")
    ]
    fig, ax = plt.subplots(figsize=(11, 5))
    colors = dict(
        zip(
            [level_name(v) for v in intervals.levels],
            ("tab:orange", "tab:blue", "tab:green", "tab:red"),
            strict=False,
        )
    )
    for (stage, level), group in rows.groupby(["stage", "level"], sort=True):
        group = group.assign(step=group["segment_value"].astype(int)).sort_values("step")
        ax.plot(
            group["step"],
            group["coverage"],
            color=colors.get(level),
            marker="o" if stage == "test" else None,
            markersize=3,
            linestyle="-" if stage == "test" else "--",
            label=f"{level} % interval, {stage}"
            + (" (cross-fitted)" if stage == "backtest" else ""),
        )
    for level in intervals.levels:
        ax.axhline(level / 100, color=colors.get(level_name(level)), linestyle=":", linewidth=1)
    ax.set_title(
        f"Coverage of the champion's ({champion}) prediction intervals by horizon step "
        "(dotted: nominal)"
    )
    ax.set_xlabel("Step (weeks after the origin)")
    ax.set_ylabel("Share of actuals inside the interval")
    ax.set_ylim(max(0.0, rows["coverage"].min() - 0.05) if len(rows) else 0.0, 1.0)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
