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

Both work on the panel's Spark frame from :class:`SparkPanels`: on ``kedro run --env spark``
the panel read by Spark from storage (``feat_panel@spark``, kedro-datasets' Spark dataset of
the file the nodes' pandas ``feat_panel`` is read from), else the pandas panel handed over from
the driver (see the section "the panel's frame" below).

Memory per task: one department's rows (at the synthetic default about 1/81 of the panel,
~5,000 rows x 20 columns) plus its history matrices (and, for a learner, the features of the
rows it samples or scores, and the model); the driver holds the pandas panel the node gets
(and a panel it hands over, when it does) and what it collects (forecasts, a learner's
sample).
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


# ---------------------------------------------------------------------------- the panel's frame
#
# Every Spark call of a node works on the panel's rows partitioned by department, each row with
# ``_row``, its position in the panel the node handed over (what the closure arrays of a call —
# pseudo-origins, rows to forecast — are indexed by). Where that frame comes from:
#
# - the registered panel (``kedro run --env spark``: ``SparkHooks.before_node_run`` registers
#   the node's pandas ``feat_panel`` with the catalog's ``feat_panel@spark``, kedro-datasets'
#   Spark dataset of the same parquet file): Spark reads the file, and ``_row`` is derived from
#   the keys — the pandas panel is sorted by (store, dept, date) with unique keys (checked), so
#   a row's position is its series' first position plus the rank of its date in the series.
#   Each department's task checks its rows against the pandas panel (each series' row count,
#   and the date at every derived position), and the driver the total; on any difference the
#   frame is not used (a warning, and the rows are handed over as below). A call on rows of
#   the registered panel (``history = feat_panel[split != "test"]``: its index labels are panel
#   positions, checked against every column) uses the same frame, each task keeping the call's
#   rows (``local``: position in the call's panel by ``_row``, -1 for rows not in it);
# - any other frame (no registered panel, or rows that are not its rows): handed over from the
#   driver (``createDataFrame``, logged), ``_row`` its own positions.
#
# The frame is cached for the node (a tuning's sample and candidates, a backtest's cutoffs
# share it) and released when the node ends (:meth:`SparkPanels.release`).


def own_rows(rows: pd.DataFrame, local: np.ndarray | None) -> pd.DataFrame:
    """A task's rows of a panel frame that are rows of the call's panel, ``_row`` their position
    in it (``local``: :meth:`SparkPanels.frame`'s map; None: ``_row`` already is)."""
    if local is None:
        return rows
    position = local[rows["_row"].to_numpy()]
    kept = position >= 0
    return rows.loc[kept].assign(_row=position[kept].astype(np.int64))


def _nanoseconds(dates: pd.Series) -> np.ndarray:
    """Dates as int64 nanoseconds (parquet's nanosecond timestamps reach Spark as longs:
    ``spark.sql.legacy.parquet.nanosAsLong``; a timestamp column is converted)."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        return dates.astype("datetime64[ns]").to_numpy().view(np.int64)
    return dates.to_numpy(dtype=np.int64)


def located_rows(series: pd.DataFrame, dates: np.ndarray) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's rows read from storage: each row
    with ``_row``, its position in the pandas panel (``series``: store, dept, start, count of
    each series of that panel, sorted by store, dept, date; ``dates``: the panel's dates in
    nanoseconds), or -1 where the row does not match the panel; dates as timestamps."""

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        ns = _nanoseconds(rows[TIME_COLUMN])
        rows = rows.assign(**{TIME_COLUMN: ns}).sort_values(
            [*ID_COLUMNS, TIME_COLUMN], kind="stable", ignore_index=True
        )
        ns = rows[TIME_COLUMN].to_numpy()
        found = rows[ID_COLUMNS].merge(series, on=ID_COLUMNS, how="left", validate="many_to_one")
        groups = rows.groupby(ID_COLUMNS, sort=False)[TIME_COLUMN]
        size = groups.transform("size").to_numpy()
        count = found["count"].to_numpy(dtype=float)  # NaN: a series the panel does not have
        ok = size == count
        position = np.where(
            ok, found["start"].fillna(0).to_numpy(dtype=np.int64) + groups.cumcount().to_numpy(), 0
        )
        ok &= dates[position] == ns
        return rows.assign(
            **{
                TIME_COLUMN: pd.to_datetime(ns, unit="ns"),
                "_row": np.where(ok, position, -1).astype(np.int64),
            }
        )

    return run


