"""Unit tests of the ingestion nodes on hand-made Kaggle-shaped frames."""

from __future__ import annotations

import pandas as pd
import pytest

from retail_forecasting.pipelines.ingestion import nodes
from retail_forecasting.pipelines.ingestion.nodes import IngestionParams, RawDataError

PARAMS = IngestionParams()
FRIDAYS = pd.date_range("2010-02-05", periods=6, freq="7D").strftime("%Y-%m-%d").tolist()


def raw_stores() -> pd.DataFrame:
    return pd.DataFrame({"Store": [1, 2], "Type": ["A", "C"], "Size": [150000, 40000]})


def raw_features() -> pd.DataFrame:
    rows = []
    for store in (1, 2):
        for i, date in enumerate(FRIDAYS):
            rows.append(
                {
                    "Store": store,
                    "Date": date,
                    "Temperature": 40.0 + i,
                    "Fuel_Price": 2.5,
                    "MarkDown1": None,
                    "MarkDown2": None,
                    "MarkDown3": None,
                    "MarkDown4": None,
                    "MarkDown5": None,
                    "CPI": 211.0,
                    "Unemployment": 8.1,
                    "IsHoliday": i == 1,
                }
            )
    return pd.DataFrame(rows)


def raw_train() -> pd.DataFrame:
    rows = []
    for store in (1, 2):
        for dept in (1, 5):
            for i, date in enumerate(FRIDAYS):
                rows.append(
                    {
                        "Store": store,
                        "Dept": dept,
                        "Date": date,
                        "Weekly_Sales": 100.0 * store + dept + i,
                        "IsHoliday": i == 1,
                    }
                )
    frame = pd.DataFrame(rows)
    frame.loc[3, "Weekly_Sales"] = -12.5
    return frame


def validated():
    stores = nodes.validate_stores(raw_stores(), PARAMS)
    features = nodes.validate_store_features(raw_features(), stores, PARAMS)
    sales = nodes.validate_sales(raw_train(), stores, features, PARAMS)
    return stores, features, sales


def test_valid_files_become_typed_snake_case_frames():
    stores, features, sales = validated()
    assert list(stores.columns) == ["store", "store_type", "store_size"]
    assert sales.dtypes["date"] == "datetime64[ns]"
    assert sales.dtypes["is_holiday"] == "bool"
    assert len(sales) == 24 and sales["is_holiday"].sum() == 4
    assert features["markdown1"].isna().all() and features["cpi"].eq(211.0).all()


def test_string_booleans_like_kaggle_csv_are_parsed():
    train = raw_train()
    train["IsHoliday"] = train["IsHoliday"].map({True: "TRUE", False: "FALSE"})
    stores, features, _ = validated()
    sales = nodes.validate_sales(train, stores, features, PARAMS)
    assert sales["is_holiday"].sum() == 4


def test_error_names_file_column_and_example_row():
    train = raw_train()
    train.attrs["source"] = {"path": "/data/train.csv"}
    train.loc[7, "Date"] = "2010-02-06"  # a Saturday
    stores, features, _ = validated()
    with pytest.raises(RawDataError) as info:
        nodes.validate_sales(train, stores, features, PARAMS)
    message = str(info.value)
    assert "/data/train.csv" in message and "'Date'" in message and "not Fridays" in message
    assert "line 9" in message and "2010-02-06" in message


@pytest.mark.parametrize(
    ("mutate", "column", "problem"),
    [
        (lambda f: f.drop(columns=["Weekly_Sales"]), "Weekly_Sales", "missing column"),
        (
            lambda f: f.assign(
                Weekly_Sales=f["Weekly_Sales"].astype(object).where(f.index != 2, "abc")
            ),
            "Weekly_Sales",
            "not numbers",
        ),
        (
            lambda f: f.assign(Date=f["Date"].where(f.index != 0, "05/02/2010")),
            "Date",
            "not YYYY-MM-DD",
        ),
        (
            lambda f: pd.concat([f, f.iloc[[4]]], ignore_index=True),
            "Store+Dept+Date",
            "duplicate key",
        ),
        (
            lambda f: f.assign(Store=f["Store"].where(f.index != 5, 9)),
            "Store",
            "missing from stores.csv",
        ),
        (
            lambda f: f.assign(IsHoliday=f["IsHoliday"].where(f.index != 0, True)),
            "IsHoliday",
            "disagree with features.csv",
        ),
        (
            lambda f: f.assign(
                IsHoliday=f["IsHoliday"].astype(object).where(f.index != 0, "maybe")
            ),
            "IsHoliday",
            "not TRUE/FALSE",
        ),
        (
            lambda f: f.assign(Dept=f["Dept"].astype(float).where(f.index != 0, 1.5)),
            "Dept",
            "not whole numbers",
        ),
    ],
)
def test_sales_validation_failures(mutate, column, problem):
    stores, features, _ = validated()
    with pytest.raises(RawDataError, match=problem) as info:
        nodes.validate_sales(mutate(raw_train()), stores, features, PARAMS)
    assert column in str(info.value)
    assert "train.csv" in str(info.value)


def test_stores_validation_failures():
    bad = raw_stores().assign(Type=["A", "Z"])
    with pytest.raises(RawDataError, match="'Type'.*not one of A, B, C"):
        nodes.validate_stores(bad, PARAMS)
    with pytest.raises(RawDataError, match="duplicate key"):
        nodes.validate_stores(
            pd.concat([raw_stores(), raw_stores().iloc[[0]]], ignore_index=True), PARAMS
        )


