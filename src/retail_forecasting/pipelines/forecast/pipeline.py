"""``forecast``: the registered champion (``model_alias``, default ``champion``) forecasts the
next weeks from the newest week in the warehouse, its history refreshed and its fitted
parameters unchanged; the rows go to ``retailds.fact_forecast_weekly``. Not in ``__default__``
(it needs a registered model). ``kedro run --pipeline weekly`` = ingestion + forecast + monitoring.
"""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.forecast import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.forecast_from_warehouse,
                [
                    "mdl_registered_champion",
                    "fc_recent_sales",
                    "fc_store_features",
                    "prm_warehouse_load_report",
                    "params:forecast",
                ],
                ["fc_forecast_table", "fc_forecast_summary"],
                name="forecast_from_warehouse",
            ),
        ]
    )
