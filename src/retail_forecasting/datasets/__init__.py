"""Project datasets: what kedro-datasets does not cover.

- :class:`KaggleRawDataset` reads one Kaggle CSV from ``raw_data_dir`` or, when that runtime
  parameter is empty, from the deterministic synthetic bundle it generates on first use.
- :class:`WarehouseDataset` saves a staged batch into the warehouse (bulk load + upsert in one
  transaction) and loads the warehouse's row counts.
"""

from retail_forecasting.datasets.kaggle_raw import KaggleRawDataset
from retail_forecasting.datasets.warehouse import WarehouseDataset

__all__ = ["KaggleRawDataset", "WarehouseDataset"]
