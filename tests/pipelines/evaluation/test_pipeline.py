"""The evaluation pipeline on an in-memory catalog, fed by the real baselines nodes and
stand-in learners (scaled baselines) with stand-in fitted models."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting import zoo
from retail_forecasting.forecasting.backtest import KEY_COLUMNS, BacktestParams, overall, score
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.intervals import IntervalParams
from retail_forecasting.forecasting.learners import MODELS, FittedLearner
from retail_forecasting.pipelines.baselines import nodes as baselines
from retail_forecasting.pipelines.evaluation import create_pipeline
from retail_forecasting.pipelines.evaluation.nodes import EvaluationParams
from retail_forecasting.pipelines.evaluation.pipeline import INTERVAL_TAG, candidates

CANDIDATES = candidates()


class StubModel(FittedLearner):
    def feature_importance(self) -> pd.Series:
        return pd.Series({"lag_52": 3.0, "step": 1.0, "store": 0.5})


def _inputs(feat_panel, horizon_weeks):
    """The evaluation's inputs: the real baselines' backtest and test forecasts, stand-in
    candidates worse than the best baseline; returns (inputs, baseline summary, test forecasts,
    the best baseline's backtest scores)."""
    params = BaselineParams()
    backtest = baselines.backtest_baselines(
        feat_panel, horizon_weeks, BacktestParams(n_windows=2, step_weeks=10), params
    )
    models = overall(score(backtest))
    summary = {"best_baseline": min(models, key=lambda m: models[m]["wmae"]), "models": models}
    test = baselines.forecast_test_window(feat_panel, horizon_weeks, params)
    best = summary["models"][summary["best_baseline"]]
    inputs = {
        "mo_baseline_test_forecasts": test,
        "rpt_baseline_summary": summary,
        "params:horizon_weeks": horizon_weeks,
        "params:evaluation": EvaluationParams(sampled_series=3),
        "params:intervals": IntervalParams(min_bucket_rows=20),
        "mo_baseline_backtest": backtest,
    }
    for i, model in enumerate(CANDIDATES):
        # stand-ins worse than the best baseline: the baseline stays champion
        inputs[f"{model}.mo_test_forecasts"] = test[["store", "dept", "date"]].assign(
            **{model: test["seasonal_naive"] * (1.1 + i / 10)}
        )
        inputs[f"{model}.rpt_backtest_summary"] = {model: {k: v * (2 + i) for k, v in best.items()}}
        inputs[f"{model}.mo_backtest"] = backtest[KEY_COLUMNS].assign(
            **{model: backtest["seasonal_naive"] * (1.1 + i / 10)}
        )
    for model in MODELS:
        inputs[f"{model}.mdl_model"] = StubModel(model, None, [], [])
    inputs["svd_decomposition.mdl_model"] = DecompositionParams()
    inputs |= {
        "feat_panel": feat_panel,
        "params:feature_engineering": FeatureParams(),
        "params:baselines": params,
        "ensemble.mo_weights": {"weights": {m: 1 / len(MODELS) for m in MODELS}},
    }
    return inputs, summary, test, best


def test_champion_metrics_table_and_figures(feat_panel, run_pipeline, horizon_weeks):
    inputs, summary, test, best = _inputs(feat_panel, horizon_weeks)
    catalog = run_pipeline(create_pipeline(), inputs)

    metrics = catalog.load("rpt_metrics")
    assert metrics["champion"] == summary["best_baseline"]
    assert set(metrics["models"]) == {*summary["models"], *CANDIDATES, "champion"}
    assert metrics["test_start"] == f"{test['date'].min():%Y-%m-%d}"
    # the champion's intervals, scored on the test window, in metrics.json
    intervals = metrics["intervals"]
    assert intervals["model"] == summary["best_baseline"] and intervals["quantiles"] == [
        0.025,
        0.1,
        0.5,
        0.9,
        0.975,
    ]
    for level in ("80", "95"):
        assert 0 <= intervals[level]["coverage"] <= 1 and intervals[level]["width"] > 0
        assert intervals[level]["interval_score"] >= intervals[level]["width"]
        assert 0 <= intervals["backtest"][level]["coverage"] <= 1
    assert intervals["95"]["width"] > intervals["80"]["width"]
    assert set(intervals["models"]) == {*summary["models"], *CANDIDATES}
    assert set(intervals["coverage_by_holiday"]["80"]) == {"True", "False"}
    partitions = catalog.load("mo_test_intervals")  # one parquet file per model
    assert set(partitions) == set(intervals["models"])
    tidy = pd.concat([load() for load in partitions.values()], ignore_index=True)
    assert set(tidy["model"]) == set(intervals["models"])
    assert list(tidy.columns[-5:]) == ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
    assert len(tidy) == len(test) * len(intervals["models"])
    assert (
        (tidy[["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]].diff(axis=1).iloc[:, 1:] >= 0)
        .all()
        .all()
    )
    report = catalog.load("rpt_interval_evaluation_report")
    assert set(report["stage"]) == {"test", "backtest"} and set(report["segment"]) == {
        "overall",
        "step",
        "is_holiday",
        "store_type",
    }
    assert "intervals.champion.80.coverage" in catalog.load("rpt_interval_mlflow_metrics")
    fan = catalog.load("rpt_fan_chart_figure")
    assert (
        fan.axes[0].get_title() == "Total sales (all series)"
        and len([a for a in fan.axes if a.get_visible()]) == 4
    )
    assert catalog.load("rpt_coverage_by_step_figure").axes[0].get_xlabel().startswith("Step")
    table = catalog.load("rpt_model_comparison")
    assert len(table) == len(summary["models"]) + len(CANDIDATES)
    assert table["champion"].sum() == 1
    assert table.loc[table["champion"], "model"].item() == summary["best_baseline"]
    assert set(table["family"]) == {"baseline", "statistical", "learner", "ensemble"}
    row = table.set_index("model").loc["ridge"]
    assert (
        row["backtest_wmae"] == best["wmae"] * (2 + CANDIDATES.index("ridge"))
        and row["test_wmae"] == metrics["models"]["ridge"]["wmae"]
    )
    champion = catalog.load("rpt_champion_test_forecasts")
    np.testing.assert_allclose(
        champion["forecast"], test.sort_values(["store", "dept", "date"])[summary["best_baseline"]]
    )
    assert (
        catalog.load("rpt_test_forecast_figure")
        .axes[0]
        .get_title()
        .startswith("Total weekly sales")
    )
    assert len([a for a in catalog.load("rpt_sampled_series_figure").axes if a.get_visible()]) == 3
    assert catalog.load("rpt_error_by_step_figure").axes[0].get_xlabel().startswith("Step")
    assert len(catalog.load("rpt_error_by_segment_figure").axes) == 2
    importance = catalog.load("rpt_feature_importance_figure")
    assert (
        [a.get_title() for a in importance.axes]
        == ["lightgbm", "catboost", "xgboost"]
        == list(zoo.tree_models())
    )
    assert all(
        a.get_xlabel().endswith("(target: sales)") for a in importance.axes
    )  # the stand-ins' target

    # the packaged champion (here the best baseline) forecasts raw Kaggle-shaped rows
    pyfunc = catalog.load("rpt_champion_model")
    last = feat_panel["date"].max()
    raw = pd.DataFrame(
        {
            "Store": [1, 1, 2],
            "Dept": [1, 1, 3],
            "IsHoliday": ["FALSE", "TRUE", "FALSE"],
            "Date": [f"{last + pd.Timedelta(weeks=k):%Y-%m-%d}" for k in (1, 2, 39)],
        }
    )
    forecast = pyfunc.predict(None, raw)
    quantiles = [
        "Weekly_Sales_q0.025",
        "Weekly_Sales_q0.1",
        "Weekly_Sales_q0.5",
        "Weekly_Sales_q0.9",
        "Weekly_Sales_q0.975",
    ]
    assert list(forecast.columns) == ["Store", "Dept", "Date", "Weekly_Sales", *quantiles]
    assert forecast[["Weekly_Sales", *quantiles]].notna().all().all()
    assert (forecast[quantiles].diff(axis=1).iloc[:, 1:] >= 0).all().all()  # non-crossing
    assert (forecast["Weekly_Sales_q0.025"] < forecast["Weekly_Sales"]).all()
    assert (forecast["Weekly_Sales_q0.975"] > forecast["Weekly_Sales"]).all()
    history = feat_panel.set_index(["store", "dept", "date"])["weekly_sales"]
    if summary["best_baseline"] == "seasonal_naive":  # the value 52 weeks back
        assert (
            forecast["Weekly_Sales"].iloc[0] == history[(1, 1, last + pd.Timedelta(weeks=1 - 52))]
        )
    with pytest.raises(ValueError, match="forecasts the 39 weeks after"):
        pyfunc.predict(None, raw.assign(Date=f"{last + pd.Timedelta(weeks=40):%Y-%m-%d}"))


def test_without_intervals_the_same_metrics_and_a_point_only_champion(
    feat_panel, run_pipeline, horizon_weeks
):
    inputs, summary, test, _ = _inputs(feat_panel, horizon_weeks)
    pipeline = create_pipeline(with_intervals=False)
    names = {n.name.removesuffix("_no_intervals") for n in pipeline.nodes}
    assert names == {n.name for n in create_pipeline().nodes if INTERVAL_TAG not in n.tags}
    assert not any("interval" in d for d in pipeline.all_inputs() | pipeline.all_outputs())
    point = run_pipeline(pipeline, {k: v for k, v in inputs.items() if k in pipeline.inputs()})
    full = run_pipeline(create_pipeline(), inputs)

    metrics, with_intervals = point.load("rpt_metrics"), full.load("rpt_metrics")
    assert "intervals" not in metrics and "intervals" in with_intervals
    assert metrics == {k: v for k, v in with_intervals.items() if k != "intervals"}
    pd.testing.assert_frame_equal(
        point.load("rpt_model_evaluation_report"), full.load("rpt_model_evaluation_report")
    )
    last = feat_panel["date"].max()
    raw = pd.DataFrame({"Store": [1, 2], "Dept": [1, 3], "IsHoliday": ["FALSE", "FALSE"]}).assign(
        Date=f"{last + pd.Timedelta(weeks=1):%Y-%m-%d}"
    )
    alone = point.load("rpt_champion_model").predict(None, raw)
    both = full.load("rpt_champion_model").predict(None, raw)
    assert list(alone.columns) == ["Store", "Dept", "Date", "Weekly_Sales"]
    pd.testing.assert_frame_equal(alone, both[alone.columns])
    assert summary["best_baseline"] == metrics["champion"] and len(test) > 0


def test_registered_no_intervals_is_the_default_run_without_the_interval_nodes():
    from kedro.framework.project import configure_project

    from retail_forecasting.pipeline_registry import register_pipelines

    configure_project("retail_forecasting")
    pipelines = register_pipelines()
    default, point = pipelines["__default__"], pipelines["no_intervals"]
    names = {n.name.removesuffix("_no_intervals") for n in point.nodes}
    assert names == {n.name for n in default.nodes if INTERVAL_TAG not in n.tags}
    assert not {n.name for n in point.nodes} <= {n.name for n in default.nodes}  # not a step
    interval_data = {
        d
        for d in default.all_outputs()
        if any(k in d for k in ("interval", "fan_chart", "coverage"))
    }
    assert interval_data and point.all_outputs() == default.all_outputs() - interval_data
    assert point.inputs() == default.inputs() - {"params:intervals"}
