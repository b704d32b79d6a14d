"""The baselines pipeline on an in-memory catalog."""

from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.pipelines.baselines import create_pipeline

BASELINES = {
    "naive",
    "seasonal_naive",
    "holiday_aligned_seasonal_naive",
    "moving_average",
    "seasonal_average",
    "hybrid",
}


def test_backtest_test_forecasts_and_scores(feat_panel, run_pipeline, horizon_weeks):
    catalog = run_pipeline(
        create_pipeline(),
        {
            "feat_panel": feat_panel,
            "params:horizon_weeks": horizon_weeks,
            "params:backtest": BacktestParams(n_windows=2, step_weeks=10),
            "params:baselines": BaselineParams(),
        },
    )
    backtest = catalog.load("mo_baseline_backtest")
    assert BASELINES <= set(backtest.columns) and backtest["cutoff"].nunique() == 2
    assert backtest["date"].max() < feat_panel.loc[feat_panel["split"] == "test", "date"].min(), (
        "the backtest stays inside train + validation"
    )
    test = catalog.load("mo_baseline_test_forecasts")
    assert len(test) == (feat_panel["split"] == "test").sum() and test["cutoff"].nunique() == 1
    summary = catalog.load("rpt_baseline_summary")
    assert set(summary["models"]) == BASELINES and summary["best_baseline"] in BASELINES
    best = summary["models"][summary["best_baseline"]]["wmae"]
    assert best == min(m["wmae"] for m in summary["models"].values())
    scores = catalog.load("rpt_baseline_backtest_scores")
    assert set(scores["segment"]) == {"overall", "store_type", "dept", "is_holiday", "step"}
    assert set(scores["cutoff"]) == {"all", *summary["cutoffs"]}
    mlflow_metrics = catalog.load("rpt_baseline_mlflow_metrics")
    assert (
        mlflow_metrics["backtest.seasonal_naive.wmae"]["value"]
        == summary["models"]["seasonal_naive"]["wmae"]
    )


def test_the_backtest_design_is_in_the_summary_and_logged_as_mlflow_params(
    feat_panel, horizon_weeks, tmp_path
):
    import mlflow

    from retail_forecasting.pipelines.baselines import nodes

    params = BacktestParams(n_windows=2, step_weeks=10)
    backtest = nodes.backtest_baselines(feat_panel, horizon_weeks, params, BaselineParams())
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run() as run:
        _, summary, _ = nodes.score_baselines(backtest, feat_panel, horizon_weeks, params)
    design = summary["backtest_design"]
    # the fixture: 150 weeks, test = the last 39, so 111 weeks; cutoffs at weeks 62 and 72
    assert design["kind"] == "configured" and design["history_weeks"] == [62, 72]
    assert design["cutoffs"] == summary["cutoffs"] and design["window_weeks"] == horizon_weeks
    logged = mlflow.get_run(run.info.run_id).data.params
    assert logged["backtest_design.kind"] == "configured"
    assert logged["backtest_design.cutoffs"] == ",".join(design["cutoffs"])
    assert logged["backtest_design.reason"] == design["reason"]
