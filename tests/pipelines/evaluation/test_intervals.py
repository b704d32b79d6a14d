"""The interval calibration one backtest at a time (issue #17): the same interval models, backtest
scores and summary as calibrating every model on one merged frame of all backtests, whatever
the row order of each backtest; and the nodes that make it up."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import KEY_COLUMNS, BacktestParams
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.intervals import (
    IntervalParams,
    attach_scales,
    calibrate_frame,
    cross_fitted,
    last_fold_fitted,
    score_intervals,
)
from retail_forecasting.pipelines.baselines import nodes as baselines
from retail_forecasting.pipelines.evaluation import create_pipeline
from retail_forecasting.pipelines.evaluation import intervals as iv
from retail_forecasting.pipelines.evaluation.pipeline import INTERVAL_TAG, candidates

PARAMS = IntervalParams(min_bucket_rows=20)


def _merged_calibration(feat_panel, horizon, params, *backtests):
    """The calibration as it was before it ran per backtest (commit 5b1c50e): every backtest
    merged into one frame, the scales attached to it, each model calibrated on that frame."""
    history = feat_panel[feat_panel["split"] != "test"]
    frame = attach_scales(history, iv.merge_backtests(*backtests), params)
    models = iv._models(frame)
    fitted = {"params": params.model_dump(mode="json"), "models": {}, "total": {}}
    tables, summary = [], {}
    totals = iv._totals(frame, models)
    total_params = iv._total_params(params, horizon)
    for model in models:
        fitted["models"][model] = calibrate_frame(frame, model, params, horizon).as_dict()
        fitted["total"][model] = calibrate_frame(totals, model, total_params, horizon).as_dict()
        values = cross_fitted(frame, model, params, horizon)
        summary[model], table = score_intervals(
            frame, values.to_numpy(), params.quantiles, params.levels
        )
        last = last_fold_fitted(frame, model, params, horizon)
        if last is not None:
            summary[model]["last_fold"] = score_intervals(
                frame.loc[last.index], last.to_numpy(), params.quantiles, params.levels, ()
            )[0]
        tables.append(table.assign(model=model, stage="backtest"))
    return fitted, pd.concat(tables, ignore_index=True), summary


@pytest.fixture
def backtests(feat_panel, horizon_weeks):
    """The real baselines' backtest (6 models, 3 folds) and two stand-in models' backtests,
    one in another row order, with forecasts that are not a multiple of a baseline's."""
    baseline = baselines.backtest_baselines(
        feat_panel, horizon_weeks, BacktestParams(n_windows=3, step_weeks=8), BaselineParams()
    )
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 300, len(baseline))
    first = baseline[KEY_COLUMNS].assign(first=baseline["seasonal_naive"] * 1.05 + noise)
    second = (
        baseline[KEY_COLUMNS]
        .assign(second=baseline["moving_average"] - noise / 2)
        .sample(frac=1.0, random_state=4)
    )
    return baseline, first, second


def test_per_backtest_calibration_equals_the_merged_one(feat_panel, horizon_weeks, backtests):
    assert backtests[0]["cutoff"].nunique() == 3  # cross-fitted and last-fold scores both
    rows = iv.interval_calibration_rows(feat_panel, PARAMS, backtests[0])
    parts = [iv.calibrate_backtest_intervals(rows, horizon_weeks, PARAMS, b) for b in backtests]
    fitted, table, summary = iv.calibrate_intervals(PARAMS, *parts)

    want_fitted, want_table, want_summary = _merged_calibration(
        feat_panel, horizon_weeks, PARAMS, *backtests
    )
    assert list(fitted["models"]) == [*iv._models(backtests[0]), "first", "second"]
    # exactly equal, in the same order: the interval models' JSON, the scores, the summary
    assert fitted == want_fitted and list(fitted["models"]) == list(want_fitted["models"])
    assert list(fitted["total"]) == list(want_fitted["total"])
    assert summary == want_summary and list(summary) == list(want_summary)
    pd.testing.assert_frame_equal(table, want_table, check_exact=True)


