"""``stores.csv``, ``features.csv`` and ``train.csv`` validated into the panel's names and dtypes.

The ingestion pipeline's first three nodes (``validate_stores``, ``validate_store_features``,
``validate_sales`` in :mod:`retail_forecasting.pipelines.ingestion.nodes`) are thin wrappers that
pass these the ``plausibility`` bounds of the ingestion parameters (``ingestion.plausibility``);
the Glue job, the ETL Lambdas (:mod:`retail_forecasting.aws.etl`) and the benchmarks run those
nodes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from retail_forecasting.kaggle.checks import (
    Bounds,
    as_bool,
    as_friday,
    as_number,
    examples,
    fail,
    file_name,
    no_duplicates,
    not_empty,
    plausible,
    plausible_for_department,
    require_columns,
    required_not_null,
)
from retail_forecasting.kaggle.schema import COVARIATE_COLUMNS

logger = logging.getLogger(__name__)

__all__ = ["Bounds", "validate_sales", "validate_store_features", "validate_stores"]


def validate_stores(raw_stores: pd.DataFrame, plausibility: Mapping[str, Bounds]) -> pd.DataFrame:
    """Validate ``stores.csv`` and return the store dimension (store, store_type, store_size)."""
    file = file_name(raw_stores, "stores.csv")
    keys = ["Store"]
    require_columns(raw_stores, file, ["Store", "Type", "Size"])
    not_empty(raw_stores, file)
    required_not_null(raw_stores, file, ["Store", "Type", "Size"], keys)
    stores = pd.DataFrame(
        {
            "store": as_number(raw_stores, file, "Store", keys, integer=True),
            "store_type": raw_stores["Type"].astype("string").str.strip().astype(str),
            "store_size": as_number(raw_stores, file, "Size", keys, integer=True),
        }
    )
    bad_type = ~stores["store_type"].isin(["A", "B", "C"])
    if bad_type.any():
        fail(file, "Type", "are not one of A, B, C", raw_stores, bad_type, keys + ["Type"])
    bad_size = stores["store_size"] <= 0
    if bad_size.any():
        fail(file, "Size", "are not positive", raw_stores, bad_size, keys + ["Size"])
    plausible(raw_stores, file, "Size", stores["store_size"], plausibility, keys)
    no_duplicates(raw_stores, file, keys)
    logger.info("stores.csv valid: %d stores", len(stores))
    return stores.sort_values("store", ignore_index=True)


def validate_store_features(
    raw_features: pd.DataFrame, int_stores: pd.DataFrame, plausibility: Mapping[str, Bounds]
) -> pd.DataFrame:
    """Validate ``features.csv`` (store-week covariates) against the store dimension."""
    file = file_name(raw_features, "features.csv")
    keys = ["Store", "Date"]
    require_columns(raw_features, file, keys + COVARIATE_COLUMNS + ["IsHoliday"])
    not_empty(raw_features, file)
    required_not_null(raw_features, file, keys + ["IsHoliday"], keys)
    features = pd.DataFrame(
        {
            "store": as_number(raw_features, file, "Store", keys, integer=True),
            "date": as_friday(raw_features, file, keys),
        }
    )
    for column in COVARIATE_COLUMNS:
        features[column.lower()] = as_number(raw_features, file, column, keys)
        plausible(raw_features, file, column, features[column.lower()], plausibility, keys)
    features["is_holiday"] = as_bool(raw_features, file, "IsHoliday", keys)
    no_duplicates(raw_features, file, keys)
    unknown = ~features["store"].isin(int_stores["store"])
    if unknown.any():
        fail(file, "Store", "name stores missing from stores.csv", raw_features, unknown, keys)
    logger.info("features.csv valid: %d store-weeks", len(features))
    return features.sort_values(["store", "date"], ignore_index=True)


def validate_sales(
    raw_train: pd.DataFrame,
    int_stores: pd.DataFrame,
    int_store_features: pd.DataFrame,
    plausibility: Mapping[str, Bounds],
) -> pd.DataFrame:
    """Validate ``train.csv`` and its consistency with stores and features.

    Checks columns and types, at least one row, finite and plausible sales
    (``plausibility``, the ingestion parameters' bounds), Friday dates, duplicate (Store, Dept,
    Date) keys, stores missing
    from ``stores.csv`` and ``IsHoliday`` agreeing with ``features.csv`` for the same store-week.
    """
    file = file_name(raw_train, "train.csv")
    keys = ["Store", "Dept", "Date"]
    require_columns(raw_train, file, keys + ["Weekly_Sales", "IsHoliday"])
    not_empty(raw_train, file)
    required_not_null(raw_train, file, keys + ["Weekly_Sales", "IsHoliday"], keys)
    sales = pd.DataFrame(
        {
            "store": as_number(raw_train, file, "Store", keys, integer=True),
            "dept": as_number(raw_train, file, "Dept", keys, integer=True),
            "date": as_friday(raw_train, file, keys),
            "weekly_sales": as_number(raw_train, file, "Weekly_Sales", keys),
            "is_holiday": as_bool(raw_train, file, "IsHoliday", keys),
        }
    )
    bad_dept = sales["dept"] <= 0
    if bad_dept.any():
        fail(file, "Dept", "are not positive department ids", raw_train, bad_dept, keys)
    plausible(raw_train, file, "Weekly_Sales", sales["weekly_sales"], plausibility, keys)
    plausible_for_department(raw_train, file, sales, plausibility.get("Weekly_Sales"), keys)
    no_duplicates(raw_train, file, keys)
    unknown = ~sales["store"].isin(int_stores["store"])
    if unknown.any():
        fail(file, "Store", "name stores missing from stores.csv", raw_train, unknown, keys)

    flags = int_store_features[["store", "date", "is_holiday"]].rename(
        columns={"is_holiday": "features_is_holiday"}
    )
    joined = sales.merge(flags, on=["store", "date"], how="left", validate="many_to_one")
    uncovered = joined["features_is_holiday"].isna()
    if uncovered.any():
        logger.warning(
            "%s: %d sales rows have no store-week in features.csv (covariates will be empty), "
            "e.g. %s",
            file,
            int(uncovered.sum()),
            examples(raw_train, uncovered.to_numpy(), keys),
        )
    conflict = ~uncovered & (joined["features_is_holiday"] != joined["is_holiday"])
    if conflict.any():
        fail(
            file,
            "IsHoliday",
            "disagree with features.csv for the same Store and Date",
            raw_train,
            conflict.to_numpy(),
            keys + ["IsHoliday"],
        )
    logger.info(
        "train.csv valid: %d rows, %d series, %s .. %s",
        len(sales),
        sales.groupby(["store", "dept"]).ngroups,
        sales["date"].min().date(),
        sales["date"].max().date(),
    )
    return sales.sort_values(["store", "dept", "date"], ignore_index=True)
