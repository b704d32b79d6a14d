"""The Kaggle Walmart files (``stores.csv``, ``features.csv``, ``train.csv``, ``test.csv``): their
columns, keys, and the one mapping from Kaggle's column names to the panel's.

The panel (:data:`retail_forecasting.forecasting.contract.PANEL_COLUMNS`) is what the
warehouse's analytics view returns and what the engine reads: lower-case names, ``Type`` and
``Size`` as ``store_type`` and ``store_size``.
"""

from __future__ import annotations

import pandas as pd

FILE_NAMES = {
    "train": "train.csv",
    "features": "features.csv",
    "stores": "stores.csv",
    "test": "test.csv",
}

MARKDOWN_COLUMNS = [f"MarkDown{i}" for i in range(1, 6)]
#: the store-week covariates of features.csv (besides its keys and IsHoliday)
COVARIATE_COLUMNS = [
    "Temperature",
    "Fuel_Price",
    *MARKDOWN_COLUMNS,
    "CPI",
    "Unemployment",
]

STORES_COLUMNS = ["Store", "Type", "Size"]
FEATURES_COLUMNS = ["Store", "Date", *COVARIATE_COLUMNS, "IsHoliday"]
TRAIN_COLUMNS = ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"]
TEST_COLUMNS = ["Store", "Dept", "Date", "IsHoliday"]

STORES_KEYS = ["Store"]
FEATURES_KEYS = ["Store", "Date"]
SALES_KEYS = ["Store", "Dept", "Date"]  # train.csv and test.csv

#: Kaggle column -> panel column, for every column of the four files
PANEL_NAMES = {
    "Store": "store",
    "Dept": "dept",
    "Date": "date",
    "Weekly_Sales": "weekly_sales",
    "IsHoliday": "is_holiday",
    "Type": "store_type",
    "Size": "store_size",
    **{column: column.lower() for column in COVARIATE_COLUMNS},
}
#: the covariates under their panel (and warehouse) names, in features.csv's order
PANEL_COVARIATES = [PANEL_NAMES[column] for column in COVARIATE_COLUMNS]

#: the columns of a forecast request (test.csv plus the optional planned markdowns), Kaggle ->
#: panel names: what the champion model's pyfunc, inference and serving take
FORECAST_INPUT_NAMES = {
    column: PANEL_NAMES[column] for column in (*TEST_COLUMNS, *MARKDOWN_COLUMNS)
}


def to_panel_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its Kaggle column names in the panel's (other columns as they are)."""
    return frame.rename(columns={c: PANEL_NAMES[c] for c in frame.columns if c in PANEL_NAMES})


def to_kaggle_names(frame: pd.DataFrame) -> pd.DataFrame:
    """The reverse of :func:`to_panel_names` (the index, e.g. CSV line numbers, is kept)."""
    back = {panel: kaggle for kaggle, panel in PANEL_NAMES.items()}
    return frame.rename(columns={c: back[c] for c in frame.columns if c in back})