def test_features_with_unknown_store_fail():
    features = raw_features()
    features.loc[0, "Store"] = 3
    with pytest.raises(RawDataError, match="features.csv, column 'Store'"):
        nodes.validate_store_features(features, nodes.validate_stores(raw_stores(), PARAMS), PARAMS)


@pytest.mark.parametrize(
    ("strategy", "rows_out", "min_sales"),
    [("keep", 24, -12.5), ("clip", 24, 0.0), ("drop", 23, 101.0)],
)
def test_clean_sales_strategies_count_every_change(strategy, rows_out, min_sales):
    _, _, sales = validated()
    cleaned, report = nodes.clean_sales(sales, IngestionParams(negative_sales=strategy))
    assert len(cleaned) == rows_out == report["rows_out"]
    assert cleaned["weekly_sales"].min() == min_sales
    assert report["negative_sales_rows"] == 1
    assert report["rows_in"] - report["rows_dropped"] == report["rows_out"]
    assert sales["weekly_sales"].min() == -12.5, "the input frame must not be modified"


def test_unknown_strategy_is_rejected_by_the_parameter_model():
    with pytest.raises(ValueError, match="negative_sales"):
        IngestionParams(negative_sales="abs")


def test_manifest_records_fingerprint_rows_span_and_cleaning():
    train = raw_train()
    train.attrs["source"] = {
        "file": "train.csv",
        "path": "/x/train.csv",
        "kind": "real",
        "sha256": "ab" * 32,
        "bytes": 10,
    }
    _, _, sales = validated()
    _, report = nodes.clean_sales(sales, IngestionParams())
    manifest = nodes.build_input_manifest(train, raw_features(), raw_stores(), report)
    entry = manifest["inputs"]["train"]
    assert entry["sha256"] == "ab" * 32 and entry["rows"] == 24
    assert (entry["date_min"], entry["date_max"], entry["weeks"]) == ("2010-02-05", "2010-03-12", 6)
    assert manifest["cleaning"]["negative_sales_rows"] == 1
    assert manifest["source"] == "mixed"  # the other two frames carry no provenance


def test_manifest_dates_are_those_of_every_row_parsed():
    """The manifest parses each distinct date string once; the span and the number of weeks are
    those of parsing every row (a repeated date counts once, an unparseable one not at all)."""
    train = raw_train()
    dates = ["2010-02-12", "2010-02-05", "not a date", "2010-02-12"] * (len(train) // 4)
    train["Date"] = dates
    entry = nodes.build_input_manifest(train, raw_features(), raw_stores(), {})["inputs"]["train"]
    every_row = pd.to_datetime(pd.Series(dates).astype("string"), errors="coerce")
    assert (
        (entry["date_min"], entry["date_max"], entry["weeks"])
        == (
            str(every_row.min().date()),
            str(every_row.max().date()),
            int(every_row.nunique()),
        )
        == ("2010-02-05", "2010-02-12", 2)
    )


def test_verify_warehouse_load_detects_count_mismatch():
    stores, features, sales = validated()
    counts = {
        "dim_store": 2,
        "dim_dept": 2,
        "store_features_weekly": 12,
        "fact_sales_weekly": 24,
        "vw_sales_analytics": 24,
    }
    assert nodes.verify_warehouse_load(counts, stores, features, sales)["status"] == "ok"
    with pytest.raises(RuntimeError, match="fact_sales_weekly"):
        nodes.verify_warehouse_load({**counts, "fact_sales_weekly": 30}, stores, features, sales)
    # dimensions keep members of earlier batches: more is fine, fewer is not
    assert nodes.verify_warehouse_load({**counts, "dim_store": 5}, stores, features, sales)
    with pytest.raises(RuntimeError, match="dim_dept"):
        nodes.verify_warehouse_load({**counts, "dim_dept": 1}, stores, features, sales)


def analytics_frame(weeks: int) -> pd.DataFrame:
    dates = pd.date_range("2010-02-05", periods=weeks, freq="7D")
    frame = pd.DataFrame(
        {
            "store": 1,
            "dept": 1,
            "date": dates,
            "weekly_sales": 1.0,
            "is_holiday": False,
            "store_type": "A",
            "store_size": 100,
        }
    )
    for column in nodes.ANALYTICS_COLUMNS[7:]:
        frame[column] = float("nan")
    return frame.sample(frac=1.0, random_state=0)  # the split must not rely on input order


def test_split_is_chronological_and_sized_by_parameters():
    frame = analytics_frame(20)
    report = {"actual": {"vw_sales_analytics": 20}}
    params = IngestionParams(validation_weeks=5, min_train_weeks=3)
    train, validation, test, summary = nodes.split_chronologically(frame, report, 4, params)
    assert (len(train), len(validation), len(test)) == (11, 5, 4)
    assert train["date"].max() < validation["date"].min()
    assert validation["date"].max() < test["date"].min()
    assert summary["test"]["start"] == "2010-05-28" and summary["test"]["end"] == "2010-06-18"
    assert train["date"].is_monotonic_increasing


def test_split_refuses_short_history_and_row_count_mismatch():
    params = IngestionParams(validation_weeks=5, min_train_weeks=10)
    with pytest.raises(ValueError, match="need 19"):
        nodes.split_chronologically(
            analytics_frame(12), {"actual": {"vw_sales_analytics": 12}}, 4, params
        )
    with pytest.raises(RuntimeError, match="returned 12 rows"):
        nodes.split_chronologically(
            analytics_frame(12), {"actual": {"vw_sales_analytics": 13}}, 4, params
        )
