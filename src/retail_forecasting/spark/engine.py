"""The per-department work of a backtest on Apache Spark: the same engine functions, one
department per ``applyInPandas`` call.

:func:`cross_validation_by_department` returns what
:func:`retail_forecasting.forecasting.backtest.cross_validation` returns, row for row and in
the same order, for forecasters marked
:func:`~retail_forecasting.forecasting.partitioned.per_department` (the baselines and the
decomposition model). Spark groups the panel by ``dept``; each group — one department's series,
every week — goes to a Python worker as a pandas frame, where the unchanged
``cross_validation`` runs on it with the whole panel's first week as the grid's start (so every
week index, seasonal lag and SVD block is the one the single-process run uses). Nothing of the
forecasting code is rewritten for Spark.

Memory per task: one department's rows (at the synthetic default about 1/81 of the panel,
~5,000 rows x 20 columns) plus its history matrices; the driver holds the panel it hands over
and the forecasts it collects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from retail_forecasting.forecasting.backtest import KEY_COLUMNS
from retail_forecasting.forecasting.contract import ID_COLUMNS, TIME_COLUMN

logger = logging.getLogger(__name__)

KEYS = [*ID_COLUMNS, TIME_COLUMN]


class NoDepartmentHistory(ValueError):
    """A department has rows to forecast after a cutoff but none at or before it."""


def _schema(forecasters: Sequence[str]) -> str:
    """Spark DDL of the backtest frame (:data:`~.backtest.KEY_COLUMNS` plus one column per
    model)."""
    types = {
        "store": "bigint",
        "dept": "bigint",
        "date": "timestamp",
        "cutoff": "timestamp",
        "step": "bigint",
        "is_holiday": "boolean",
        "store_type": "string",
        "actual": "double",
    }
    return ", ".join(
        [*(f"`{c}` {types[c]}" for c in KEY_COLUMNS), *(f"`{name}` double" for name in forecasters)]
    )


def _empty(forecasters: Sequence[str]) -> pd.DataFrame:
    """A backtest frame without rows, typed like :func:`_schema`."""
    dtypes = {
        "store": "int64",
        "dept": "int64",
        "date": "datetime64[ns]",
        "cutoff": "datetime64[ns]",
        "step": "int64",
        "is_holiday": "bool",
        "store_type": "object",
        "actual": "float64",
    }
    return pd.DataFrame(
        {c: pd.Series(dtype=dtypes.get(c, "float64")) for c in [*KEY_COLUMNS, *forecasters]}
    )


def department_backtest(
    forecasters: Mapping[str, Callable],
    horizon: int,
    cutoffs: Sequence[pd.Timestamp],
    observed: Sequence[str],
    start: pd.Timestamp,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's rows: the single-process
    ``cross_validation`` on the cutoffs whose window holds rows of that department."""
    from retail_forecasting.forecasting.backtest import cross_validation

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values(KEYS, ignore_index=True)
        dates = rows[TIME_COLUMN]
        kept = []
        for cutoff in cutoffs:
            if not ((dates > cutoff) & (dates <= cutoff + pd.Timedelta(weeks=horizon))).any():
                continue  # nothing of this department to forecast from this cutoff
            if not (dates <= cutoff).any():
                raise NoDepartmentHistory(
                    f"department {rows['dept'].iloc[0]} has rows to forecast after "
                    f"{pd.Timestamp(cutoff).date()} but none before: its fallback needs the "
                    "other departments (run it without Spark)"
                )
            kept.append(cutoff)
        if not kept:
            return _empty(list(forecasters))
        out = cross_validation(rows, forecasters, horizon, kept, observed=observed, start=start)
        # pandas 3 keeps strings in Arrow chunked arrays, which PySpark's serializer refuses
        return out.astype({"store_type": object})

    return run


def cross_validation_by_department(
    panel: pd.DataFrame,
    forecasters: Mapping[str, Callable],
    horizon: int,
    cutoffs: Sequence[pd.Timestamp],
    observed: Sequence[str] = (),
    spark: Any = None,
) -> pd.DataFrame:
    """:func:`~.backtest.cross_validation` of per-department forecasters, run by Spark with one
    ``applyInPandas`` call per department; same rows, same order, same columns."""
    from pyspark.sql import SparkSession

    spark = spark or SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    began = time.perf_counter()
    names = list(forecasters)
    start = panel[TIME_COLUMN].min()
    frame = spark.createDataFrame(panel.drop(columns=["split"], errors="ignore"))
    result = (
        frame.groupBy("dept")
        .applyInPandas(
            department_backtest(forecasters, horizon, list(cutoffs), list(observed), start),
            _schema(names),
        )
        .toPandas()
    )
    # the single-process order: fold by fold, each fold in the panel's row order
    result["date"] = result["date"].astype(panel[TIME_COLUMN].dtype)
    result["cutoff"] = result["cutoff"].astype(panel[TIME_COLUMN].dtype)
    order = []
    for cutoff in cutoffs:
        cutoff = pd.Timestamp(cutoff)
        window = (panel[TIME_COLUMN] > cutoff) & (
            panel[TIME_COLUMN] <= cutoff + pd.Timedelta(weeks=horizon)
        )
        order.append(panel.loc[window, KEYS].assign(cutoff=cutoff))
    expected = pd.concat(order, ignore_index=True)
    for column in ("store", "dept"):
        result[column] = result[column].astype(panel[column].dtype)
    merged = expected.merge(
        result, on=[*KEYS, "cutoff"], how="left", validate="one_to_one", indicator=True
    )
    if (merged["_merge"] != "both").any():
        raise ValueError(
            f"Spark returned {int((merged['_merge'] != 'both').sum())} rows fewer than the "
            "panel's windows"
        )
    out = merged[[*KEY_COLUMNS, *names]].reset_index(drop=True)
    out["step"] = out["step"].astype("int64")
    for column in ("is_holiday", "store_type"):  # the panel's own types (Spark hands back its own)
        out[column] = out[column].astype(panel[column].dtype)
    logger.info(
        "Spark backtest by department: %d cutoffs, %d rows, %d models in %.1f s",
        len(cutoffs),
        len(out),
        len(names),
        time.perf_counter() - began,
    )
    return out


def runner(spark: Any) -> Callable[..., pd.DataFrame]:
    """The runner :mod:`retail_forecasting.forecasting.partitioned` calls, bound to ``spark``."""

    def run(panel, forecasters, horizon, cutoffs, observed=()):
        return cross_validation_by_department(
            panel, forecasters, horizon, cutoffs, observed, spark=spark
        )

    return run
