"""Forecasts and monitoring checks in the warehouse: writers (staging + upsert in one
transaction, the warehouse's load lock held) and readers, on DuckDB and PostgreSQL alike.

The DDL is ``sql/05_forecasts_and_monitoring.sql`` (listed in the catalog's ``schema_files``);
the upserts are ``sql/06_upsert_forecasts_from_staging.sql`` and
``sql/07_upsert_monitoring_checks_from_staging.sql``. The bulk path, the lock and the SQL runner
are :mod:`retail_forecasting.warehouse`'s (``bulk_load``, ``lock_warehouse``, ``run_sql_files``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy import Engine, create_engine, text

from retail_forecasting import warehouse
from retail_forecasting.errors import InputError
from retail_forecasting.model_registry import REGISTERED_MODEL

logger = logging.getLogger(__name__)

WEEK = pd.Timedelta(weeks=1)

SCHEMA = warehouse.SCHEMA
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


def quantile_column(level: float) -> str:
    """The table column of a quantile: 0.025 -> ``q0_025`` (the model's ``Weekly_Sales_q0.025``)."""
    return "q" + f"{level:g}".replace(".", "_")


QUANTILE_COLUMNS = [quantile_column(q) for q in QUANTILES]

#: Staging tables of this module and their columns (the frames must carry exactly these).
TABLES: dict[str, list[str]] = {
    "stg_forecast_weekly": [
        "model_name",
        "model_version",
        "run_id",
        "origin_date",
        "store_id",
        "dept_id",
        "week_date",
        "step",
        "forecast",
        *QUANTILE_COLUMNS,
        "forecast_basis",
        "created_at",
    ],
    "stg_monitoring_check": [
        "model_version",
        "as_of_week",
        "check_name",
        "scope",
        "value",
        "threshold",
        "status",
        "message",
        "checked_at",
    ],
}
#: The table each staging table is upserted into.
TARGETS = {
    "stg_forecast_weekly": "fact_forecast_weekly",
    "stg_monitoring_check": "monitoring_check",
}
UPSERT_FILES = {
    "stg_forecast_weekly": "06_upsert_forecasts_from_staging.sql",
    "stg_monitoring_check": "07_upsert_monitoring_checks_from_staging.sql",
}


def registered_version(model: Any, name: str = REGISTERED_MODEL) -> tuple[str, str | None]:
    """(registry version, MLflow run id) of a loaded registered model; ``("unregistered", None)``
    for a bare forecaster (tests) or a model the registry does not list."""
    run_id = getattr(getattr(model, "metadata", None), "run_id", None)
    if not run_id:
        return "unregistered", None
    import mlflow

    versions = mlflow.MlflowClient().search_model_versions(f"name='{name}' and run_id='{run_id}'")
    if not versions:
        return f"run-{run_id[:8]}", run_id
    return str(max(int(v.version) for v in versions)), run_id


def table_rows(
    model_name: str,
    version: str,
    run_id: str | None,
    origin: pd.Timestamp,
    store: Any,
    dept: Any,
    week: Any,
    forecast: Any,
    quantiles: dict[float, np.ndarray],
    basis: Any,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Rows of ``retailds.fact_forecast_weekly`` (the columns of ``stg_forecast_weekly``), as the
    ``forecast`` and ``inference`` pipelines both write them: ``step`` is whole weeks from
    ``origin``, a quantile missing from ``quantiles`` is NULL."""
    week = pd.to_datetime(pd.Series(np.asarray(week))).astype("datetime64[ns]")
    origin = pd.Timestamp(origin)
    created = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    n = len(week)
    return pd.DataFrame(
        {
            "model_name": model_name,
            "model_version": version,
            "run_id": run_id,
            "origin_date": np.full(n, origin.to_datetime64()).astype("datetime64[ns]"),
            "store_id": np.asarray(store, dtype="int64"),
            "dept_id": np.asarray(dept, dtype="int64"),
            "week_date": week.to_numpy(),
            "step": ((week - origin) // WEEK).astype("int64").to_numpy(),
            "forecast": np.asarray(forecast, dtype=float),
            **{
                quantile_column(q): np.asarray(quantiles.get(q, np.full(n, np.nan)), dtype=float)
                for q in QUANTILES
            },
            "forecast_basis": np.asarray(basis),
            "created_at": created.floor("s"),
        }
    )


def write_table(
    engine: Engine,
    staging: str,
    frame: pd.DataFrame,
    schema_files: Iterable[str | Path],
    upsert_file: str | Path,
    retention_file: str | Path | None = None,
    retention_weeks: int | None = None,
) -> int:
    """Stage ``frame`` into ``retailds.<staging>`` and run ``upsert_file`` (then, if given,
    ``retention_file`` with ``:keep_days`` = 7 x ``retention_weeks``), in ONE transaction
    holding the warehouse's load lock (a failure leaves the tables as they were). Creates the
    schema first. Returns the rows staged."""
    if (retention_file is None) != (retention_weeks is None):
        raise ValueError("retention_file and retention_weeks go together")
    if retention_weeks is not None and (
        isinstance(retention_weeks, bool)
        or not isinstance(retention_weeks, int)
        or retention_weeks < 1
    ):
        raise ValueError(
            f"retention_weeks must be a whole number of weeks >= 1, not {retention_weeks!r}"
        )
    columns = TABLES[staging]
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ValueError(f"{staging}: the frame lacks column(s) {missing}")
    if frame.empty:
        raise InputError(f"Nothing to write to {SCHEMA}.{TARGETS[staging]}: the batch is empty.")
    with engine.begin() as conn:
        warehouse.run_sql_files(conn, schema_files)
    with engine.begin() as conn:
        warehouse.lock_warehouse(conn)
        conn.execute(text(f"DELETE FROM {SCHEMA}.{staging}"))
        warehouse.bulk_load(conn, staging, frame[columns])
        warehouse.run_sql_files(conn, [upsert_file])
        removed = 0
        if retention_file is not None:
            for statement in warehouse.split_sql(Path(retention_file).read_text(encoding="utf-8")):
                removed += max(
                    conn.execute(text(statement), {"keep_days": 7 * retention_weeks}).rowcount, 0
                )
    logger.info(
        "Wrote %d rows to %s.%s (%s)%s",
        len(frame),
        SCHEMA,
        TARGETS[staging],
        engine.dialect.name,
        f"; retention ({retention_weeks} weeks) removed {removed} older rows"
        if retention_file
        else "",
    )
    return len(frame)


def read_sql(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """The rows of a query as a frame (dates as datetime64). On DuckDB the result comes
    columnar (``.df()``), not row by row: 10x faster for the 100k-row reads of a weekly cycle."""
    with engine.connect() as conn:
        if engine.dialect.name == "duckdb" and not params:
            frame = conn.connection.driver_connection.execute(sql).df()
        else:
            result = conn.execute(text(sql), params or {})
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in frame.columns:
        if column in ("date", "origin", "origin_date", "week_date", "as_of_week"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


class WarehouseQueryDataset(AbstractDataset[None, pd.DataFrame]):
    """Read-only: the rows of ``sql`` (or of the one query in ``sql_file``) on the warehouse
    (:func:`read_sql`), like kedro-datasets' ``pandas.SQLQueryDataset`` but columnar on DuckDB
    and with the warehouse's readable lock error.

    Example catalog entry::

        fc_recent_sales:
          type: retail_forecasting.monitoring.store.WarehouseQueryDataset
          credentials: {con: "duckdb:///data/03_primary/warehouse.duckdb"}
          sql: SELECT * FROM retailds.vw_sales_analytics
    """

    def __init__(
        self,
        *,
        credentials: dict[str, Any],
        sql: str | None = None,
        sql_file: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not credentials or "con" not in credentials:
            raise DatasetError(
                "WarehouseQueryDataset needs credentials with a 'con' SQLAlchemy URL"
            )
        if (sql is None) == (sql_file is None):
            raise DatasetError(
                "WarehouseQueryDataset takes one of sql (the query) or sql_file (a file holding it)"
            )
        self._con = credentials["con"]
        self._engine_args = {k: v for k, v in credentials.items() if k != "con"}
        self._sql = sql
        self._sql_file = sql_file
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"dialect": self._con.split(":", 1)[0], "sql": self._sql, "sql_file": self._sql_file}

    def _query(self) -> str:
        if self._sql is not None:
            return self._sql
        statements = warehouse.split_sql(Path(self._sql_file).read_text(encoding="utf-8"))
        if len(statements) != 1:
            raise DatasetError(
                f"{self._sql_file} must hold exactly one query, not {len(statements)}"
            )
        return statements[0]

    def load(self) -> pd.DataFrame:
        query = self._query()
        engine = create_engine(self._con, **self._engine_args)
        try:
            return read_sql(engine, query)
        except Exception as exc:
            warehouse.raise_if_locked(exc)
            raise
        finally:
            engine.dispose()

    def save(self, data: None) -> None:
        raise DatasetError("WarehouseQueryDataset is read-only")


class WarehouseTableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A warehouse table written by upsert and read by a query, on any engine of the project.

    ``save(frame)`` stages the frame (columns of :data:`TABLES` ``[staging]``) and runs
    ``upsert_file`` (and ``retention_file`` with ``retention_weeks``, if set) in one transaction
    (:func:`write_table`); ``load()`` runs ``load_sql``.

    Example catalog entry::

        fc_forecast_table:
          type: retail_forecasting.monitoring.store.WarehouseTableDataset
          credentials: {con: "duckdb:///data/03_primary/warehouse.duckdb"}
          staging: stg_forecast_weekly
          schema_files: [sql/01_create_schema.sql, sql/05_forecasts_and_monitoring.sql]
          upsert_file: sql/06_upsert_forecasts_from_staging.sql
          load_sql: SELECT * FROM retailds.fact_forecast_weekly
          retention_file: sql/08_forecast_retention.sql   # optional, with retention_weeks
          retention_weeks: 26
    """

    def __init__(
        self,
        *,
        credentials: dict[str, Any],
        staging: str,
        schema_files: list[str],
        upsert_file: str,
        load_sql: str,
        retention_file: str | None = None,
        retention_weeks: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not credentials or "con" not in credentials:
            raise DatasetError(
                "WarehouseTableDataset needs credentials with a 'con' SQLAlchemy URL"
            )
        if staging not in TABLES:
            raise DatasetError(f"staging must be one of {sorted(TABLES)}, not {staging!r}")
        self._con = credentials["con"]
        self._engine_args = {k: v for k, v in credentials.items() if k != "con"}
        self._staging = staging
        self._schema_files = [Path(f) for f in schema_files]
        self._upsert_file = Path(upsert_file)
        self._load_sql = load_sql
        if (retention_file is None) != (retention_weeks is None):
            raise DatasetError(
                "retention_file and retention_weeks go together (or neither: keep every row)"
            )
        self._retention_file = Path(retention_file) if retention_file else None
        self._retention_weeks = retention_weeks
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "dialect": self._con.split(":", 1)[0],
            "staging": self._staging,
            "upsert_file": str(self._upsert_file),
            "retention_weeks": self._retention_weeks,
        }

    def _engine(self) -> Engine:
        if self._con.startswith("duckdb:///"):
            Path(self._con.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(self._con, **self._engine_args)

    def _guard(self, action, *args):
        engine = self._engine()
        try:
            return action(engine, *args)
        except InputError:
            raise
        except Exception as exc:
            warehouse.raise_if_locked(exc)
            raise DatasetError(
                f"{SCHEMA}.{TARGETS[self._staging]} ({engine.dialect.name}): {exc}"
            ) from exc
        finally:
            engine.dispose()

    def save(self, data: pd.DataFrame) -> None:
        self._guard(
            write_table,
            self._staging,
            data,
            self._schema_files,
            self._upsert_file,
            self._retention_file,
            self._retention_weeks,
        )

    def load(self) -> pd.DataFrame:
        return self._guard(read_sql, self._load_sql)


class ChampionBacktestDataset(AbstractDataset[None, pd.DataFrame]):
    """Read-only: the rolling-origin backtest frame of the champion the evaluation chose.

    Reads ``champion_filepath`` (``champion.json``: ``champion`` and ``families``) and loads the
    one backtest frame holding that model's column: ``baseline_filepath`` for a baseline,
    ``model_filepath`` (``{model}`` replaced by its name) otherwise. The frame's
    ``attrs["model"]`` names the column. Paths may be fsspec URLs (``--env sagemaker``).
    """

    def __init__(
        self,
        *,
        champion_filepath: str,
        model_filepath: str,
        baseline_filepath: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._champion = champion_filepath
        self._model = model_filepath
        self._baseline = baseline_filepath
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "champion_filepath": self._champion,
            "model_filepath": self._model,
            "baseline_filepath": self._baseline,
        }

    def load(self) -> pd.DataFrame:
        import json

        import fsspec

        try:
            with fsspec.open(self._champion, "r") as handle:
                champion = json.load(handle)
        except FileNotFoundError as exc:
            raise InputError(
                f"{self._champion} is missing: monitoring compares with the backtest of the "
                "champion the evaluation chose; run `kedro run` (training) first."
            ) from exc
        name = champion["champion"]
        family = champion.get("families", {}).get(name)
        path = self._baseline if family == "baseline" else self._model.format(model=name)
        frame = pd.read_parquet(path)
        frame.attrs["model"] = name
        return frame

    def save(self, data: None) -> None:
        raise DatasetError("ChampionBacktestDataset is read-only")

    def _exists(self) -> bool:
        return Path(self._champion).exists() if "://" not in self._champion else True
