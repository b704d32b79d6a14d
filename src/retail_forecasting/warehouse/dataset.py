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
    analytics view, for the post-load validation node. ``copy_chunk_rows``: rows of CSV
    encoded at a time for PostgreSQL's ``COPY`` (:class:`~retail_forecasting.warehouse.CsvChunks`).

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
        copy_chunk_rows: int = warehouse.COPY_CHUNK_ROWS,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not credentials or "con" not in credentials:
            raise DatasetError("WarehouseDataset needs credentials with a 'con' SQLAlchemy URL")
        self._con = credentials["con"]
        self._engine_args = {k: v for k, v in credentials.items() if k != "con"}
        self._schema_files = [Path(f) for f in schema_files]
        self._upsert_file = Path(upsert_file)
        self._copy_chunk_rows = int(copy_chunk_rows)
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
            warehouse.load_batch(
                engine,
                data,
                self._schema_files,
                self._upsert_file,
                copy_chunk_rows=self._copy_chunk_rows,
            )
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


#: Rows fetched per chunk by :class:`ChunkedQueryDataset`.
READ_CHUNK_ROWS = 100_000


def _compact(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Cast one chunk's columns to ``dtypes`` (dates via ``pd.to_datetime``)."""
    for column, dtype in dtypes.items():
        if column not in frame.columns:
            continue
        if str(dtype).startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column]).astype(dtype)
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack the chunks; a categorical column keeps one dtype (the union of the categories)."""
    if not chunks:
        return pd.DataFrame()
    for column in chunks[0].columns:
        if isinstance(chunks[0][column].dtype, pd.CategoricalDtype):
            union = sorted(set().union(*(chunk[column].cat.categories for chunk in chunks)))
            for chunk in chunks:
                chunk[column] = chunk[column].cat.set_categories(union)
    frame = pd.concat(chunks, ignore_index=True)
    chunks.clear()
    return frame


class ChunkedQueryDataset(AbstractDataset[None, pd.DataFrame]):
    """A query on the warehouse read in chunks into a frame with compact dtypes (read-only).

    Like kedro-datasets' ``pandas.SQLQueryDataset`` (``sql`` and ``credentials: {con: ...}``),
    but the result never exists whole in a second form: PostgreSQL streams it through a
    server-side cursor (SQLAlchemy ``stream_results``) ``chunk_rows`` rows at a time, DuckDB
    through an Arrow ``RecordBatchReader``; each chunk is cast to ``dtypes`` (for example
    ``int32``, ``category``, ``datetime64[ns]``) before the next is fetched, and the chunks are
    stacked at the end. Same rows, order and values as one ``read_sql``, in the given dtypes.

    Example catalog entry::

        prm_sales_analytics:
          type: retail_forecasting.warehouse.dataset.ChunkedQueryDataset
          credentials: warehouse_db
          sql: SELECT * FROM retailds.vw_sales_analytics ORDER BY store, dept, date
          dtypes: {store: int32, store_type: category, date: "datetime64[ns]"}
    """

    def __init__(
        self,
        *,
        sql: str,
        credentials: dict[str, Any],
        dtypes: dict[str, str] | None = None,
        chunk_rows: int = READ_CHUNK_ROWS,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not credentials or "con" not in credentials:
            raise DatasetError("ChunkedQueryDataset needs credentials with a 'con' SQLAlchemy URL")
        if chunk_rows < 1:
            raise DatasetError(f"ChunkedQueryDataset chunk_rows must be >= 1, not {chunk_rows}")
        self._sql = sql
        self._con = credentials["con"]
        self._engine_args = {k: v for k, v in credentials.items() if k != "con"}
        self._dtypes = dict(dtypes or {})
        self._chunk_rows = int(chunk_rows)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "dialect": self._con.split(":", 1)[0],
            "sql": self._sql,
            "dtypes": self._dtypes,
            "chunk_rows": self._chunk_rows,
        }

    def _chunks_duckdb(self, conn) -> list[pd.DataFrame]:
        raw = conn.connection.dbapi_connection
        chunks = []
        with raw.sql(self._sql).to_arrow_reader(batch_size=self._chunk_rows) as reader:
            columns = reader.schema.names
            for batch in reader:
                chunks.append(_compact(batch.to_pandas(date_as_object=False), self._dtypes))
        return chunks or [_compact(pd.DataFrame(columns=columns), self._dtypes)]

    def _chunks_sql(self, conn) -> list[pd.DataFrame]:
        streamed = conn.execution_options(stream_results=True, max_row_buffer=self._chunk_rows)
        return [
            _compact(chunk, self._dtypes)
            for chunk in pd.read_sql(text(self._sql), streamed, chunksize=self._chunk_rows)
        ]

    def load(self) -> pd.DataFrame:
        engine = create_engine(self._con, **self._engine_args)
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "duckdb":
                    chunks = self._chunks_duckdb(conn)
                else:
                    chunks = self._chunks_sql(conn)
        except Exception as exc:
            warehouse.raise_if_locked(exc)
            raise
        finally:
            engine.dispose()
        logger.info(
            "Read %d rows in %d chunk(s) of up to %d from the warehouse",
            sum(len(chunk) for chunk in chunks),
            len(chunks),
            self._chunk_rows,
        )
        return _concat(chunks)

    def save(self, data: None) -> None:
        raise DatasetError("ChunkedQueryDataset is read-only")
