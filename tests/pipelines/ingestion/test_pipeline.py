"""Slices of the ingestion pipeline on an in-memory catalog (the warehouse replaced by its
frames: the warehouse itself is tested in tests/test_warehouse.py and the session tests)."""

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from retail_forecasting.pipelines.ingestion import create_pipeline, nodes
from retail_forecasting.pipelines.ingestion.nodes import IngestionParams
from retail_forecasting.synthetic import SyntheticConfig, generate


def test_the_manifest_is_built_only_after_the_load_is_verified():
    pipeline = create_pipeline()
    upstream = {n.name for n in pipeline.to_nodes("build_input_manifest").nodes}
    assert {"load_warehouse", "verify_warehouse_load"} <= upstream


def test_validation_cleaning_and_manifest_slice():
    frames = generate(SyntheticConfig(seed=3, n_stores=3, n_depts=5))
    pipeline = create_pipeline().to_nodes("load_warehouse")
    assert {n.name for n in pipeline.nodes} == {
        "validate_stores",
        "validate_store_features",
        "validate_sales",
        "clean_sales",
        "load_warehouse",
    }
    catalog = DataCatalog(
        {
            "raw_train": MemoryDataset(frames["train"]),
            "raw_features": MemoryDataset(frames["features"]),
            "raw_stores": MemoryDataset(frames["stores"]),
            "params:ingestion": MemoryDataset(IngestionParams(negative_sales="drop")),
        }
    )
    outputs = SequentialRunner().run(pipeline, catalog)
    loaded = outputs["warehouse"].load()
    assert loaded.policy.mode == "mirror" and not loaded.policy.allow_shrink
    batch = loaded.tables
    manifest = nodes.build_input_manifest(
        frames["train"],
        frames["features"],
        frames["stores"],
        outputs["int_cleaning_report"].load(),
        {"status": "ok"},
    )
    assert manifest["warehouse_load"] == {"status": "ok"}
    negatives = int((frames["train"]["Weekly_Sales"] < 0).sum())
    assert negatives > 0
    assert manifest["cleaning"]["rows_dropped"] == negatives
    assert len(batch["stg_sales_weekly"]) == len(frames["train"]) - negatives
    assert batch["stg_sales_weekly"]["weekly_sales"].min() >= 0
    assert len(batch["stg_store"]) == 3
    assert manifest["inputs"]["train"]["rows"] == len(frames["train"])
    assert manifest["inputs"]["train"]["weeks"] == 143


def test_split_slice_from_the_view():
    weeks = pd.date_range("2010-02-05", periods=143, freq="7D")
    view = pd.DataFrame(
        {
            "store": 1,
            "dept": 1,
            "date": weeks,
            "weekly_sales": 1.0,
            "is_holiday": False,
            "store_type": "A",
            "store_size": 1000,
        }
    )
    for column in [
        "temperature",
        "fuel_price",
        "markdown1",
        "markdown2",
        "markdown3",
        "markdown4",
        "markdown5",
        "cpi",
        "unemployment",
    ]:
        view[column] = 0.0
    pipeline = create_pipeline().from_nodes("split_chronologically")
    catalog = DataCatalog(
        {
            "prm_sales_analytics": MemoryDataset(view),
            "prm_warehouse_load_report": MemoryDataset({"actual": {"vw_sales_analytics": 143}}),
            "params:horizon_weeks": MemoryDataset(39),
            "params:ingestion": MemoryDataset(IngestionParams()),
        }
    )
    outputs = SequentialRunner().run(pipeline, catalog)
    sizes = [len(outputs[name].load()) for name in ("prm_train", "prm_validation", "prm_test")]
    assert sizes == [65, 39, 39]
    assert outputs["prm_split_summary"].load()["test"]["start"] == "2012-02-03"
