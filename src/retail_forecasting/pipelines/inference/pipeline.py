"""Inference: test.csv + features.csv + stores.csv -> checks -> the registered champion ->
submission, tidy table and the warehouse's ``retailds.fact_forecast_weekly`` (origin: the
model's training origin; the ``forecast`` pipeline writes the same table from the warehouse's
newest week, docs/monitoring.md).

Not part of ``__default__``: it needs a registered model (``kedro run`` registers one) and
test.csv has no actuals. Run it with ``kedro run --pipeline inference``. The first node reads
the model too: the checks need to know its stores, departments and horizon, and they run before
anything is written.
"""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.inference import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.prepare_inference_input,
                ["raw_test", "raw_features", "raw_stores", "mdl_registered_champion"],
                "int_inference_input",
                name="prepare_inference_input",
            ),
            Node(
                nodes.forecast_test_weeks,
                ["mdl_registered_champion", "int_inference_input"],
                ["rpt_submission", "mo_inference_forecasts"],
                name="forecast_test_weeks",
            ),
            Node(
                nodes.tabulate_forecasts,
                ["mdl_registered_champion", "mo_inference_forecasts"],
                "fc_forecast_table",
                name="tabulate_forecasts",
            ),
        ]
    )
