"""One Spark session in local[2] for every Spark test (starting one costs seconds)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.contract import PANEL_COLUMNS
from retail_forecasting.synthetic import SyntheticConfig, generate

HORIZON = 39

# `make test` installs the spark extra, and CI must run these tests: there a missing PySpark
# fails the run; elsewhere (a venv without the extra) the Spark tests are skipped.
if os.environ.get("CI"):
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark", reason='needs the spark extra: pip install -e ".[test,spark]"')


@pytest.fixture(scope="session")
def spark():
    from retail_forecasting.spark.hooks import make_session

    settings = {
        "spark.master": "local[2]",
        "spark.driver.memory": "1g",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.legacy.parquet.nanosAsLong": "true",  # as conf/spark/spark.yml
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    session = make_session(settings, "retail-forecasting-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def panel() -> pd.DataFrame:
    """4 stores x 8 departments, 143 weeks, with gaps, late and stopping series (as ingestion
    joins the Kaggle files: tests/forecasting/conftest.py)."""
    frames = generate(SyntheticConfig(seed=11, n_stores=4, n_depts=8))
    sales = frames["train"].rename(columns=str.lower).rename(columns={"isholiday": "is_holiday"})
    features = frames["features"].rename(columns=str.lower).drop(columns=["isholiday"])
    stores = frames["stores"].rename(
        columns={"Store": "store", "Type": "store_type", "Size": "store_size"}
    )
    panel = sales.merge(features, on=["store", "date"], how="left").merge(stores, on="store")
    panel["date"] = pd.to_datetime(panel["date"]).astype("datetime64[ns]")
    panel["is_holiday"] = panel["is_holiday"].astype(bool)
    return panel[PANEL_COLUMNS].sort_values(["store", "dept", "date"], ignore_index=True)


@pytest.fixture(scope="session")
def cutoffs(panel) -> list[pd.Timestamp]:
    weeks = np.sort(panel["date"].unique())
    return [pd.Timestamp(weeks[i]) for i in (-HORIZON - 13, -HORIZON - 7, -HORIZON - 1)]
