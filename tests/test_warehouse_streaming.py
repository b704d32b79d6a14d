"""The warehouse path at scale: the PostgreSQL COPY is streamed in chunks, the analytics view is
read in chunks into compact dtypes, and both give what the one-piece versions gave.

On both engines (embedded DuckDB and a real PostgreSQL server, like tests/test_warehouse.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DatasetError
from sqlalchemy import create_engine, text

from retail_forecasting import warehouse
from retail_forecasting.datasets import WarehouseDataset
from retail_forecasting.pipelines.ingestion.nodes import (
    ANALYTICS_COLUMNS,
    IngestionParams,
    split_chronologically,
)
from retail_forecasting.warehouse import CsvChunks
from retail_forecasting.warehouse.dataset import ChunkedQueryDataset

ROOT = Path(__file__).resolve().parents[1]
SQL = ROOT / "sql"
VIEW_SQL = "SELECT * FROM retailds.vw_sales_analytics ORDER BY store, dept, date"
DATES = pd.date_range("2010-02-05", periods=6, freq="7D")
STORE_TYPES = {1: "A", 2: "B", 3: "C"}
#: the catalog's dtypes of prm_sales_analytics (checked against the catalogs below)
VIEW_DTYPES = yaml.safe_load((ROOT / "conf/base/catalog_03_primary.yml").read_text())[
    "prm_sales_analytics"
]["dtypes"]


def make_batch(offset: float = 0.0) -> dict[str, pd.DataFrame]:
    """Three stores (types A, B, C) x 3 departments x 6 weeks, markdowns partly missing."""
    rng = np.random.default_rng(7)
    stores = pd.DataFrame(
        {
            "store_id": list(STORE_TYPES),
            "store_type": list(STORE_TYPES.values()),
            "store_size": [200_000, 90_000, 40_000],
        }
    )
    features = pd.DataFrame(
        [
            {
                "store_id": s,
                "week_date": d,
                "temperature": rng.normal(50, 10),
                "fuel_price": 2.7 + i / 3,
                "markdown1": None if i < 3 else rng.uniform(0, 1e4),
                "markdown2": None,
                "markdown3": rng.uniform(-10, 10) if s == 2 else None,
                "markdown4": None,
                "markdown5": 0.1 * i,
                "cpi": 211.1 + s / 7,
                "unemployment": 7.9,
                "is_holiday": i == 1,
            }
            for s in STORE_TYPES
            for i, d in enumerate(DATES)
        ]
    )
    sales = pd.DataFrame(
        [
            {
                "store_id": s,
                "dept_id": dept,
                "week_date": d,
                "weekly_sales": rng.normal(1e4, 3e3) / 3 + offset,  # full-precision doubles
                "is_holiday": i == 1,
            }
            for s in STORE_TYPES
            for dept in (1, 3, 72)
            for i, d in enumerate(DATES)
        ]
    )
    return {"stg_store": stores, "stg_store_features_weekly": features, "stg_sales_weekly": sales}


def warehouse_dataset(url: str, copy_chunk_rows: int = warehouse.COPY_CHUNK_ROWS):
    return WarehouseDataset(
        credentials={"con": url},
        schema_files=[str(SQL / "01_create_schema.sql"), str(SQL / "02_create_analytics_view.sql")],
        upsert_file=str(SQL / "03_upsert_from_staging.sql"),
        copy_chunk_rows=copy_chunk_rows,
    )


def read_table(url: str, table: str, order: str) -> pd.DataFrame:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execute(text(f"SELECT * FROM retailds.{table} ORDER BY {order}"))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    finally:
        engine.dispose()


def whole_read(url: str) -> pd.DataFrame:
    """The view in one piece, the way pandas.SQLQueryDataset read it, cast to VIEW_DTYPES."""
    frame = read_table(url, "vw_sales_analytics", "store, dept, date")
    for column, dtype in VIEW_DTYPES.items():
        values = pd.to_datetime(frame[column]) if dtype.startswith("datetime") else frame[column]
        frame[column] = values.astype(dtype)
    return frame


# --------------------------------------------------------------------------- streamed COPY


@pytest.mark.parametrize("chunk_rows", [1, 4, 54, 10_000])
@pytest.mark.parametrize("size", [1, 7, 8192, -1])
def test_csv_chunks_read_the_same_text_as_one_to_csv(chunk_rows, size):
    sales = make_batch()["stg_sales_weekly"]
    features = make_batch()["stg_store_features_weekly"]
    for frame in (sales, features):
        whole = frame.to_csv(index=False, header=False, na_rep="", date_format="%Y-%m-%d")
        source = CsvChunks(frame, chunk_rows)
        pieces = []
        while piece := source.read(size):
            assert size < 0 or len(piece) <= size
            pieces.append(piece)
        assert "".join(pieces) == whole
        assert source.chunks == math.ceil(len(frame) / chunk_rows)


def test_csv_chunks_encode_lazily_and_refuse_a_zero_chunk():
    frame = make_batch()["stg_sales_weekly"]  # 54 rows
    source = CsvChunks(frame, 10)
    assert source.chunks == 0  # nothing encoded before the first read
    source.read(5)
    assert source.chunks == 1  # one chunk of 10 rows holds the first 5 characters
    with pytest.raises(ValueError, match="chunk_rows"):
        CsvChunks(frame, 0)


@pytest.mark.postgres
def test_copy_is_streamed_in_chunks_and_gives_the_same_tables(postgres_url, monkeypatch):
    used: list[CsvChunks] = []

    class Spy(CsvChunks):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            used.append(self)

    monkeypatch.setattr(warehouse.load, "CsvChunks", Spy)
    batch = make_batch()
    warehouse_dataset(postgres_url, copy_chunk_rows=4).save(batch)
    # one source per staging table, each read to the end in ceil(rows / 4) chunks
    assert [s.chunks for s in used] == [math.ceil(len(batch[t]) / 4) for t in batch]
    facts = read_table(postgres_url, "fact_sales_weekly", "store_id, dept_id, week_date")
    expected = batch["stg_sales_weekly"].sort_values(["store_id", "dept_id", "week_date"])
    assert facts["weekly_sales"].tolist() == expected["weekly_sales"].tolist()  # exact doubles
    assert facts["is_holiday"].tolist() == expected["is_holiday"].tolist()
    features = read_table(postgres_url, "store_features_weekly", "store_id, week_date")
    pd.testing.assert_series_equal(
        features["markdown1"].astype("float64"),
        batch["stg_store_features_weekly"]["markdown1"].astype("float64"),
    )


@pytest.mark.postgres
def test_a_streamed_copy_failing_in_a_later_chunk_leaves_the_warehouse_intact(postgres_url):
    """Transactional as before: chunks already sent to the server are rolled back too."""
    ds = warehouse_dataset(postgres_url, copy_chunk_rows=4)
    ds.save(make_batch())
    before = whole_read(postgres_url)
    bad = make_batch(offset=5.0)
    sales = bad["stg_sales_weekly"].astype({"weekly_sales": object})
    sales.loc[len(sales) - 1, "weekly_sales"] = "not-a-number"  # the last chunk's last row
    bad["stg_sales_weekly"] = sales
    with pytest.raises(DatasetError, match="rolled back"):
        ds.save(bad)
    pd.testing.assert_frame_equal(whole_read(postgres_url), before)
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert warehouse.staging_counts(conn) == dict.fromkeys(warehouse.STAGING_COLUMNS, 0)
    engine.dispose()


def test_small_and_default_copy_chunks_give_the_same_view(warehouse_url, tmp_path):
    """On PostgreSQL the COPY's chunking is invisible; on DuckDB the argument is unused."""
    batch = make_batch()
    warehouse_dataset(warehouse_url, copy_chunk_rows=5).save(batch)
    small = whole_read(warehouse_url)
    warehouse_dataset(warehouse_url).save(make_batch(offset=1.0))  # all rows changed ...
    warehouse_dataset(warehouse_url, copy_chunk_rows=1).save(batch)  # ... and back
    pd.testing.assert_frame_equal(whole_read(warehouse_url), small)
    assert len(small) == len(batch["stg_sales_weekly"])


