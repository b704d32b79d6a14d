"""Ingestion nodes: validate the raw Kaggle files, clean, fingerprint, load the warehouse,
check the load and split the analytics view chronologically.

Pure functions: frames and parameters in, frames and dicts out. The warehouse I/O happens in
the ``warehouse`` dataset (``retail_forecasting.datasets.WarehouseDataset``); the view is read
back with kedro-datasets' ``pandas.SQLQueryDataset``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.errors import RawDataError
from retail_forecasting.warehouse import STAGING_COLUMNS, LoadPolicy, WarehouseBatch

logger = logging.getLogger(__name__)

MAX_EXAMPLES = 5

__all__ = ["RawDataError", "IngestionParams"]  # RawDataError lives in retail_forecasting.errors


class Bounds(BaseModel):
    """Plausible range of one numeric column; values outside it are refused."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    #: Weekly_Sales only: refuse |value| above this multiple of the department's 99th
    #: percentile of |sales| in the batch (at least ``dept_ratio_floor``).
    max_dept_ratio: float | None = Field(None, gt=0)
    dept_ratio_floor: float = Field(10_000.0, ge=0)


def _default_bounds() -> dict[str, Bounds]:
    markdown = Bounds(min=-1e7, max=1e8)
    return {
        "Weekly_Sales": Bounds(min=-1e7, max=1e8, max_dept_ratio=100),
        "Size": Bounds(min=1, max=1e7),
        "Temperature": Bounds(min=-80, max=150),
        "Fuel_Price": Bounds(min=0, max=50),
        "CPI": Bounds(min=0, max=10_000),
        "Unemployment": Bounds(min=0, max=100),
        **{f"MarkDown{i}": markdown for i in range(1, 6)},
    }


class IngestionParams(BaseModel):
    """``ingestion`` parameters (``conf/base/parameters_ingestion.yml``)."""

    model_config = ConfigDict(extra="forbid")

    negative_sales: Literal["keep", "clip", "drop"] = "keep"
    validation_weeks: int = Field(39, ge=1)
    min_train_weeks: int = Field(52, ge=1)
    #: how a batch changes the warehouse; pydantic validates the dataclass's own fields
    load: LoadPolicy = Field(default_factory=LoadPolicy)
    plausibility: dict[str, Bounds] = Field(default_factory=_default_bounds)


# --------------------------------------------------------------------------- helpers


def _file_name(frame: pd.DataFrame, default: str) -> str:
    source = frame.attrs.get("source") or {}
    return source.get("path") or default


def _examples(frame: pd.DataFrame, mask: pd.Series, columns: list[str]) -> str:
    """Describe up to MAX_EXAMPLES offending rows with their CSV line numbers."""
    columns = list(dict.fromkeys(c for c in columns if c in frame.columns))
    rows = frame.loc[mask, columns].head(MAX_EXAMPLES)
    lines = []
    for index, row in rows.iterrows():
        values = ", ".join(f"{col}={row[col]!r}" for col in rows.columns)
        lines.append(f"line {int(index) + 2}: {values}")  # +1 header, +1 one-based
    return "; ".join(lines)


def _fail(file: str, column: str, problem: str, frame: pd.DataFrame, mask: pd.Series,
          columns: list[str]) -> None:
    count = int(mask.sum())
    raise RawDataError(
        f"{file}, column {column!r}: {count} row(s) {problem}. "
        f"Examples: {_examples(frame, mask, columns)}"
    )


