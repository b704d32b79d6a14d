"""``weekly``: load the new weeks (``--params ingestion.load.mode=incremental``), re-forecast
from the newest one, monitor (docs/monitoring.md). One session, one MLflow run. Not in
``__default__``. The ingestion runs up to the verified load and its manifest: the chronological
split (and EDA, features) see the new weeks at the next training run (``kedro run``)."""

from kedro.pipeline import Pipeline

from retail_forecasting.pipelines.forecast.pipeline import create_pipeline as forecast
from retail_forecasting.pipelines.ingestion.pipeline import create_pipeline as ingestion
from retail_forecasting.pipelines.monitoring.pipeline import create_pipeline as monitoring


def create_pipeline(**kwargs) -> Pipeline:
    load = ingestion().to_outputs("prm_warehouse_load_report", "rpt_input_manifest")
    return load + forecast() + monitoring()
