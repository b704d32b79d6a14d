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

:class:`SparkLearners` does the per-department work of the global learners (their training
samples and their scoring) the same way; their fits stay in the driver (see the section
"the learners" below).

Memory per task: one department's rows (at the synthetic default about 1/81 of the panel,
~5,000 rows x 20 columns) plus its history matrices (and, for a learner, the features of the
rows it samples or scores, and the model); the driver holds the panel it hands over and what it
collects (forecasts, a learner's sample).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from retail_forecasting.forecasting.backtest import KEY_COLUMNS
from retail_forecasting.forecasting.contract import ID_COLUMNS, TIME_COLUMN
from retail_forecasting.forecasting.history import History

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


# ---------------------------------------------------------------------------- the learners
#
# A learner is one global model, fit in the driver on rows of every department. Around that fit
# the work is per department, and :class:`SparkLearners` runs it with ``applyInPandas``:
#
# - the training sample: the pseudo-origins are drawn in the driver for the whole panel (one
#   generator over every row, as in the single-process run; only the dates are read) and travel
#   with the rows as columns; each department draws its sample with the same seeded
#   per-department generator (``sample_positions``, the fraction fixed from the whole panel's
#   count) and builds the features of its sampled rows only; the driver collects the sample;
# - the scoring: the fitted model travels pickled in the UDF's closure (PySpark broadcasts a large
#   closure); each department builds the features of its rows to forecast and predicts them; the
#   driver collects the forecasts.
#
# Each department's history is its own series (every feature of a row reads its own series)
# with the whole panel's per-store observed covariates (a store's covariate at a week comes from
# any department's row of that store and week), shipped from the driver's history.


def _spark_type(dtype: Any) -> str:
    """Spark SQL type of a pandas column dtype (what comes back is cast to the dtype again)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "float" if np.dtype(dtype) == np.float32 else "double"
    return "string"


def _ddl(dtypes: Mapping[str, Any]) -> str:
    return ", ".join(f"`{column}` {_spark_type(dtype)}" for column, dtype in dtypes.items())


def _empty_like(dtypes: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in dtypes.items()})


def department_history(
    past: pd.DataFrame,
    cutoff: pd.Timestamp,
    start: pd.Timestamp,
    stores: pd.Index,
    covariates: Mapping[str, np.ndarray],
) -> History:
    """The :class:`History` of one department's rows dated at or before ``cutoff`` (its series'
    matrices are those of the whole panel's history), with the whole panel's ``stores`` and
    observed ``covariates``. A department without such rows gets
    :meth:`History.without_series`: its rows are unseen series, as in the whole panel's history."""
    if past.empty:
        return History.without_series(cutoff, start, stores, dict(covariates))
    own = History.from_panel(past, cutoff, start=start)
    return dataclasses.replace(own, stores=stores, covariates=dict(covariates))


def department_sample(
    history: History,
    features: Any,
    horizon: int,
    params: Any,
    origins: np.ndarray,
    dtypes: Mapping[str, Any],
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's panel rows (``_row``: position in
    the panel): its part of the training sample at ``history``'s cutoff, with ``_pass`` and
    ``_row`` to put it in the single-process order. ``origins[k, row]`` is the pseudo-origin of
    pass k of each panel row dated at or before the cutoff (drawn in the driver);
    ``params.train_fraction`` is the whole panel's fraction."""
    from retail_forecasting.forecasting.features import training_candidates, training_rows
    from retail_forecasting.forecasting.learners import sample_positions

    cutoff, start = history.cutoff, history.start
    stores, covariates = history.stores, history.covariates
    out_dtypes = {**dtypes, "_pass": "int64", "_row": "int64"}

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        past = rows.loc[rows[TIME_COLUMN] <= cutoff].sort_values("_row", ignore_index=True)
        mine = origins[:, past["_row"].to_numpy()]
        position, origin = training_candidates(mine)
        chosen = sample_positions(past[[*ID_COLUMNS, TIME_COLUMN]].iloc[position], params)
        if not len(chosen):
            return _empty_like(out_dtypes)
        history = department_history(past, cutoff, start, stores, covariates)
        frame = training_rows(
            history, past, position, origin, features, horizon, select=lambda keys: chosen
        )
        passes = np.repeat(np.arange(len(mine)), [(o >= 0).sum() for o in mine])
        frame["_pass"] = passes[chosen]
        frame["_row"] = past["_row"].to_numpy()[position[chosen]]
        return frame

    return run


def department_scores(
    model: Any, history: History, features: Any, horizon: int, slots: np.ndarray
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's panel rows (``_row``: position in
    the panel): the model's forecasts of its rows to forecast from the cutoff, features built
    here. ``slots[row]`` is -1 for a history row (dated at or before the cutoff), the row's
    position among the rows to forecast, or -2 for a row of neither."""
    from retail_forecasting.forecasting.features import forecast_frame

    cutoff, start = history.cutoff, history.start
    stores, covariates = history.stores, history.covariates

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        slot = slots[rows["_row"].to_numpy()]
        rows = rows.loc[slot >= -1].assign(_pos=slot[slot >= -1])
        ahead = rows["_pos"].to_numpy() >= 0
        future = rows.loc[ahead].sort_values("_pos", ignore_index=True)
        if future.empty:
            return pd.DataFrame({"_pos": pd.Series(dtype="int64"), "forecast": []})
        history = department_history(rows.loc[~ahead], cutoff, start, stores, covariates)
        frame = forecast_frame(history, future, features, horizon)
        return pd.DataFrame(
            {"_pos": future["_pos"].to_numpy(), "forecast": np.asarray(model.predict(frame))}
        )

    return run


def department_predictions(model: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's rows of a built forecast frame:
    the model's forecast of each (``_pos``: the row's position in the frame)."""

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values("_pos", ignore_index=True)
        return pd.DataFrame(
            {"_pos": rows["_pos"].to_numpy(), "forecast": np.asarray(model.predict(rows))}
        )

    return run


class SparkLearners:
    """The learners' per-department work on Spark
    (:class:`retail_forecasting.forecasting.partitioned.LearnerEngine`): their training sample
    and their scoring, one department per ``applyInPandas`` call; the fit stays in the driver.
    Each method returns what the single-process code returns, row for row.

    The panel is handed to Spark once per panel object — a node's calls (a tuning's sample and
    candidates, a backtest's cutoffs) share it — partitioned by department and cached; what a
    call needs besides (the pseudo-origins, which rows to forecast) travels as an array indexed
    by panel row in the UDF's closure. The previous panel's cached frame is released when
    another panel comes, and after every node (:meth:`release`, called by
    :class:`retail_forecasting.spark.hooks.SparkHooks`): the nodes after the learners' (the
    evaluation, on the driver) need the memory more than a cache no one reads."""

    SCORES = "`_pos` bigint, `forecast` double"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._panel: tuple[weakref.ref, Any] | None = None  # (the panel, its Spark frame)

    def _frame(self, rows: pd.DataFrame) -> Any:
        """The rows as a Spark DataFrame (the panel's ``split`` is not needed)."""
        return self.spark.createDataFrame(rows.drop(columns=["split"], errors="ignore"))

    def panel_frame(self, panel: pd.DataFrame) -> Any:
        """``panel`` (plus ``_row``, each row's position) as a Spark DataFrame partitioned by
        department and cached; made once for the same panel object."""
        if self._panel is not None:
            owner, frame = self._panel
            if owner() is panel:
                return frame
            frame.unpersist()
            self._panel = None
        began = time.perf_counter()
        frame = (
            self._frame(panel.assign(_row=np.arange(len(panel), dtype=np.int64)))
            .repartition("dept")
            .persist()
        )
        self._panel = (weakref.ref(panel), frame)
        logger.info(
            "Panel handed to Spark for the learners: %d rows in %.1f s",
            len(panel),
            time.perf_counter() - began,
        )
        return frame

    def release(self) -> None:
        """Unpersist the cached panel, if any (the next call hands its panel again)."""
        if self._panel is not None:
            self._panel[1].unpersist()
            self._panel = None

    def training_frame(
        self, history: History, panel: pd.DataFrame, features: Any, horizon: int, params: Any
    ) -> pd.DataFrame:
        """:func:`~retail_forecasting.forecasting.learners.learner_training_frame`, each
        department's sample drawn and featurised by Spark; only the sample is collected."""
        from retail_forecasting.forecasting.features import (
            pseudo_origins,
            training_candidates,
            training_rows,
        )
        from retail_forecasting.forecasting.learners import sample_fraction, sample_positions

        began = time.perf_counter()
        in_past = (panel[TIME_COLUMN] <= history.cutoff).to_numpy()
        past = panel.loc[in_past]
        origins = pseudo_origins(history, past, features, horizon)
        position, origin = training_candidates(origins)
        if not len(position):  # nothing to draw: the single-process (empty) frame
            return training_rows(
                history, past, position, origin, features, horizon,
                select=lambda keys: sample_positions(keys, params),
            )  # fmt: skip
        # each department keeps this share of its candidates (the cap applies to the total)
        fraction = sample_fraction(len(position), params)
        by_department = params.model_copy(
            update={"train_fraction": fraction, "max_train_rows": None}
        )
        # the frame's columns and types, from one row built here
        dtypes = training_rows(
            history, past, position[:1], origin[:1], features, horizon
        ).dtypes.to_dict()
        # the pseudo-origins by panel row (-1 after the cutoff; those rows are not read)
        by_row = np.full((len(origins), len(panel)), -1, dtype=np.int32)
        by_row[:, in_past] = origins
        sample = (
            self.panel_frame(panel)
            .groupBy("dept")
            .applyInPandas(
                department_sample(history, features, horizon, by_department, by_row, dtypes),
                f"{_ddl(dtypes)}, `_pass` bigint, `_row` bigint",
            )
            .toPandas()
        )
        sample = sample.sort_values(["_pass", "_row"], ignore_index=True)
        out = sample[list(dtypes)].astype(dtypes)
        logger.info(
            "Spark sample by department: %d of %d candidate rows at cutoff %s in %.1f s",
            len(out),
            len(position),
            history.cutoff.date(),
            time.perf_counter() - began,
        )
        return out

    def scorer(
        self,
        history: History,
        panel: pd.DataFrame,
        future: pd.DataFrame,
        features: Any,
        horizon: int,
    ) -> Callable[[Any], np.ndarray]:
        """``model -> forecasts of future`` (rows of ``panel``), each call one Spark job: the
        model is shipped, each department builds its features and predicts; only the forecasts
        are collected."""
        from retail_forecasting.forecasting.features import forecast_frame

        slots = np.full(len(panel), -2, dtype=np.int32)
        slots[(panel[TIME_COLUMN] <= history.cutoff).to_numpy()] = -1
        slots[_positions(panel, future)] = np.arange(len(future), dtype=np.int32)
        # the forecasts' dtype (a booster may predict float32), from one row predicted here
        probe = forecast_frame(history, future.iloc[:1], features, horizon)

        def score(model: Any) -> np.ndarray:
            began = time.perf_counter()
            result = (
                self.panel_frame(panel)
                .groupBy("dept")
                .applyInPandas(
                    department_scores(model, history, features, horizon, slots), self.SCORES
                )
                .toPandas()
            )
            out = _placed(result, len(future), np.asarray(model.predict(probe)).dtype)
            logger.info(
                "Spark scoring by department: %d forecasts from %s in %.1f s",
                len(out),
                history.cutoff.date(),
                time.perf_counter() - began,
            )
            return out

        return score

    def predict(self, model: Any, frame: pd.DataFrame) -> np.ndarray:
        """``model.predict(frame)``, the frame's departments predicted by Spark."""
        began = time.perf_counter()
        rows = frame.assign(_pos=np.arange(len(frame), dtype=np.int64))
        result = (
            self._frame(rows)
            .groupBy("dept")
            .applyInPandas(department_predictions(model), self.SCORES)
            .toPandas()
        )
        out = _placed(result, len(frame), np.asarray(model.predict(frame.iloc[:1])).dtype)
        logger.info(
            "Spark prediction by department: %d forecasts in %.1f s",
            len(out),
            time.perf_counter() - began,
        )
        return out


def _positions(panel: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The position in ``panel`` of each of ``rows`` (rows of the panel, found by index label;
    their series and week checked)."""
    if not panel.index.is_unique:
        raise ValueError("the panel's index must be unique to find the rows to forecast in it")
    position = panel.index.get_indexer(rows.index)
    found = position >= 0
    keys = [*ID_COLUMNS, TIME_COLUMN]
    if not found.all() or not all(
        np.array_equal(panel[c].to_numpy()[position], rows[c].to_numpy()) for c in keys
    ):
        raise ValueError(
            f"{int((~found).sum())} of the {len(rows)} rows to forecast are not rows of the "
            "panel the learner's history was built from (or differ from them)"
        )
    return position


def _placed(result: pd.DataFrame, n: int, dtype: Any) -> np.ndarray:
    """The collected ``(_pos, forecast)`` rows as one forecast per position ``0..n-1``."""
    position = result["_pos"].to_numpy(dtype=np.int64)
    if len(position) != n or len(np.unique(position)) != n:
        raise ValueError(f"Spark returned {len(position)} forecasts for {n} rows")
    out = np.empty(n, dtype=dtype)
    out[position] = result["forecast"].to_numpy()
    return out
