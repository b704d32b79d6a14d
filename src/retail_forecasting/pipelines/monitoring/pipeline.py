"""``monitoring``: scores every stored forecast whose actuals arrived against what the backtest
promised, checks the newest week's inputs for drift, writes checks (warehouse table and CSV),
scores, summary, MLflow metrics, figures, the planner's report and, when a threshold is
crossed, the alerts file (``kedro run`` then exits with code 3). Not in ``__default__``.

The first node records what the champion's backtest promised per step (from the one backtest
frame of the champion the last training run chose), which the checks compare with.
"""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.monitoring import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.summarise_backtest_promise,
                ["mon_champion_backtest", "params:monitoring"],
                "mon_backtest_promise",
                name="summarise_backtest_promise",
            ),
            Node(
                nodes.monitor,
                [
                    "mon_week_forecasts",
                    "mon_score_sums",
                    "fc_recent_sales",
                    "fc_store_features",
                    "mon_backtest_promise",
                    "fc_forecast_summary",
                    "params:monitoring",
                ],
                [
                    "mon_checks_table",
                    "mon_checks",
                    "mon_scores",
                    "mon_summary",
                    "mon_mlflow_metrics",
                    "mon_alerts",
                ],
                name="monitor",
            ),
            Node(
                nodes.plot_monitoring,
                [
                    "mon_scores",
                    "mon_checks",
                    "mon_summary",
                    "mon_backtest_promise",
                    "params:monitoring",
                ],
                ["mon_rolling_accuracy_figure", "mon_store_deviation_figure"],
                name="plot_monitoring",
            ),
            Node(
                nodes.write_planner_report,
                [
                    "fc_recent_sales",
                    "fc_forecast_table",
                    "mon_report_forecasts",
                    "mon_scores",
                    "mon_checks",
                    "mon_summary",
                    "mon_backtest_promise",
                    "params:monitoring",
                ],
                "mon_planner_report",
                name="write_planner_report",
            ),
        ]
    )
