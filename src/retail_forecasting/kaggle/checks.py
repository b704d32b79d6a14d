"""Checks of Kaggle-shaped frames, with the messages users see.

Each check raises :class:`~retail_forecasting.errors.RawDataError` naming the file, the column,
how many rows fail, and up to :data:`MAX_EXAMPLES` of them with their CSV line numbers (the
frame's index + 2: one for the header, one because lines count from 1). Shared by ingestion
(:mod:`retail_forecasting.kaggle.validation`), inference and serving (``test.csv``-shaped input).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.errors import RawDataError
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS

MAX_EXAMPLES = 5


class Bounds(BaseModel):
    """Plausible range of one numeric column; values outside it are refused."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    #: Weekly_Sales only: refuse |value| above this multiple of the department's 99th
    #: percentile of |sales| in the batch (at least ``dept_ratio_floor``).
    max_dept_ratio: float | None = Field(None, gt=0)
    dept_ratio_floor: float = Field(10_000.0, ge=0)


def default_bounds() -> dict[str, Bounds]:
    markdown = Bounds(min=-1e7, max=1e8)
    return {
        "Weekly_Sales": Bounds(min=-1e7, max=1e8, max_dept_ratio=100),
        "Size": Bounds(min=1, max=1e7),
        "Temperature": Bounds(min=-80, max=150),
        "Fuel_Price": Bounds(min=0, max=50),
        "CPI": Bounds(min=0, max=10_000),
        "Unemployment": Bounds(min=0, max=100),
        **{c: markdown for c in MARKDOWN_COLUMNS},
    }


def file_name(frame: pd.DataFrame, default: str) -> str:
    source = frame.attrs.get("source") or {}
    return source.get("path") or default


def examples(frame: pd.DataFrame, mask: pd.Series, columns: list[str]) -> str:
    """Describe up to MAX_EXAMPLES offending rows with their CSV line numbers."""
    columns = list(dict.fromkeys(c for c in columns if c in frame.columns))
    rows = frame.loc[mask, columns].head(MAX_EXAMPLES)
    lines = []
    for index, row in rows.iterrows():
        values = ", ".join(f"{col}={row[col]!r}" for col in rows.columns)
        lines.append(f"line {int(index) + 2}: {values}")  # +1 header, +1 one-based
    return "; ".join(lines)


def fail(
    file: str, column: str, problem: str, frame: pd.DataFrame, mask: pd.Series, columns: list[str]
) -> None:
    count = int(mask.sum())
    raise RawDataError(
        f"{file}, column {column!r}: {count} row(s) {problem}. "
        f"Examples: {examples(frame, mask, columns)}"
    )


def require_columns(frame: pd.DataFrame, file: str, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RawDataError(
            f"{file}: missing column(s) {missing}; found {list(frame.columns)}. "
            f"Expected the Kaggle schema {required}."
        )


def required_not_null(frame: pd.DataFrame, file: str, columns: list[str], keys: list[str]) -> None:
    for column in columns:
        mask = frame[column].isna()
        if mask.any():
            fail(file, column, "are empty", frame, mask, keys + [column])


def as_number(
    frame: pd.DataFrame, file: str, column: str, keys: list[str], integer: bool = False
) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        fail(file, column, "are not numbers", frame, bad, keys + [column])
    infinite = pd.Series(np.isinf(values.to_numpy(dtype="float64")), index=frame.index)
    if infinite.any():
        fail(file, column, "are not finite (inf)", frame, infinite, keys + [column])
    if integer:
        fractional = values.notna() & (values != values.round())
        if fractional.any():
            fail(file, column, "are not whole numbers", frame, fractional, keys + [column])
        return values.astype("int64")
    return values.astype("float64")


def as_friday(frame: pd.DataFrame, file: str, keys: list[str]) -> pd.Series:
    dates = pd.to_datetime(frame["Date"].astype("string"), format="%Y-%m-%d", errors="coerce")
    bad = dates.isna()
    if bad.any():
        fail(file, "Date", "are not YYYY-MM-DD dates", frame, bad, keys)
    not_friday = dates.dt.dayofweek != 4
    if not_friday.any():
        fail(file, "Date", "are not Fridays (weeks end on Friday)", frame, not_friday, keys)
    return dates.astype("datetime64[ns]")


def as_bool(frame: pd.DataFrame, file: str, column: str, keys: list[str]) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(bool)
    mapped = raw.astype("string").str.strip().str.upper().map({"TRUE": True, "FALSE": False})
    bad = mapped.isna()
    if bad.any():
        fail(file, column, "are not TRUE/FALSE", frame, bad, keys + [column])
    return mapped.astype(bool)


def no_duplicates(frame: pd.DataFrame, file: str, keys: list[str]) -> None:
    duplicated = frame.duplicated(subset=keys, keep=False)
    if duplicated.any():
        fail(file, "+".join(keys), "share a duplicate key", frame, duplicated, keys)


def not_empty(frame: pd.DataFrame, file: str) -> None:
    if frame.empty:
        raise RawDataError(
            f"{file}: the file has a header ({', '.join(map(str, frame.columns))}) but no data "
            "rows. Nothing was loaded and the warehouse keeps its data; check the file was "
            "exported or copied whole."
        )


def plausible(
    frame: pd.DataFrame,
    file: str,
    column: str,
    values: pd.Series,
    bounds: dict[str, Bounds],
    keys: list[str],
) -> None:
    """Refuse values outside ``bounds[column]`` (``ingestion.plausibility``)."""
    rule = bounds.get(column)
    if rule is None:
        return
    hint = f"(ingestion.plausibility.{column} in conf/base/parameters_ingestion.yml)"
    if rule.min is not None:
        low = values < rule.min
        if low.any():
            fail(
                file,
                column,
                f"are below the plausible minimum {rule.min:g} {hint}",
                frame,
                low,
                keys + [column],
            )
    if rule.max is not None:
        high = values > rule.max
        if high.any():
            fail(
                file,
                column,
                f"are above the plausible maximum {rule.max:g} {hint}",
                frame,
                high,
                keys + [column],
            )


def plausible_for_department(
    frame: pd.DataFrame, file: str, sales: pd.DataFrame, rule: Bounds | None, keys: list[str]
) -> None:
    """Refuse sales far beyond the rest of their department (a robust, batch-relative cap)."""
    if rule is None or rule.max_dept_ratio is None:
        return
    size = sales["weekly_sales"].abs()
    reference = sales["dept"].map(size.groupby(sales["dept"]).quantile(0.99))
    limit = rule.max_dept_ratio * reference.clip(lower=rule.dept_ratio_floor)
    outlier = size > limit
    if outlier.any():
        fail(
            file,
            "Weekly_Sales",
            f"are more than {rule.max_dept_ratio:g}x the 99th percentile of their department "
            "(ingestion.plausibility.Weekly_Sales.max_dept_ratio)",
            frame,
            outlier,
            keys + ["Weekly_Sales"],
        )