def _series_starts(panel: pd.DataFrame) -> pd.DataFrame | None:
    """Store, dept, first position and row count of each series of ``panel``, if its rows are
    sorted by (store, dept, date) with unique keys (else None)."""
    keys = [panel[c].to_numpy() for c in (*ID_COLUMNS, TIME_COLUMN)]
    if not len(panel) or any(k.dtype == object for k in keys):
        return None
    store, dept, date = keys
    later = (store[1:] > store[:-1]) | (
        (store[1:] == store[:-1])
        & ((dept[1:] > dept[:-1]) | ((dept[1:] == dept[:-1]) & (date[1:] > date[:-1])))
    )
    if not later.all():
        return None
    first = np.flatnonzero(np.r_[True, (store[1:] != store[:-1]) | (dept[1:] != dept[:-1])])
    return pd.DataFrame(
        {
            "store": store[first],
            "dept": dept[first],
            "start": first.astype(np.int64),
            "count": np.diff(np.r_[first, len(panel)]).astype(np.int64),
        }
    )


def _rows_of(source: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray | None:
    """The position in ``source`` of each of ``rows``, if they are rows of it (index labels that
    are positions of ``source``'s 0..n-1 index, every column equal), else None."""
    index = source.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        return None
    if list(rows.columns) != list(source.columns) or not rows.index.is_unique:
        return None
    if not pd.api.types.is_integer_dtype(rows.index.dtype):
        return None
    position = rows.index.to_numpy(dtype=np.int64)
    if len(position) and (position.min() < 0 or position.max() >= len(source)):
        return None
    for column in source.columns:
        mine = rows[column].reset_index(drop=True)
        if not source[column].take(position).reset_index(drop=True).equals(mine):
            return None
    return position


ALL = object()  # SparkPanels._local: every row of the registered panel, in its order


@dataclasses.dataclass
class _Registered:
    """A node's panel and the loader of the same rows read by Spark."""

    panel: weakref.ref
    load: Callable[[], Any]
    name: str
    frame: Any = None  # read, checked and cached on first use
    unusable: bool = False  # the read did not hold the panel's rows
    # the last frame asked for and the map to its rows (None: not rows of the panel)
    rows: tuple[weakref.ref, np.ndarray | None] | None = None


class SparkPanels:
    """The Spark frames of the panels a node's Spark calls work on (see the comment above):
    the registered panel read by Spark from storage, or a panel handed over from the driver;
    cached for the node, released by :meth:`release`."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._registered: _Registered | None = None
        self._handed: tuple[weakref.ref, Any] | None = None  # (the panel, its frame)

    def register(self, panel: pd.DataFrame, load: Callable[[], Any], name: str) -> None:
        """``load()`` gives the Spark DataFrame of the storage ``panel`` was read from (a
        catalog dataset's ``load``; called when a call first needs it)."""
        self.release()
        self._registered = _Registered(weakref.ref(panel), load, name)

    def frame(self, panel: pd.DataFrame) -> tuple[Any, np.ndarray | None]:
        """``panel``'s rows as a Spark frame partitioned by department, with ``_row``; and
        ``local``, the map from the frame's ``_row`` to the position in ``panel`` (-1: not a
        row of it), or None when ``_row`` is the position in ``panel``."""
        registered = self._registered
        source = registered.panel() if registered is not None else None
        if registered is not None and source is not None and not registered.unusable:
            local = self._local(registered, source, panel)
            if local is not None:
                if registered.frame is None:
                    registered.frame = self._read(registered, source)
                    registered.unusable = registered.frame is None
                if registered.frame is not None:
                    return registered.frame, (None if local is ALL else local)
        if self._handed is None or self._handed[0]() is not panel:
            if self._handed is not None:
                self._handed[1].unpersist()
            self._handed = (weakref.ref(panel), self._hand_over(panel))
        return self._handed[1], None

    @staticmethod
    def _local(registered: _Registered, source: pd.DataFrame, panel: pd.DataFrame) -> Any:
        """:data:`ALL` when ``panel`` is the registered panel; for rows of it, the map from
        the registered panel's positions to theirs in ``panel`` (-1: not in it); None (logged)
        when they are not its rows."""
        if panel is source:
            return ALL
        if registered.rows is not None and registered.rows[0]() is panel:
            return registered.rows[1]
        position = _rows_of(source, panel)
        local = None
        if position is None:
            logger.info(
                "A frame of %d rows that are not rows of the registered %s is handed to Spark "
                "from the driver",
                len(panel),
                registered.name,
            )
        else:
            local = np.full(len(source), -1, dtype=np.int32)
            local[position] = np.arange(len(position), dtype=np.int32)
        registered.rows = (weakref.ref(panel), local)
        return local

    def _hand_over(self, panel: pd.DataFrame) -> Any:
        """``panel`` handed over from the driver (``createDataFrame``), ``_row`` its positions."""
        began = time.perf_counter()
        rows = panel.drop(columns=["split"], errors="ignore").assign(
            _row=np.arange(len(panel), dtype=np.int64)
        )
        frame = self.spark.createDataFrame(rows).repartition("dept").persist()
        logger.info(
            "Panel handed to Spark from the driver: %d rows in %.1f s",
            len(panel),
            time.perf_counter() - began,
        )
        return frame

    def _read(self, registered: _Registered, source: pd.DataFrame) -> Any:
        """The registered panel's frame read by Spark, ``_row`` derived and checked, cached;
        None (a warning) when it cannot be used."""
        from pyspark.sql import functions as F

        name = registered.name
        began = time.perf_counter()
        series = _series_starts(source)
        if series is None:
            logger.warning(
                "%s is not sorted by (store, dept, date) with unique keys: its rows are handed "
                "to Spark from the driver instead of read from %s@spark",
                name,
                name,
            )
            return None
        columns = [c for c in source.columns if c != "split"]
        try:
            read = registered.load()
        except Exception as error:
            if "TIMESTAMP(NANOS" not in str(error):
                raise
            raise ValueError(
                f"Spark cannot read {name}@spark's nanosecond dates: set "
                "spark.sql.legacy.parquet.nanosAsLong: true (conf/spark/spark.yml)"
            ) from error
        missing = [c for c in columns if c not in read.columns]
        if missing:
            raise ValueError(f"{name}@spark lacks the column(s) {missing} of {name}")
        dtypes = {**source[columns].dtypes.to_dict(), "_row": np.dtype(np.int64)}
        frame = (
            read.select(*columns)
            .groupBy("dept")
            .applyInPandas(located_rows(series, _nanoseconds(source[TIME_COLUMN])), _ddl(dtypes))
            .repartition("dept")
            .persist()
        )
        rows, unmatched = frame.agg(
            F.count(F.lit(1)), F.sum((F.col("_row") < 0).cast("long"))
        ).first()
        if rows != len(source) or unmatched:
            frame.unpersist()
            logger.warning(
                "%s@spark does not hold %s's rows (%d rows read, %d of them not found in the "
                "%d rows of the node's panel): the rows are handed to Spark from the driver",
                name,
                name,
                rows,
                unmatched or 0,
                len(source),
            )
            return None
        logger.info(
            "%s read by Spark from %s@spark: %d rows, each row's position checked, in %.1f s",
            name,
            name,
            rows,
            time.perf_counter() - began,
        )
        return frame

    def release(self) -> None:
        """Unpersist the cached frames and forget the registered panel (the node has ended)."""
        if self._registered is not None and self._registered.frame is not None:
            self._registered.frame.unpersist()
        if self._handed is not None:
            self._handed[1].unpersist()
        self._registered = None
        self._handed = None


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
    local: np.ndarray | None = None,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's rows of a panel frame
    (:meth:`SparkPanels.frame`; ``local``: its map to the call's panel): the single-process
    ``cross_validation`` on the cutoffs whose window holds rows of that department."""
    from retail_forecasting.forecasting.backtest import cross_validation

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        rows = own_rows(rows, local).drop(columns=["_row"])
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
    panels: SparkPanels | None = None,
) -> pd.DataFrame:
    """:func:`~.backtest.cross_validation` of per-department forecasters, run by Spark with one
    ``applyInPandas`` call per department; same rows, same order, same columns. The panel's
    Spark frame comes from ``panels`` (the run's: the catalog's Spark dataset when ``panel``
    is, or is rows of, the registered panel); without it the panel is handed over for this
    call."""
    from pyspark.sql import SparkSession

    own = panels is None
    if panels is None:
        spark = spark or SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        panels = SparkPanels(spark)
    began = time.perf_counter()
    names = list(forecasters)
    start = panel[TIME_COLUMN].min()
    try:
        frame, local = panels.frame(panel)
        result = (
            frame.groupBy("dept")
            .applyInPandas(
                department_backtest(
                    forecasters, horizon, list(cutoffs), list(observed), start, local
                ),
                _schema(names),
            )
            .toPandas()
        )
    finally:
        if own:
            panels.release()
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


def runner(spark: Any, panels: SparkPanels | None = None) -> Callable[..., pd.DataFrame]:
    """The runner :mod:`retail_forecasting.forecasting.partitioned` calls, bound to ``spark``
    (and the run's ``panels``, if given)."""

    def run(panel, forecasters, horizon, cutoffs, observed=()):
        return cross_validation_by_department(
            panel, forecasters, horizon, cutoffs, observed, spark=spark, panels=panels
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
    local: np.ndarray | None = None,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's rows of a panel frame
    (:meth:`SparkPanels.frame`; ``local``: its map to the call's panel, whose positions
    ``_row`` then is): its part of the training sample at ``history``'s cutoff, with ``_pass``
    and ``_row`` to put it in the single-process order. ``origins[k, row]`` is the pseudo-origin
    of pass k of each panel row dated at or before the cutoff (drawn in the driver);
    ``params.train_fraction`` is the whole panel's fraction."""
    from retail_forecasting.forecasting.features import training_candidates, training_rows
    from retail_forecasting.forecasting.learners import sample_positions

    cutoff, start = history.cutoff, history.start
    stores, covariates = history.stores, history.covariates
    out_dtypes = {**dtypes, "_pass": "int64", "_row": "int64"}

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        rows = own_rows(rows, local)
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
    model: Any,
    history: History,
    features: Any,
    horizon: int,
    slots: np.ndarray,
    local: np.ndarray | None = None,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The function each Spark task runs on one department's rows of a panel frame
    (:meth:`SparkPanels.frame`; ``local``: its map to the call's panel, whose positions
    ``_row`` then is): the model's forecasts of its rows to forecast from the cutoff, features
    built here. ``slots[row]`` is -1 for a history row (dated at or before the cutoff), the
    row's position among the rows to forecast, or -2 for a row of neither."""
    from retail_forecasting.forecasting.features import forecast_frame

    cutoff, start = history.cutoff, history.start
    stores, covariates = history.stores, history.covariates

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        rows = own_rows(rows, local)
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

    The panel's Spark frame comes from ``panels`` (:class:`SparkPanels`: the catalog's Spark
    dataset for the registered panel and its rows, else handed over from the driver), once per
    node — a node's calls (a tuning's sample and candidates, a backtest's cutoffs) share it;
    what a call needs besides (the pseudo-origins, which rows to forecast) travels as an array
    indexed by panel row in the UDF's closure. The frame is released after every node
    (:meth:`release`, called by :class:`retail_forecasting.spark.hooks.SparkHooks`): the nodes
    after the learners' (the evaluation, on the driver) need the memory more than a cache no
    one reads."""

    SCORES = "`_pos` bigint, `forecast` double"

    def __init__(self, spark: Any, panels: SparkPanels | None = None) -> None:
        self.spark = spark
        self.panels = panels if panels is not None else SparkPanels(spark)

    def panel_frame(self, panel: pd.DataFrame) -> tuple[Any, np.ndarray | None]:
        """``panel``'s Spark frame and its map to ``panel`` (:meth:`SparkPanels.frame`)."""
        return self.panels.frame(panel)

    def release(self) -> None:
        """Release the node's panel frame (the next node gets its own)."""
        self.panels.release()

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
        frame, local = self.panel_frame(panel)
        sample = (
            frame.groupBy("dept")
            .applyInPandas(
                department_sample(history, features, horizon, by_department, by_row, dtypes, local),
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
            frame, local = self.panel_frame(panel)
            result = (
                frame.groupBy("dept")
                .applyInPandas(
                    department_scores(model, history, features, horizon, slots, local),
                    self.SCORES,
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
        rows = frame.drop(columns=["split"], errors="ignore").assign(
            _pos=np.arange(len(frame), dtype=np.int64)
        )
        result = (
            self.spark.createDataFrame(rows)
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