# --------------------------------------------------------------------------- chunked reads


@pytest.mark.parametrize("chunk_rows", [1, 5, 18, 1_000_000])
def test_chunked_read_equals_the_whole_read(warehouse_url, chunk_rows):
    warehouse_dataset(warehouse_url).save(make_batch())
    frame = ChunkedQueryDataset(
        sql=VIEW_SQL, credentials={"con": warehouse_url}, dtypes=VIEW_DTYPES, chunk_rows=chunk_rows
    ).load()
    expected = whole_read(warehouse_url)
    # chunks of 5 rows hold one or two store types each: the categories are still A, B, C
    pd.testing.assert_frame_equal(frame, expected)
    assert list(frame["store_type"].cat.categories) == ["A", "B", "C"]
    assert frame["store"].dtype == "int32" and frame["date"].dtype == "datetime64[ns]"
    assert frame["markdown2"].isna().all() and frame["markdown2"].dtype == "float64"


def test_the_compact_frame_splits_into_exactly_what_the_whole_read_did(warehouse_url):
    """split_chronologically casts back to the contract: same train/validation/test frames."""
    warehouse_dataset(warehouse_url).save(make_batch())
    compact = ChunkedQueryDataset(
        sql=VIEW_SQL, credentials={"con": warehouse_url}, dtypes=VIEW_DTYPES, chunk_rows=7
    ).load()
    plain = read_table(warehouse_url, "vw_sales_analytics", "store, dept, date")  # as before
    report = {"actual": {"vw_sales_analytics": len(plain)}}
    params = IngestionParams(validation_weeks=2, min_train_weeks=1)
    for got, want in zip(
        split_chronologically(compact, report, 2, params),
        split_chronologically(plain, report, 2, params),
        strict=True,
    ):
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        else:
            assert got == want


