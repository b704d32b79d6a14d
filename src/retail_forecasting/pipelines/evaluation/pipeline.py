"""Evaluation: champion by the backtest rule, every model scored on the test window, the
model-comparison table, the champion's forecast and the figures.

The models are the zoo's (:func:`retail_forecasting.forecasting.zoo.names`) and the ensemble;
the feature-importance figure shows the zoo's tree models
(:func:`retail_forecasting.forecasting.zoo.tree_models`). Without intervals
(``create_pipeline(with_intervals=False)``, the registered pipeline ``no_intervals``) the interval
nodes are left out: ``metrics.json`` has no ``intervals`` and the champion's pyfunc returns its
point forecast only (issue #12's run-time comparison, docs/benchmarks.md)."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.forecasting import zoo
from retail_forecasting.pipelines.evaluation import intervals, nodes


def candidates(models: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The models the champion is chosen from besides the baselines: ``models`` (default: the
    zoo) and the ensemble."""
    return (*(zoo.names() if models is None else models), "ensemble")


#: the tag of the nodes that exist only for the prediction intervals (issue #12): the
#: calibration rows, one calibration per backtest, their combination, the test-window quantiles,
#: their scores and the two figures (``kedro run --tags intervals`` runs them on a run's data)
INTERVAL_TAG = "intervals"


def interval_calibration(backtests: dict[str, str]) -> list[Node]:
    """The interval calibration, one node per backtest (``{name: dataset}``, in order): the
    shared rows and scales (``mo_interval_calibration_rows``), ``calibrate_intervals_<name>``
    (that backtest's models only, so no node holds every backtest at once; docs/scale.md), and
    ``calibrate_intervals`` combining them into the interval models and backtest scores."""
    parts = {name: f"mo_interval_calibration_{name}" for name in backtests}
    return [
        Node(
            intervals.interval_calibration_rows,
            ["feat_panel", "params:intervals", next(iter(backtests.values()))],
            "mo_interval_calibration_rows",
            name="interval_calibration_rows",
            tags=[INTERVAL_TAG],
        ),
        *(
            Node(
                intervals.calibrate_backtest_intervals,
                [
                    "mo_interval_calibration_rows",
                    "params:horizon_weeks",
                    "params:intervals",
                    backtest,
                ],
                parts[name],
                name=f"calibrate_intervals_{name}",
                tags=[INTERVAL_TAG],
            )
            for name, backtest in backtests.items()
        ),
        Node(
            intervals.calibrate_intervals,
            ["params:intervals", *parts.values()],
            [
                "mdl_interval_models",
                "rpt_interval_backtest_scores",
                "rpt_interval_backtest_summary",
            ],
            name="calibrate_intervals",
            tags=[INTERVAL_TAG],
        ),
    ]


def champion_inputs(models: tuple[str, ...], interval_models: str | None = None) -> dict[str, str]:
    """What packaging the champion reads, with its interval model or without (``None``)."""
    with_intervals = {} if interval_models is None else {"interval_models": interval_models}
    return {
        "rpt_champion": "rpt_champion",
        **with_intervals,
        "feat_panel": "feat_panel",
        "horizon_weeks": "params:horizon_weeks",
        "features": "params:feature_engineering",
        "baselines": "params:baselines",
        "ensemble_weights": "ensemble.mo_weights",
        **{m: f"{m}.mdl_model" for m in models},
    }


