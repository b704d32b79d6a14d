"""Project datasets: what kedro-datasets does not cover.

- :class:`KaggleRawDataset` reads one Kaggle CSV from ``raw_data_dir`` or, when that runtime
  parameter is empty, from the deterministic synthetic bundle it generates on first use.
- :class:`WarehouseDataset` saves a staged batch into the warehouse (bulk load + upsert in one
  transaction) and loads the warehouse's row counts; it lives in
  :mod:`retail_forecasting.warehouse.dataset` and is re-exported here, the catalog's ``type:``.
- :class:`RegisteredModelDataset` loads a registered MLflow model like kedro-mlflow's
  ``MlflowModelRegistryDataset``, and says what exists and what to do when the model or its
  alias does not.
- :class:`ChampionModelDataset` logs the champion like kedro-mlflow's
  ``MlflowModelTrackingDataset``, with a signature, an input example and the package's code.
- :class:`MlflowMetricsBatchDataset` logs metrics like kedro-mlflow's
  ``MlflowMetricsHistoryDataset``, in a few ``log_batch`` requests instead of one per metric.
"""

from typing import Any

from retail_forecasting.datasets.kaggle_raw import KaggleRawDataset
from retail_forecasting.warehouse.dataset import WarehouseDataset

__all__ = [
    "ChampionModelDataset",
    "KaggleRawDataset",
    "MlflowMetricsBatchDataset",
    "RegisteredModelDataset",
    "WarehouseDataset",
]


def __getattr__(name: str) -> Any:
    # imported on first use: it needs mlflow and kedro-mlflow, which the ingestion-only
    # deployments (Glue job, Lambdas) that import KaggleRawDataset do not install
    if name == "RegisteredModelDataset":
        from retail_forecasting.datasets.registered_model import RegisteredModelDataset

        return RegisteredModelDataset
    if name == "ChampionModelDataset":
        from retail_forecasting.datasets.champion_model import ChampionModelDataset

        return ChampionModelDataset
    if name == "MlflowMetricsBatchDataset":
        from retail_forecasting.datasets.mlflow_metrics import MlflowMetricsBatchDataset

        return MlflowMetricsBatchDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