def test_an_empty_result_is_an_empty_frame(warehouse_url):
    warehouse_dataset(warehouse_url).save(make_batch())
    frame = ChunkedQueryDataset(
        sql="SELECT * FROM retailds.vw_sales_analytics WHERE store < 0",
        credentials={"con": warehouse_url},
        dtypes=VIEW_DTYPES,
        chunk_rows=4,
    ).load()
    assert frame.empty and list(frame.columns) == ANALYTICS_COLUMNS


def test_chunked_read_is_read_only_and_checks_its_arguments(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with pytest.raises(DatasetError, match="con"):
        ChunkedQueryDataset(sql=VIEW_SQL, credentials={})
    with pytest.raises(DatasetError, match="chunk_rows"):
        ChunkedQueryDataset(sql=VIEW_SQL, credentials={"con": url}, chunk_rows=0)
    with pytest.raises(DatasetError, match="read-only"):
        ChunkedQueryDataset(sql=VIEW_SQL, credentials={"con": url}).save(pd.DataFrame({"a": [1]}))


@pytest.mark.parametrize(
    "catalog",
    ["conf/base/catalog_03_primary.yml", "conf/local/catalog.yml", "conf/sagemaker/catalog.yml"],
)
def test_every_environment_reads_the_view_in_chunks_with_a_dtype_per_column(catalog):
    entry = yaml.safe_load((ROOT / catalog).read_text())["prm_sales_analytics"]
    assert entry["type"] == "retail_forecasting.warehouse.dataset.ChunkedQueryDataset"
    assert entry["dtypes"] == VIEW_DTYPES and list(entry["dtypes"]) == ANALYTICS_COLUMNS
    assert entry["chunk_rows"] >= 10_000