def create_pipeline(
    models: tuple[str, ...] | None = None, with_intervals: bool = True, **kwargs
) -> Pipeline:
    """The evaluation of ``models`` (default: the zoo; the modelling pipeline of the same
    models makes their outputs) and their ensemble; ``with_intervals`` (default) every model's
    prediction intervals too (the nodes tagged :data:`INTERVAL_TAG`, the champion's in
    ``metrics.json`` and in its pyfunc), without them the same outputs otherwise."""
    models = zoo.names() if models is None else models
    compared = candidates(models)
    trees = [m for m in zoo.tree_models() if m in models]
    pipeline = Pipeline(
        [
            Node(
                nodes.assemble_test_forecasts,
                ["mo_baseline_test_forecasts", *(f"{m}.mo_test_forecasts" for m in compared)],
                "mo_test_forecasts",
                name="assemble_test_forecasts",
            ),
            Node(
                nodes.select_champion,
                ["rpt_baseline_summary", *(f"{m}.rpt_backtest_summary" for m in compared)],
                "rpt_champion",
                name="select_champion",
            ),
            # prediction intervals (issue #12): calibrated on every model's backtest
            *interval_calibration(
                {
                    "baselines": "mo_baseline_backtest",
                    **{m: f"{m}.mo_backtest" for m in compared},
                }
            ),
            Node(
                intervals.forecast_intervals,
                ["mo_test_forecasts", "feat_panel", "mdl_interval_models", "params:intervals"],
                "mo_test_intervals",
                name="forecast_intervals",
                tags=[INTERVAL_TAG],
            ),
            Node(
                intervals.evaluate_intervals,
                [
                    "mo_test_intervals",
                    "rpt_champion",
                    "rpt_interval_backtest_scores",
                    "rpt_interval_backtest_summary",
                    "params:intervals",
                ],
                ["rpt_intervals", "rpt_interval_evaluation_report", "rpt_interval_mlflow_metrics"],
                name="evaluate_intervals",
                tags=[INTERVAL_TAG],
            ),
            Node(
                # nodes.evaluate_test_window + the champion's intervals
                intervals.evaluate_test_window,
                ["mo_test_forecasts", "rpt_champion", "params:horizon_weeks", "rpt_intervals"],
                ["rpt_metrics", "rpt_model_evaluation_report", "rpt_test_mlflow_metrics"],
                name="evaluate_test_window",
            ),
            Node(
                intervals.plot_fan_chart,
                [
                    "mo_test_intervals",
                    "mo_test_forecasts",
                    "feat_panel",
                    "rpt_champion",
                    "mdl_interval_models",
                    "params:evaluation",
                    "params:intervals",
                ],
                "rpt_fan_chart_figure",
                name="plot_fan_chart",
                tags=[INTERVAL_TAG],
            ),
            Node(
                intervals.plot_coverage_by_step,
                ["rpt_interval_evaluation_report", "rpt_champion", "params:intervals"],
                "rpt_coverage_by_step_figure",
                name="plot_coverage_by_step",
                tags=[INTERVAL_TAG],
            ),
            Node(
                nodes.compare_models,
                ["rpt_champion", "rpt_metrics"],
                "rpt_model_comparison",
                name="compare_models",
            ),
            Node(
                nodes.extract_champion_forecasts,
                ["mo_test_forecasts", "rpt_champion"],
                "rpt_champion_test_forecasts",
                name="extract_champion_forecasts",
            ),
            Node(
                nodes.plot_test_forecast,
                ["mo_test_forecasts", "rpt_champion"],
                "rpt_test_forecast_figure",
                name="plot_test_forecast",
            ),
            Node(
                nodes.plot_sampled_series,
                ["mo_test_forecasts", "rpt_champion", "params:evaluation"],
                "rpt_sampled_series_figure",
                name="plot_sampled_series",
            ),
            Node(
                nodes.plot_error_by_step,
                ["rpt_model_evaluation_report", "rpt_champion"],
                "rpt_error_by_step_figure",
                name="plot_error_by_step",
            ),
            Node(
                nodes.plot_error_by_segment,
                ["rpt_model_evaluation_report", "rpt_champion"],
                "rpt_error_by_segment_figure",
                name="plot_error_by_segment",
            ),
            Node(
                nodes.plot_feature_importance,
                {"params": "params:evaluation", **{m: f"{m}.mdl_model" for m in trees}},
                "rpt_feature_importance_figure",
                name="plot_feature_importance",
            ),
            Node(
                # nodes.package_champion + the champion's interval model
                intervals.package_champion,
                champion_inputs(models, interval_models="mdl_interval_models"),
                "rpt_champion_model",
                name="package_champion",
            ),
        ]
    )
    if with_intervals:
        return pipeline
    # point forecasts only: the two nodes that read the intervals, without them
    point = Pipeline(
        [
            Node(
                nodes.evaluate_test_window,
                ["mo_test_forecasts", "rpt_champion", "params:horizon_weeks"],
                ["rpt_metrics", "rpt_model_evaluation_report", "rpt_test_mlflow_metrics"],
                name="evaluate_test_window_no_intervals",
            ),
            Node(
                nodes.package_champion,
                champion_inputs(models),
                "rpt_champion_model",
                name="package_champion_no_intervals",
            ),
        ]
    )
    # (named apart: a node of two registered pipelines would be two SageMaker steps' work)
    replaced = {"evaluate_test_window", "package_champion"}
    kept = [n for n in pipeline.nodes if INTERVAL_TAG not in n.tags and n.name not in replaced]
    return Pipeline(kept) + point