def test_a_backtest_of_other_rows_or_a_model_twice_is_refused(feat_panel, horizon_weeks, backtests):
    baseline, first, _ = backtests
    rows = iv.interval_calibration_rows(feat_panel, PARAMS, baseline)
    with pytest.raises(ValueError, match="do not cover the same rows"):
        iv.calibrate_backtest_intervals(rows, horizon_weeks, PARAMS, first.iloc[:-5])
    part = iv.calibrate_backtest_intervals(rows, horizon_weeks, PARAMS, first)
    with pytest.raises(ValueError, match="calibrated twice.*first"):
        iv.calibrate_intervals(PARAMS, part, part)


def test_one_calibration_node_per_backtest_all_tagged():
    pipeline = create_pipeline()
    compared = candidates()
    calibrations = {f"calibrate_intervals_{m}" for m in ("baselines", *compared)}
    assert {n.name for n in pipeline.nodes if INTERVAL_TAG in n.tags} == {
        "interval_calibration_rows",
        *calibrations,
        "calibrate_intervals",
        "forecast_intervals",
        "evaluate_intervals",
        "plot_fan_chart",
        "plot_coverage_by_step",
    }
    nodes = {n.name: n for n in pipeline.nodes}
    # each calibration reads one backtest (and the shared rows), never the panel
    for model in compared:
        assert set(nodes[f"calibrate_intervals_{model}"].inputs) == {
            "mo_interval_calibration_rows",
            "params:horizon_weeks",
            "params:intervals",
            f"{model}.mo_backtest",
        }
    assert "mo_baseline_backtest" in nodes["calibrate_intervals_baselines"].inputs
    assert nodes["calibrate_intervals"].inputs == [
        "params:intervals",
        "mo_interval_calibration_baselines",
        *(f"mo_interval_calibration_{m}" for m in compared),
    ]


def _test_rows(model: str, shift: float) -> pd.DataFrame:
    actual = np.arange(1.0, 41.0)
    return pd.DataFrame(
        {
            "store": 1,
            "dept": np.arange(40) % 4,
            "date": pd.Timestamp("2012-01-06"),
            "step": np.arange(40) % 5 + 1,
            "is_holiday": np.arange(40) % 7 == 0,
            "store_type": "A",
            "actual": actual,
            "model": model,
            "forecast": actual + shift,
            **{
                f"q{q}": actual + shift + z
                for q, z in zip((0.025, 0.1, 0.5, 0.9, 0.975), (-3, -1, 0, 1, 3), strict=True)
            },
        }
    )


def test_test_window_intervals_are_scored_one_model_partition_at_a_time():
    params = IntervalParams()
    summary = {"b": {}, "a": {}}  # the calibration's order
    loaded = []

    def partition(model, shift):
        def load():
            loaded.append(model)
            return _test_rows(model, shift)

        return load

    parts = {"a": partition("a", 0.0), "b": partition("b", 2.0)}
    table = pd.DataFrame(columns=["stage", "model"])
    intervals, report, _ = iv.evaluate_intervals(parts, {"champion": "a"}, table, summary, params)
    assert loaded == ["b", "a"]  # each partition loaded once, in the calibration's order
    assert list(intervals["models"]) == ["b", "a"]
    assert intervals["80"]["coverage"] == 1.0 and intervals["models"]["b"]["80"]["coverage"] < 1
    assert list(report["model"].unique()) == ["b", "a"]
    with pytest.raises(ValueError, match="not calibrated: \\['c'\\]"):
        iv.evaluate_intervals({**parts, "c": parts["a"]}, {"champion": "a"}, table, summary, params)
    with pytest.raises(ValueError, match="no partition 'b'.*forecast_intervals again"):
        iv.evaluate_intervals({"a": parts["a"]}, {"champion": "a"}, table, summary, params)
