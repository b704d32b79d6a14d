"""The warehouse load on both engines: embedded DuckDB and a real PostgreSQL server.

Idempotency (same batch twice -> same rows), mirror semantics, and atomicity (a failure in the
middle of a load leaves the previous contents intact).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError
from kedro_datasets.pandas import SQLQueryDataset

from retail_forecasting.datasets import WarehouseDataset
from retail_forecasting.warehouse import (
    STAGING_COLUMNS,
    LoadPolicy,
    WarehouseBatch,
    check_batch,
    split_sql,
)

SQL = Path(__file__).resolve().parents[1] / "sql"
DATES = pd.date_range("2010-02-05", periods=4, freq="7D")


def make_batch(sales_offset: float = 0.0) -> dict[str, pd.DataFrame]:
    stores = pd.DataFrame(
        {"store_id": [1, 2], "store_type": ["A", "B"], "store_size": [200_000, 90_000]}
    )
    features = pd.DataFrame(
        [
            {
                "store_id": s,
                "week_date": d,
                "temperature": 50.0,
                "fuel_price": 2.7,
                "markdown1": None,
                "markdown2": None,
                "markdown3": None,
                "markdown4": None,
                "markdown5": None,
                "cpi": 211.1,
                "unemployment": 7.9,
                "is_holiday": i == 1,
            }
            for s in (1, 2)
            for i, d in enumerate(DATES)
        ]
    )
    sales = pd.DataFrame(
        [
            {
                "store_id": s,
                "dept_id": dept,
                "week_date": d,
                "weekly_sales": 1000.0 * s + dept + i + sales_offset,
                "is_holiday": i == 1,
            }
            for s in (1, 2)
            for dept in (1, 3)
            for i, d in enumerate(DATES)
        ]
    )
    return {"stg_store": stores, "stg_store_features_weekly": features, "stg_sales_weekly": sales}


@pytest.fixture
def dataset(warehouse_url):
    ds = WarehouseDataset(
        credentials={"con": warehouse_url},
        schema_files=[str(SQL / "01_create_schema.sql"), str(SQL / "02_create_analytics_view.sql")],
        upsert_file=str(SQL / "03_upsert_from_staging.sql"),
    )
    yield ds
    SQLQueryDataset.engines.pop(warehouse_url, None)


def read_view(warehouse_url: str) -> pd.DataFrame:
    SQLQueryDataset.engines.pop(warehouse_url, None)  # fresh engine: see what is committed
    frame = SQLQueryDataset(
        sql="SELECT * FROM retailds.vw_sales_analytics ORDER BY store, dept, date",
        credentials={"con": warehouse_url},
    ).load()
    SQLQueryDataset.engines.pop(warehouse_url).dispose()
    return frame


def test_load_creates_schema_and_view(dataset, warehouse_url):
    assert not dataset.exists()
    dataset.save(make_batch())
    assert dataset.exists()
    assert dataset.load() == {
        "dim_store": 2,
        "dim_dept": 2,
        "store_features_weekly": 8,
        "fact_sales_weekly": 16,
        "vw_sales_analytics": 16,
    }
    view = read_view(warehouse_url)
    assert list(view.columns[:7]) == [
        "store",
        "dept",
        "date",
        "weekly_sales",
        "is_holiday",
        "store_type",
        "store_size",
    ]
    first = view.iloc[0]
    assert (first["store"], first["dept"], first["weekly_sales"], first["store_type"]) == (
        1,
        1,
        1001.0,
        "A",
    )
    assert view["cpi"].eq(211.1).all() and view["is_holiday"].sum() == 4


def test_loading_twice_gives_the_same_rows(dataset, warehouse_url):
    dataset.save(make_batch())
    first = read_view(warehouse_url)
    dataset.save(make_batch())
    assert dataset.load()["fact_sales_weekly"] == 16
    pd.testing.assert_frame_equal(read_view(warehouse_url), first)


def test_new_batch_updates_changed_rows_and_removes_absent_ones_when_allowed(
    dataset, warehouse_url
):
    dataset.save(make_batch())
    batch = make_batch(sales_offset=0.5)
    batch["stg_sales_weekly"] = batch["stg_sales_weekly"].query("dept_id == 1")
    dataset.save(WarehouseBatch(batch, LoadPolicy(allow_shrink=True)))
    counts = dataset.load()
    assert counts["fact_sales_weekly"] == 8 and counts["dim_dept"] == 2  # dims keep members
    view = read_view(warehouse_url)
    assert view["weekly_sales"].iloc[0] == 1001.5 and set(view["dept"]) == {1}


@pytest.mark.parametrize("break_batch", ["unknown_store", "bad_value"])
def test_failure_in_the_middle_leaves_previous_data_intact(dataset, warehouse_url, break_batch):
    dataset.save(make_batch())
    before = read_view(warehouse_url)
    batch = make_batch(sales_offset=100.0)
    batch["stg_store"] = batch["stg_store"].assign(store_size=1)  # dims change first ...
    features = batch["stg_store_features_weekly"]
    batch["stg_store_features_weekly"] = features[features["store_id"] == 1]  # ... and deletes
    sales = batch["stg_sales_weekly"]
    if break_batch == "unknown_store":  # ... then a fact violates a foreign key (late failure)
        batch["stg_sales_weekly"] = sales.assign(store_id=sales["store_id"].replace(2, 99))
    else:  # ... or the bulk load itself fails on a value that is not a number (early failure)
        batch["stg_sales_weekly"] = sales.astype({"weekly_sales": object}).assign(
            weekly_sales=["oops"] + sales["weekly_sales"].tolist()[1:]
        )
    with pytest.raises(DatasetError, match="rolled back"):
        # allow_shrink: past the shrink guard, so the failure happens mid-transaction
        dataset.save(WarehouseBatch(batch, LoadPolicy(allow_shrink=True)))
    assert dataset.load()["store_features_weekly"] == 8
    pd.testing.assert_frame_equal(read_view(warehouse_url), before)


def test_batch_shape_is_checked():
    batch = make_batch()
    del batch["stg_store"]
    with pytest.raises(ValueError, match="missing \\['stg_store'\\]"):
        check_batch(batch)
    batch = make_batch()
    batch["stg_sales_weekly"] = batch["stg_sales_weekly"][
        list(reversed(STAGING_COLUMNS["stg_sales_weekly"]))
    ]
    with pytest.raises(ValueError, match="expected"):
        check_batch(batch)


def test_split_sql_drops_comments_and_empty_statements():
    script = "-- a; comment\nCREATE TABLE a (x INT);\n\n  -- trailing\nSELECT 1;\n"
    assert split_sql(script) == ["CREATE TABLE a (x INT)", "SELECT 1"]


def test_description_never_shows_the_password():
    ds = WarehouseDataset(
        credentials={"con": "postgresql://u:s3cret@h/db"}, schema_files=[], upsert_file="x"
    )
    assert "s3cret" not in str(ds)
