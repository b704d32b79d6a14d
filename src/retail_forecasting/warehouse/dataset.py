"""The warehouse as a Kedro dataset: save = staged load of a batch, load = row counts."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from retail_forecasting import warehouse
from retail_forecasting.errors import InputError

logger = logging.getLogger(__name__)

#: The database connected to for ``CREATE DATABASE`` when the warehouse's does not exist yet.
ADMIN_DB_ENV = "DB_ADMIN_DB"


class WarehouseUnavailable(InputError):
    """The PostgreSQL warehouse cannot be reached, or its database cannot be created."""


def ensure_postgres_database(con: str, engine_args: dict[str, Any] | None = None) -> bool:
    """Make sure the PostgreSQL database of ``con`` exists; create it if the server allows.

    Returns whether it was created. Other URLs (DuckDB) are left alone. A server that cannot
    be reached, refused credentials, or a database that does not exist and cannot be created
    (no ``CREATEDB`` privilege) raise :class:`WarehouseUnavailable` saying which server, user
    and database, and what to do; nothing has been written then.
    """
    url = make_url(con)
    if not url.drivername.startswith("postgresql"):
        return False
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    engine = create_engine(url, **(engine_args or {}))
    try:
        with engine.connect():
            return False
    except OperationalError as exc:
        reason = " ".join(line.strip() for line in str(exc.orig or exc).strip().splitlines())
        reason = reason if reason.endswith((".", "?")) else reason + "."
        if f'database "{url.database}" does not exist' not in str(exc.orig):
            raise WarehouseUnavailable(
                f"Cannot connect to the PostgreSQL warehouse {url.database!r} at {where} as user "
                f"{url.username!r}: {reason} Check that the server runs and the DB_HOST, DB_PORT, "
                "DB_USER and DB_PASSWORD variables (or conf/local/credentials.yml, or the "
                "RDS_SECRET_NAME secret) are right; nothing was written."
            ) from exc
    finally:
        engine.dispose()

    admin_db = os.environ.get(ADMIN_DB_ENV) or "postgres"
    admin = create_engine(
        url.set(database=admin_db), isolation_level="AUTOCOMMIT", **(engine_args or {})
    )
    try:
        with admin.connect() as conn:
            name = conn.dialect.identifier_preparer.quote(url.database)
            conn.execute(text(f"CREATE DATABASE {name}"))
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        if detail and "already exists" in detail[0]:  # created meanwhile by another process
            return False
        raise WarehouseUnavailable(
            f"The PostgreSQL database {url.database!r} does not exist on {where}, and user "
            f"{url.username!r} could not create it ({detail[0] if detail else exc}). "
            "Create it once "
            f"(createdb -h {url.host or 'localhost'} -p {url.port or 5432} -U <admin> "
            f"{url.database}, or CREATE DATABASE {url.database}; in psql) or set DB_NAME to an "
            "existing database, then run again; nothing was written."
        ) from exc
    finally:
        admin.dispose()
    logger.info("Created the PostgreSQL database %r on %s (it did not exist)", url.database, where)
    return True


class WarehouseDataset(AbstractDataset[warehouse.WarehouseBatch, dict[str, int]]):
    """The ``retailds`` warehouse, PostgreSQL or embedded DuckDB, behind one SQLAlchemy URL.

    ``save(batch)`` takes a :class:`retail_forecasting.warehouse.WarehouseBatch` (the staging
    frames of :data:`~retail_forecasting.warehouse.STAGING_COLUMNS` and the load policy; a plain
    dict of frames gets the default policy), creates the schema from ``schema_files`` if needed
    and runs the bulk load and :func:`~retail_forecasting.warehouse.apply_staged` in a single
    transaction. A refused load (empty batch, surprise shrink, another load running) raises
    its :class:`~retail_forecasting.errors.InputError` and writes nothing. ``load()`` returns the
    row counts of the tables and the
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
        ensure_postgres_database(self._con, self._engine_args)
        engine = self._engine()
        try:
            warehouse.load_batch(engine, data, self._schema_files, self._upsert_file)
        except InputError:
            raise
        except Exception as exc:  # SQLAlchemy, DBAPI (COPY) or DuckDB errors alike
            warehouse.raise_if_locked(exc)
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
            warehouse.raise_if_locked(exc)
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
