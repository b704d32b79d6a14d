"""Ingestion nodes: validate the raw Kaggle files, clean, fingerprint, load the warehouse,
check the load and split the analytics view chronologically.

The validators and their checks live in :mod:`retail_forecasting.kaggle` (shared with
inference and serving); the ``validate_*`` nodes here hand them the ingestion parameters' bounds.

Pure functions: frames and parameters in, frames and dicts out. The warehouse I/O happens in
the ``warehouse`` dataset (``retail_forecasting.datasets.WarehouseDataset``, defined in
:mod:`retail_forecasting.warehouse.dataset`); the view is read
back with kedro-datasets' ``pandas.SQLQueryDataset``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.errors import RawDataError
from retail_forecasting.kaggle import validation
from retail_forecasting.kaggle.checks import Bounds, default_bounds
from retail_forecasting.kaggle.schema import PANEL_COVARIATES
from retail_forecasting.warehouse import STAGING_COLUMNS, LoadPolicy, WarehouseBatch

logger = logging.getLogger(__name__)

__all__ = ["RawDataError", "IngestionParams"]  # RawDataError lives in retail_forecasting.errors


class IngestionParams(BaseModel):
    """``ingestion`` parameters (``conf/base/parameters_ingestion.yml``)."""

    model_config = ConfigDict(extra="forbid")

    negative_sales: Literal["keep", "clip", "drop"] = "keep"
    validation_weeks: int = Field(39, ge=1)
    min_train_weeks: int = Field(52, ge=1)
    #: how a batch changes the warehouse; pydantic validates the dataclass's own fields
    load: LoadPolicy = Field(default_factory=LoadPolicy)
    plausibility: dict[str, Bounds] = Field(default_factory=default_bounds)


# --------------------------------------------------------------------------- validation
# The checks live in retail_forecasting.kaggle.validation; these nodes give them the bounds.


def validate_stores(raw_stores: pd.DataFrame, params: IngestionParams) -> pd.DataFrame:
    """Validate ``stores.csv``: the store dimension (store, store_type, store_size)."""
    return validation.validate_stores(raw_stores, params.plausibility)


def validate_store_features(
    raw_features: pd.DataFrame, int_stores: pd.DataFrame, params: IngestionParams
) -> pd.DataFrame:
    """Validate ``features.csv`` (store-week covariates) against the store dimension."""
    return validation.validate_store_features(raw_features, int_stores, params.plausibility)


def validate_sales(
    raw_train: pd.DataFrame,
    int_stores: pd.DataFrame,
    int_store_features: pd.DataFrame,
    params: IngestionParams,
) -> pd.DataFrame:
    """Validate ``train.csv`` and its consistency with stores and features."""
    return validation.validate_sales(raw_train, int_stores, int_store_features, params.plausibility)


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
        report["negative_sales_rows"],
        params.negative_sales,
        report["rows_clipped"],
        report["rows_dropped"],
        report["rows_in"],
        report["rows_out"],
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
        # each distinct date string parsed once: a file has one per week (143 for 4.2 M rows at
        # 450 stores), not one per row (docs/scale.md)
        dates = pd.to_datetime(frame["Date"].drop_duplicates().astype("string"), errors="coerce")
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
        ", ".join(
            f"{k} sha256={(v['sha256'] or '?')[:12]} rows={v['rows']}" for k, v in inputs.items()
        ),
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
    "store",
    "dept",
    "date",
    "weekly_sales",
    "is_holiday",
    "store_type",
    "store_size",
    *PANEL_COVARIATES,
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
        summary["train"]["start"],
        summary["train"]["end"],
        len(train),
        summary["validation"]["start"],
        summary["validation"]["end"],
        len(validation),
        summary["test"]["start"],
        summary["test"]["end"],
        len(test),
    )
    return train, validation, test, summary