def _require_columns(frame: pd.DataFrame, file: str, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RawDataError(
            f"{file}: missing column(s) {missing}; found {list(frame.columns)}. "
            f"Expected the Kaggle schema {required}."
        )


def _required_not_null(frame: pd.DataFrame, file: str, columns: list[str], keys: list[str]) -> None:
    for column in columns:
        mask = frame[column].isna()
        if mask.any():
            _fail(file, column, "are empty", frame, mask, keys + [column])


def _as_number(frame: pd.DataFrame, file: str, column: str, keys: list[str],
               integer: bool = False) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        _fail(file, column, "are not numbers", frame, bad, keys + [column])
    infinite = pd.Series(np.isinf(values.to_numpy(dtype="float64")), index=frame.index)
    if infinite.any():
        _fail(file, column, "are not finite (inf)", frame, infinite, keys + [column])
    if integer:
        fractional = values.notna() & (values != values.round())
        if fractional.any():
            _fail(file, column, "are not whole numbers", frame, fractional, keys + [column])
        return values.astype("int64")
    return values.astype("float64")


def _as_friday(frame: pd.DataFrame, file: str, keys: list[str]) -> pd.Series:
    dates = pd.to_datetime(frame["Date"].astype("string"), format="%Y-%m-%d", errors="coerce")
    bad = dates.isna()
    if bad.any():
        _fail(file, "Date", "are not YYYY-MM-DD dates", frame, bad, keys)
    not_friday = dates.dt.dayofweek != 4
    if not_friday.any():
        _fail(file, "Date", "are not Fridays (weeks end on Friday)", frame, not_friday, keys)
    return dates.astype("datetime64[ns]")


def _as_bool(frame: pd.DataFrame, file: str, column: str, keys: list[str]) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(bool)
    mapped = raw.astype("string").str.strip().str.upper().map({"TRUE": True, "FALSE": False})
    bad = mapped.isna()
    if bad.any():
        _fail(file, column, "are not TRUE/FALSE", frame, bad, keys + [column])
    return mapped.astype(bool)


def _no_duplicates(frame: pd.DataFrame, file: str, keys: list[str]) -> None:
    duplicated = frame.duplicated(subset=keys, keep=False)
    if duplicated.any():
        _fail(file, "+".join(keys), "share a duplicate key", frame, duplicated, keys)


def _not_empty(frame: pd.DataFrame, file: str) -> None:
    if frame.empty:
        raise RawDataError(
            f"{file}: the file has a header ({', '.join(map(str, frame.columns))}) but no data "
            "rows. Nothing was loaded and the warehouse keeps its data; check the file was "
            "exported or copied whole."
        )


def _plausible(frame: pd.DataFrame, file: str, column: str, values: pd.Series,
               bounds: dict[str, Bounds], keys: list[str]) -> None:
    """Refuse values outside ``bounds[column]`` (``ingestion.plausibility``)."""
    rule = bounds.get(column)
    if rule is None:
        return
    hint = f"(ingestion.plausibility.{column} in conf/base/parameters_ingestion.yml)"
    if rule.min is not None:
        low = values < rule.min
        if low.any():
            _fail(file, column, f"are below the plausible minimum {rule.min:g} {hint}",
                  frame, low, keys + [column])
    if rule.max is not None:
        high = values > rule.max
        if high.any():
            _fail(file, column, f"are above the plausible maximum {rule.max:g} {hint}",
                  frame, high, keys + [column])


def _plausible_for_department(frame: pd.DataFrame, file: str, sales: pd.DataFrame,
                              rule: Bounds | None, keys: list[str]) -> None:
    """Refuse sales far beyond the rest of their department (a robust, batch-relative cap)."""
    if rule is None or rule.max_dept_ratio is None:
        return
    size = sales["weekly_sales"].abs()
    reference = sales["dept"].map(size.groupby(sales["dept"]).quantile(0.99))
    limit = rule.max_dept_ratio * reference.clip(lower=rule.dept_ratio_floor)
    outlier = size > limit
    if outlier.any():
        _fail(file, "Weekly_Sales",
              f"are more than {rule.max_dept_ratio:g}x the 99th percentile of their department "
              "(ingestion.plausibility.Weekly_Sales.max_dept_ratio)", frame, outlier,
              keys + ["Weekly_Sales"])


# --------------------------------------------------------------------------- validation


def validate_stores(raw_stores: pd.DataFrame, params: IngestionParams) -> pd.DataFrame:
    """Validate ``stores.csv`` and return the store dimension (store, store_type, store_size)."""
    file = _file_name(raw_stores, "stores.csv")
    keys = ["Store"]
    _require_columns(raw_stores, file, ["Store", "Type", "Size"])
    _not_empty(raw_stores, file)
    _required_not_null(raw_stores, file, ["Store", "Type", "Size"], keys)
    stores = pd.DataFrame(
        {
            "store": _as_number(raw_stores, file, "Store", keys, integer=True),
            "store_type": raw_stores["Type"].astype("string").str.strip().astype(str),
            "store_size": _as_number(raw_stores, file, "Size", keys, integer=True),
        }
    )
    bad_type = ~stores["store_type"].isin(["A", "B", "C"])
    if bad_type.any():
        _fail(file, "Type", "are not one of A, B, C", raw_stores, bad_type, keys + ["Type"])
    bad_size = stores["store_size"] <= 0
    if bad_size.any():
        _fail(file, "Size", "are not positive", raw_stores, bad_size, keys + ["Size"])
    _plausible(raw_stores, file, "Size", stores["store_size"], params.plausibility, keys)
    _no_duplicates(raw_stores, file, keys)
    logger.info("stores.csv valid: %d stores", len(stores))
    return stores.sort_values("store", ignore_index=True)


FEATURE_COLUMNS = [
    "Temperature", "Fuel_Price", "MarkDown1", "MarkDown2", "MarkDown3", "MarkDown4",
    "MarkDown5", "CPI", "Unemployment",
]


def validate_store_features(
    raw_features: pd.DataFrame, int_stores: pd.DataFrame, params: IngestionParams
) -> pd.DataFrame:
    """Validate ``features.csv`` (store-week covariates) against the store dimension."""
    file = _file_name(raw_features, "features.csv")
    keys = ["Store", "Date"]
    _require_columns(raw_features, file, keys + FEATURE_COLUMNS + ["IsHoliday"])
    _not_empty(raw_features, file)
    _required_not_null(raw_features, file, keys + ["IsHoliday"], keys)
    features = pd.DataFrame(
        {
            "store": _as_number(raw_features, file, "Store", keys, integer=True),
            "date": _as_friday(raw_features, file, keys),
        }
    )
    for column in FEATURE_COLUMNS:
        features[column.lower()] = _as_number(raw_features, file, column, keys)
        _plausible(raw_features, file, column, features[column.lower()], params.plausibility, keys)
    features["is_holiday"] = _as_bool(raw_features, file, "IsHoliday", keys)
    _no_duplicates(raw_features, file, keys)
    unknown = ~features["store"].isin(int_stores["store"])
    if unknown.any():
        _fail(file, "Store", "name stores missing from stores.csv", raw_features, unknown, keys)
    logger.info("features.csv valid: %d store-weeks", len(features))
    return features.sort_values(["store", "date"], ignore_index=True)



def validate_sales(
    raw_train: pd.DataFrame,
    int_stores: pd.DataFrame,
    int_store_features: pd.DataFrame,
    params: IngestionParams,
) -> pd.DataFrame:
    """Validate ``train.csv`` and its consistency with stores and features.

    Checks columns and types, at least one row, finite and plausible sales
    (``params.plausibility``), Friday dates, duplicate (Store, Dept, Date) keys, stores missing
    from ``stores.csv`` and ``IsHoliday`` agreeing with ``features.csv`` for the same store-week.
    """
    file = _file_name(raw_train, "train.csv")
    keys = ["Store", "Dept", "Date"]
    _require_columns(raw_train, file, keys + ["Weekly_Sales", "IsHoliday"])
    _not_empty(raw_train, file)
    _required_not_null(raw_train, file, keys + ["Weekly_Sales", "IsHoliday"], keys)
    sales = pd.DataFrame(
        {
            "store": _as_number(raw_train, file, "Store", keys, integer=True),
            "dept": _as_number(raw_train, file, "Dept", keys, integer=True),
            "date": _as_friday(raw_train, file, keys),
            "weekly_sales": _as_number(raw_train, file, "Weekly_Sales", keys),
            "is_holiday": _as_bool(raw_train, file, "IsHoliday", keys),
        }
    )
    bad_dept = sales["dept"] <= 0
    if bad_dept.any():
        _fail(file, "Dept", "are not positive department ids", raw_train, bad_dept, keys)
    _plausible(raw_train, file, "Weekly_Sales", sales["weekly_sales"], params.plausibility, keys)
    _plausible_for_department(raw_train, file, sales, params.plausibility.get("Weekly_Sales"), keys)
    _no_duplicates(raw_train, file, keys)
    unknown = ~sales["store"].isin(int_stores["store"])
    if unknown.any():
        _fail(file, "Store", "name stores missing from stores.csv", raw_train, unknown, keys)

    flags = int_store_features[["store", "date", "is_holiday"]].rename(
        columns={"is_holiday": "features_is_holiday"}
    )
    joined = sales.merge(flags, on=["store", "date"], how="left", validate="many_to_one")
    uncovered = joined["features_is_holiday"].isna()
    if uncovered.any():
        logger.warning(
            "%s: %d sales rows have no store-week in features.csv (covariates will be empty), "
            "e.g. %s", file, int(uncovered.sum()), _examples(raw_train, uncovered.to_numpy(), keys)
        )
    conflict = ~uncovered & (joined["features_is_holiday"] != joined["is_holiday"])
    if conflict.any():
        _fail(
            file, "IsHoliday", "disagree with features.csv for the same Store and Date",
            raw_train, conflict.to_numpy(), keys + ["IsHoliday"],
        )
    logger.info(
        "train.csv valid: %d rows, %d series, %s .. %s",
        len(sales),
        sales.groupby(["store", "dept"]).ngroups,
        sales["date"].min().date(),
        sales["date"].max().date(),
    )
    return sales.sort_values(["store", "dept", "date"], ignore_index=True)


# --------------------------------------------------------------------------- cleaning


def clean_sales(int_sales: pd.DataFrame, params: IngestionParams) -> tuple[pd.DataFrame, dict]:
    """Apply the negative-sales strategy and count what changed.

    ``keep`` leaves returns as they are (the Kaggle metric scores them), ``clip`` sets them to 0,
    ``drop`` removes those rows. Nothing else is removed; every change is counted in the report.
    """
    negative = int_sales["weekly_sales"] < 0
    report: dict[str, Any] = {
        "rows_in": int(len(int_sales)),
        "negative_sales_rows": int(negative.sum()),
        "negative_sales_total": float(int_sales.loc[negative, "weekly_sales"].sum()),
        "negative_sales_strategy": params.negative_sales,
        "rows_clipped": 0,
        "rows_dropped": 0,
    }
    cleaned = int_sales.copy()
    if params.negative_sales == "clip":
        cleaned.loc[negative, "weekly_sales"] = 0.0
        report["rows_clipped"] = int(negative.sum())
    elif params.negative_sales == "drop":
        cleaned = cleaned.loc[~negative].reset_index(drop=True)
        report["rows_dropped"] = int(negative.sum())
    report["rows_out"] = int(len(cleaned))
    logger.info(
        "Cleaning: %d negative-sales rows (%s): %d clipped, %d dropped; %d -> %d rows",
        report["negative_sales_rows"], params.negative_sales, report["rows_clipped"],
        report["rows_dropped"], report["rows_in"], report["rows_out"],
    )
    return cleaned, report


# --------------------------------------------------------------------------- manifest


def _describe_input(frame: pd.DataFrame, default_file: str) -> dict[str, Any]:
    source = dict(frame.attrs.get("source") or {"file": default_file})
    entry: dict[str, Any] = {
        "file": source.get("file", default_file),
        "path": source.get("path"),
        "kind": source.get("kind"),
        "sha256": source.get("sha256"),
        "bytes": source.get("bytes"),
        "rows": int(len(frame)),
        "columns": list(map(str, frame.columns)),
    }
    if "Date" in frame.columns:
        dates = pd.to_datetime(frame["Date"].astype("string"), errors="coerce")
        entry["date_min"] = None if dates.isna().all() else str(dates.min().date())
        entry["date_max"] = None if dates.isna().all() else str(dates.max().date())
        entry["weeks"] = int(dates.nunique())
    return entry


def build_input_manifest(
    raw_train: pd.DataFrame,
    raw_features: pd.DataFrame,
    raw_stores: pd.DataFrame,
    cleaning_report: dict,
    warehouse_load_report: dict | None = None,
) -> dict[str, Any]:
    """Fingerprint every raw input (sha256, rows, date span) plus the cleaning counts.

    In the pipeline it takes the post-load report, so it runs (and the manifest is written)
    only once the batch is committed and verified: a manifest never describes a batch that did
    not load. The AWS Glue job writes it before its upsert step and passes no report.
    """
    inputs = {
        "train": _describe_input(raw_train, "train.csv"),
        "features": _describe_input(raw_features, "features.csv"),
        "stores": _describe_input(raw_stores, "stores.csv"),
    }
    kinds = {entry["kind"] for entry in inputs.values()}
    manifest = {
        "source": kinds.pop() if len(kinds) == 1 else "mixed",
        "inputs": inputs,
        "cleaning": cleaning_report,
    }
    if warehouse_load_report is not None:
        manifest["warehouse_load"] = warehouse_load_report
    logger.info(
        "Input manifest: %s",
        ", ".join(f"{k} sha256={(v['sha256'] or '?')[:12]} rows={v['rows']}" for k, v in inputs.items()),
    )
    return manifest


# --------------------------------------------------------------------------- warehouse


def prepare_warehouse_batch(
    int_stores: pd.DataFrame,
    int_store_features: pd.DataFrame,
    int_sales_clean: pd.DataFrame,
    params: IngestionParams | None = None,
) -> WarehouseBatch:
    """Shape the validated frames into the warehouse's staging tables, with the load policy
    (``params.load``: mirror or incremental, shrink guard)."""
    renames = {"store": "store_id", "dept": "dept_id", "date": "week_date"}
    batch = {
        "stg_store": int_stores.rename(columns=renames),
        "stg_store_features_weekly": int_store_features.rename(columns=renames),
        "stg_sales_weekly": int_sales_clean.rename(columns=renames),
    }
    tables = {table: batch[table][columns] for table, columns in STAGING_COLUMNS.items()}
    return WarehouseBatch(tables, (params or IngestionParams()).load)


def verify_warehouse_load(
    warehouse_counts: dict[str, int],
    int_stores: pd.DataFrame,
    int_store_features: pd.DataFrame,
    int_sales_clean: pd.DataFrame,
    params: IngestionParams | None = None,
) -> dict[str, Any]:
    """Post-load validation: facts, store-weeks and the view hold exactly the batch (mirror
    load), or at least the batch (incremental load), and the view has one row per fact.

    Dimensions keep members of earlier batches (they are never deleted), so they must hold at
    least the batch's stores and departments.
    """
    mode = (params or IngestionParams()).load.mode
    expected = {
        "dim_store": int(len(int_stores)),
        "dim_dept": int(int_sales_clean["dept"].nunique()),
        "store_features_weekly": int(len(int_store_features)),
        "fact_sales_weekly": int(len(int_sales_clean)),
        "vw_sales_analytics": int(len(int_sales_clean)),
    }
    at_least = {"dim_store", "dim_dept"}
    if mode == "incremental":
        at_least |= {"store_features_weekly", "fact_sales_weekly", "vw_sales_analytics"}
    actual = {name: int(warehouse_counts.get(name, -1)) for name in expected}

    mismatches = {
        name: (expected[name], actual[name])
        for name in expected
        if (actual[name] < expected[name] if name in at_least else actual[name] != expected[name])
    }
    if mismatches:
        raise RuntimeError(
            "Post-load validation failed: warehouse row counts differ from the batch "
            f"(table: (expected, found)) {mismatches}"
        )
    if actual["vw_sales_analytics"] != actual["fact_sales_weekly"]:
        raise RuntimeError(
            f"Post-load validation failed: vw_sales_analytics has {actual['vw_sales_analytics']} "
            f"rows for {actual['fact_sales_weekly']} facts"
        )
    logger.info("Post-load validation passed (%s load): %s", mode, actual)
    return {"mode": mode, "expected": expected, "actual": actual, "status": "ok"}


# --------------------------------------------------------------------------- split


ANALYTICS_COLUMNS = [
    "store", "dept", "date", "weekly_sales", "is_holiday", "store_type", "store_size",
    "temperature", "fuel_price", "markdown1", "markdown2", "markdown3", "markdown4", "markdown5",
    "cpi", "unemployment",
]


def split_chronologically(
    prm_sales_analytics: pd.DataFrame,
    warehouse_load_report: dict,
    horizon_weeks: int,
    params: IngestionParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split the analytics view by date: train | validation | test, no shuffling.

    The test window is the last ``horizon_weeks`` weeks of the sales history, the validation
    window the ``params.validation_weeks`` weeks before it, train everything earlier.
    """
    expected_rows = warehouse_load_report["actual"]["vw_sales_analytics"]
    if len(prm_sales_analytics) != expected_rows:
        raise RuntimeError(
            f"vw_sales_analytics returned {len(prm_sales_analytics)} rows, "
            f"the load reported {expected_rows}"
        )
    missing = [c for c in ANALYTICS_COLUMNS if c not in prm_sales_analytics.columns]
    if missing:
        raise RuntimeError(f"vw_sales_analytics lacks column(s) {missing}")
    frame = prm_sales_analytics[ANALYTICS_COLUMNS].copy()
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["store"] = frame["store"].astype("int64")
    frame["dept"] = frame["dept"].astype("int64")
    frame["store_size"] = frame["store_size"].astype("int64")
    frame["is_holiday"] = frame["is_holiday"].astype(bool)
    frame["store_type"] = frame["store_type"].astype(str)
    numeric = ANALYTICS_COLUMNS[7:] + ["weekly_sales"]
    frame[numeric] = frame[numeric].astype("float64")
    frame = frame.sort_values(["store", "dept", "date"], ignore_index=True)

    weeks = pd.Series(frame["date"].unique()).sort_values(ignore_index=True)
    needed = horizon_weeks + params.validation_weeks + params.min_train_weeks
    if len(weeks) < needed:
        raise ValueError(
            f"The sales history has {len(weeks)} weeks; horizon_weeks={horizon_weeks} + "
            f"validation_weeks={params.validation_weeks} + min_train_weeks="
            f"{params.min_train_weeks} need {needed}"
        )
    test_start = weeks.iloc[-horizon_weeks]
    validation_start = weeks.iloc[-horizon_weeks - params.validation_weeks]
    train = frame[frame["date"] < validation_start].reset_index(drop=True)
    validation = frame[(frame["date"] >= validation_start) & (frame["date"] < test_start)]
    test = frame[frame["date"] >= test_start].reset_index(drop=True)
    validation = validation.reset_index(drop=True)

    def span(part: pd.DataFrame) -> dict[str, Any]:
        return {
            "rows": int(len(part)),
            "weeks": int(part["date"].nunique()),
            "series": int(part.groupby(["store", "dept"]).ngroups),
            "start": str(part["date"].min().date()),
            "end": str(part["date"].max().date()),
        }

    summary = {
        "horizon_weeks": int(horizon_weeks),
        "validation_weeks": int(params.validation_weeks),
        "train": span(train),
        "validation": span(validation),
        "test": span(test),
    }
    logger.info(
        "Chronological split: train %s..%s (%d rows) | validation %s..%s (%d) | test %s..%s (%d)",
        summary["train"]["start"], summary["train"]["end"], len(train),
        summary["validation"]["start"], summary["validation"]["end"], len(validation),
        summary["test"]["start"], summary["test"]["end"], len(test),
    )
    return train, validation, test, summary
