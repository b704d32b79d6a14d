"""The evaluation pipeline on an in-memory catalog, fed by the real baselines nodes."""

from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.pipelines.baselines import nodes as baselines
from retail_forecasting.pipelines.evaluation import create_pipeline


def test_champion_metrics_and_figure(feat_panel, run_pipeline, horizon_weeks):
    params = BaselineParams()
    backtest = baselines.backtest_baselines(feat_panel, horizon_weeks, BacktestParams(n_windows=2, step_weeks=10), params)
    _, summary, _ = baselines.score_baselines(backtest)
    test = baselines.forecast_test_window(feat_panel, horizon_weeks, params)
    # a "learner" that is the seasonal naive scaled by 1.5: worse than the best baseline
    learner = test[["store", "dept", "date"]].assign(lightgbm=test["seasonal_naive"] * 1.5)
    learner_summary = {"lightgbm": {k: v * 2 for k, v in summary["models"][summary["best_baseline"]].items()}}
    catalog = run_pipeline(
        create_pipeline(),
        {
            "mo_baseline_test_forecasts": test,
            "mo_lightgbm_test_forecasts": learner,
            "rpt_baseline_summary": summary,
            "rpt_lightgbm_backtest_summary": learner_summary,
            "params:horizon_weeks": horizon_weeks,
        },
    )
    metrics = catalog.load("rpt_metrics")
    assert metrics["champion"] == summary["best_baseline"]
    assert set(metrics["models"]) == {*summary["models"], "lightgbm", "champion"}
    assert metrics["test_start"] == f"{test['date'].min():%Y-%m-%d}"
    figure = catalog.load("rpt_test_forecast_figure")
    assert figure.axes[0].get_title().startswith("Total weekly sales")
