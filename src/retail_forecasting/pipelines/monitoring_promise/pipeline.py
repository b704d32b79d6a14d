"""``monitoring_promise``: after the evaluation, what the champion's backtest promises per step
(the reference of every monitoring run). Part of ``__default__``."""

from kedro.pipeline import Pipeline

from retail_forecasting.pipelines.monitoring.pipeline import create_promise_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return create_promise_pipeline()
