"""The warehouse as a Kedro dataset: save = staged load of a batch, load = row counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from retail_forecasting import warehouse
from retail_forecasting.errors import InputError, RunLocked


class WarehouseDataset(AbstractDataset[warehouse.WarehouseBatch, dict[str, int]]):
    """The ``retailds`` warehouse, PostgreSQL or embedded DuckDB, behind one SQLAlchemy URL.

    ``save(batch)`` takes a :class:`retail_forecasting.warehouse.WarehouseBatch` (the staging
    frames of :data:`~retail_forecasting.warehouse.STAGING_COLUMNS` and the load policy; a plain
    dict of frames gets the default policy), creates the schema from ``schema_files`` if needed
    and runs the bulk load and :func:`~retail_forecasting.warehouse.apply_staged` in a single
    transaction. A refused load (empty batch, surprise shrink, another load running) raises
    its :class:`~retail_forecasting.errors.InputError` and writes nothing. ``load()`` returns the row counts of the tables and the
    analytics view, for the post-load validation node.

    Example catalog entry::

        warehouse:
          type: retail_forecasting.datasets.WarehouseDataset
          credentials: {con: "duckdb:///data/03_primary/warehouse.duckdb"}
          schema_files: [sql/01_create_schema.sql, sql/02_create_analytics_view.sql]
          upsert_file: sql/03_upsert_from_staging.sql
    """

    def __init__(
        self,
        *,
        credentials: dict[str, Any],
        schema_files: list[str],
        upsert_file: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not credentials or "con" not in credentials:
            raise DatasetError("WarehouseDataset needs credentials with a 'con' SQLAlchemy URL")
        self._con = credentials["con"]
        self._engine_args = {k: v for k, v in credentials.items() if k != "con"}
        self._schema_files = [Path(f) for f in schema_files]
        self._upsert_file = Path(upsert_file)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        # never the URL: it may hold a password
        return {
            "dialect": self._con.split(":", 1)[0],
            "schema_files": [str(f) for f in self._schema_files],
            "upsert_file": str(self._upsert_file),
        }

    def _engine(self):
        if self._con.startswith("duckdb:///"):
            Path(self._con.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(self._con, **self._engine_args)

    def save(self, data: warehouse.WarehouseBatch | dict[str, pd.DataFrame]) -> None:
        engine = self._engine()
        try:
            warehouse.load_batch(engine, data, self._schema_files, self._upsert_file)
        except InputError:
            raise
        except Exception as exc:  # SQLAlchemy, DBAPI (COPY) or DuckDB errors alike
            locked = warehouse.describe_lock_error(exc)
            if locked:
                raise RunLocked(locked) from exc
            raise DatasetError(
                f"Warehouse load failed and was rolled back ({engine.dialect.name}): {exc}"
            ) from exc
        finally:
            engine.dispose()

    def load(self) -> dict[str, int]:
        engine = self._engine()
        try:
            with engine.connect() as conn:
                return warehouse.relation_counts(conn)
        except Exception as exc:
            locked = warehouse.describe_lock_error(exc)
            if locked:
                raise RunLocked(locked) from exc
            raise
        finally:
            engine.dispose()

    def _exists(self) -> bool:
        engine = self._engine()
        try:
            return inspect(engine).has_table("fact_sales_weekly", schema=warehouse.SCHEMA)
        except SQLAlchemyError:
            return False
        finally:
            engine.dispose()
