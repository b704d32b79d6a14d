"""``monitoring``: scores every stored forecast whose actuals arrived against what the backtest
promised, checks the newest week's inputs for drift, writes checks (warehouse table and CSV),
scores, summary, MLflow metrics, figures, the planner's report and, when a threshold is
crossed, the alerts file (``kedro run`` then exits with code 3). Not in ``__default__``.

:func:`create_promise_pipeline` (in ``__default__``, after the evaluation) records what the
champion's backtest promises per step, which every monitoring run compares with.
"""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.evaluation.pipeline import CANDIDATES
from retail_forecasting.pipelines.monitoring import nodes


def create_promise_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.summarise_backtest_promise,
                ["rpt_champion", "params:monitoring", "mo_baseline_backtest",
                 *(f"{m}.mo_backtest" for m in CANDIDATES)],
                "mon_backtest_promise",
                name="summarise_backtest_promise",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.monitor,
                ["mon_scored_forecasts", "prm_sales_analytics", "fc_store_features", "mon_backtest_promise",
                 "fc_forecast_summary", "params:monitoring"],
                ["mon_checks_table", "mon_checks", "mon_scores", "mon_summary", "mon_mlflow_metrics", "mon_alerts"],
                name="monitor",
            ),
            Node(
                nodes.plot_monitoring,
                ["mon_scores", "mon_checks", "mon_summary", "mon_backtest_promise", "params:monitoring"],
                ["mon_rolling_accuracy_figure", "mon_store_deviation_figure"],
                name="plot_monitoring",
            ),
            Node(
                nodes.write_planner_report,
                ["prm_sales_analytics", "fc_forecast_table", "mon_scored_forecasts", "mon_scores", "mon_checks",
                 "mon_summary", "mon_backtest_promise", "params:monitoring"],
                "mon_planner_report",
                name="write_planner_report",
            ),
        ]
    )
