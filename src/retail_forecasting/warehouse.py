"""Warehouse loading shared by the ingestion pipeline (and, later, the ETL Lambdas/Glue job).

The schema lives in ``sql/``; the same files run on PostgreSQL and on the embedded DuckDB file.
A batch is loaded the way the original ETL did it: pre-load cleanup of the staging tables,
bulk load into staging (``COPY`` on PostgreSQL, a zero-copy ``INSERT ... SELECT`` from the
frame on DuckDB), then the post-load upsert (``sql/03_upsert_from_staging.sql``) — all in ONE
transaction, so a failure anywhere leaves the previous contents untouched.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, text

logger = logging.getLogger(__name__)

SCHEMA = "retailds"

#: Staging tables in load order, with their columns (the frames must carry exactly these).
STAGING_COLUMNS: dict[str, list[str]] = {
    "stg_store": ["store_id", "store_type", "store_size"],
    "stg_store_features_weekly": [
        "store_id",
        "week_date",
        "temperature",
        "fuel_price",
        "markdown1",
        "markdown2",
        "markdown3",
        "markdown4",
        "markdown5",
        "cpi",
        "unemployment",
        "is_holiday",
    ],
    "stg_sales_weekly": ["store_id", "dept_id", "week_date", "weekly_sales", "is_holiday"],
}

#: Tables and view whose row counts describe the warehouse state.
COUNTED_RELATIONS = (
    "dim_store",
    "dim_dept",
    "store_features_weekly",
    "fact_sales_weekly",
    "vw_sales_analytics",
)

_COMMENT = re.compile(r"--[^\n]*")


def split_sql(script: str) -> list[str]:
    """Split a SQL script into statements (``--`` comments removed; no ``;`` inside literals)."""
    without_comments = _COMMENT.sub("", script)
    return [statement.strip() for statement in without_comments.split(";") if statement.strip()]


def run_sql_files(conn: Connection, files: Iterable[str | Path]) -> None:
    """Execute every statement of the given SQL files on ``conn`` (no commit)."""
    for file in files:
        for statement in split_sql(Path(file).read_text(encoding="utf-8")):
            conn.execute(text(statement))


def _copy_postgres(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="", date_format="%Y-%m-%d")
    buffer.seek(0)
    columns = ", ".join(frame.columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(
            f"COPY {SCHEMA}.{table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')", buffer
        )
    finally:
        cursor.close()


def _insert_duckdb(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    raw = conn.connection.dbapi_connection
    columns = ", ".join(frame.columns)
    raw.register("_staging_batch", frame)
    raw.execute(f"INSERT INTO {SCHEMA}.{table} ({columns}) SELECT {columns} FROM _staging_batch")
    raw.unregister("_staging_batch")  # on failure the connection is rolled back and discarded


def bulk_load(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """Append ``frame`` to ``retailds.<table>`` with the dialect's bulk path."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        _copy_postgres(conn, table, frame)
    elif dialect == "duckdb":
        _insert_duckdb(conn, table, frame)
    else:  # any other SQLAlchemy dialect: batched multi-row INSERTs
        frame.to_sql(
            table, conn, schema=SCHEMA, if_exists="append", index=False, chunksize=10_000
        )


def check_batch(batch: Mapping[str, pd.DataFrame]) -> None:
    """Raise ``ValueError`` unless ``batch`` holds exactly the staging frames and columns."""
    missing = set(STAGING_COLUMNS) - set(batch)
    extra = set(batch) - set(STAGING_COLUMNS)
    if missing or extra:
        raise ValueError(
            f"Warehouse batch must hold {sorted(STAGING_COLUMNS)}; "
            f"missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    for table, columns in STAGING_COLUMNS.items():
        if list(batch[table].columns) != columns:
            raise ValueError(
                f"Warehouse batch {table!r} has columns {list(batch[table].columns)}, "
                f"expected {columns}"
            )


def load_batch(
    engine: Engine,
    batch: Mapping[str, pd.DataFrame],
    schema_files: Iterable[str | Path],
    upsert_file: str | Path,
) -> dict[str, int]:
    """Create the schema if needed, then stage and upsert ``batch`` in one transaction.

    Returns the row counts of the warehouse relations after the commit.
    """
    check_batch(batch)
    started = time.perf_counter()
    with engine.begin() as conn:
        run_sql_files(conn, schema_files)
    with engine.begin() as conn:
        for table in STAGING_COLUMNS:  # pre-load cleanup: a failed earlier load left nothing
            conn.execute(text(f"DELETE FROM {SCHEMA}.{table}"))
        for table, columns in STAGING_COLUMNS.items():
            bulk_load(conn, table, batch[table][columns])
            logger.info("Staged %d rows into %s.%s", len(batch[table]), SCHEMA, table)
        run_sql_files(conn, [upsert_file])
        counts = relation_counts(conn)
    logger.info(
        "Warehouse load committed in %.1f s (%s): %s",
        time.perf_counter() - started,
        engine.dialect.name,
        counts,
    )
    return counts


def relation_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the warehouse tables and the analytics view."""
    return {
        relation: int(conn.execute(text(f"SELECT COUNT(*) FROM {SCHEMA}.{relation}")).scalar_one())
        for relation in COUNTED_RELATIONS
    }
