"""Warehouse loading shared by the ingestion pipeline, the Glue job and the ETL Lambdas.

The schema lives in ``sql/``; the same files run on PostgreSQL and on the embedded DuckDB file.
A batch is loaded the way the original ETL did it: pre-load cleanup of the staging tables,
bulk load into staging (a ``COPY`` streamed in chunks on PostgreSQL, a zero-copy
``INSERT ... SELECT`` from the frame on DuckDB), then the post-load step :func:`apply_staged`
— all in ONE transaction, so a failure anywhere leaves the previous contents untouched.

:func:`apply_staged` is the one place where the load semantics live (see :class:`LoadPolicy`):

* ``incremental``: staged rows are inserted or updated (``sql/03_upsert_from_staging.sql``);
  nothing is deleted. For a file of new or corrected weeks.
* ``mirror`` (default): the same upsert, then facts and store-weeks absent from the batch are
  deleted (``sql/04_delete_absent_from_staging.sql``), so the warehouse holds exactly the batch.
  A mirror load that would delete more than ``max_delete_share`` of the fact or store-week rows,
  or every row of a store, is refused before anything is written unless ``allow_shrink``.

An empty batch is always refused.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import Connection, Engine, text

from retail_forecasting.errors import LoadRefused, RunLocked
from retail_forecasting.kaggle.schema import PANEL_COVARIATES

logger = logging.getLogger(__name__)

SCHEMA = "retailds"

#: Staging tables in load order, with their columns (the frames must carry exactly these).
STAGING_COLUMNS: dict[str, list[str]] = {
    "stg_store": ["store_id", "store_type", "store_size"],
    "stg_store_features_weekly": [
        "store_id",
        "week_date",
        *PANEL_COVARIATES,
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

#: The mirror step's SQL, next to the upsert file.
MIRROR_DELETE_FILE = "04_delete_absent_from_staging.sql"

#: PostgreSQL advisory lock key: one load at a time per warehouse (any client, any host).
ADVISORY_LOCK_KEY = 0x7265_7461_696C  # "retail"


@dataclass(frozen=True)
class LoadPolicy:
    """How a batch changes the warehouse (``ingestion.load`` in ``parameters_ingestion.yml``)."""

    mode: Literal["mirror", "incremental"] = "mirror"
    allow_shrink: bool = False
    max_delete_share: float = 0.05

    def __post_init__(self) -> None:
        if self.mode not in ("mirror", "incremental"):
            raise ValueError(f"load mode must be 'mirror' or 'incremental', not {self.mode!r}")
        if not 0.0 <= self.max_delete_share <= 1.0:
            raise ValueError(f"max_delete_share must be within [0, 1], not {self.max_delete_share}")


@dataclass
class WarehouseBatch:
    """The staging frames (:data:`STAGING_COLUMNS`) and the policy to load them with."""

    tables: dict[str, pd.DataFrame]
    policy: LoadPolicy = field(default_factory=LoadPolicy)


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


#: Rows encoded per piece of a PostgreSQL ``COPY`` (:class:`CsvChunks`): about 4 MB of CSV.
COPY_CHUNK_ROWS = 50_000


class CsvChunks(io.TextIOBase):
    """A read-only text file over ``frame`` as CSV, encoded ``chunk_rows`` rows at a time.

    ``copy_expert`` reads it piece by piece, so the CSV text held at once is one chunk (plus a
    read's tail), not the whole frame; the bytes are those of ``frame.to_csv`` in one go.
    ``chunks`` counts the chunks encoded so far.
    """

    def __init__(self, frame: pd.DataFrame, chunk_rows: int = COPY_CHUNK_ROWS) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
        self._frame = frame
        self._starts = iter(range(0, len(frame), chunk_rows))
        self._chunk_rows = chunk_rows
        self._buffer = ""
        self._pos = 0
        self.chunks = 0

    def readable(self) -> bool:
        return True

    def _encode_next(self) -> bool:
        start = next(self._starts, None)
        if start is None:
            return False
        piece = self._frame.iloc[start : start + self._chunk_rows].to_csv(
            index=False, header=False, na_rep="", date_format="%Y-%m-%d"
        )
        self._buffer = self._buffer[self._pos :] + piece
        self._pos = 0
        self.chunks += 1
        return True

    def read(self, size: int | None = -1) -> str:
        whole = size is None or size < 0
        while (whole or len(self._buffer) - self._pos < size) and self._encode_next():
            pass
        end = len(self._buffer) if whole else self._pos + size
        out = self._buffer[self._pos : end]
        self._pos += len(out)
        return out


def _copy_postgres(
    conn: Connection, table: str, frame: pd.DataFrame, chunk_rows: int = COPY_CHUNK_ROWS
) -> None:
    source = CsvChunks(frame, chunk_rows)
    columns = ", ".join(frame.columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(
            f"COPY {SCHEMA}.{table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '')",
            source,
            size=1 << 16,
        )
    finally:
        cursor.close()
    logger.debug("COPY into %s.%s streamed in %d chunk(s)", SCHEMA, table, source.chunks)


def _insert_duckdb(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    raw = conn.connection.dbapi_connection
    columns = ", ".join(frame.columns)
    raw.register("_staging_batch", frame)
    raw.execute(f"INSERT INTO {SCHEMA}.{table} ({columns}) SELECT {columns} FROM _staging_batch")
    raw.unregister("_staging_batch")  # on failure the connection is rolled back and discarded


def bulk_load(
    conn: Connection, table: str, frame: pd.DataFrame, *, chunk_rows: int = COPY_CHUNK_ROWS
) -> None:
    """Append ``frame`` to ``retailds.<table>`` with the dialect's bulk path.

    PostgreSQL: one ``COPY ... FROM STDIN`` fed ``chunk_rows`` rows of CSV at a time
    (:class:`CsvChunks`). DuckDB: ``INSERT ... SELECT`` from the registered frame, which DuckDB
    scans in place (no copy, no text).
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        _copy_postgres(conn, table, frame, chunk_rows)
    elif dialect == "duckdb":
        _insert_duckdb(conn, table, frame)
    else:  # any other SQLAlchemy dialect: batched multi-row INSERTs
        frame.to_sql(table, conn, schema=SCHEMA, if_exists="append", index=False, chunksize=10_000)


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
    batch: Mapping[str, pd.DataFrame] | WarehouseBatch,
    schema_files: Iterable[str | Path],
    upsert_file: str | Path,
    *,
    copy_chunk_rows: int = COPY_CHUNK_ROWS,
) -> dict[str, int]:
    """Create the schema if needed, then stage and apply ``batch`` in one transaction.

    A plain mapping of staging frames is loaded with the default :class:`LoadPolicy`;
    ``copy_chunk_rows`` is the PostgreSQL COPY's chunk (:func:`bulk_load`).
    Returns the row counts of the warehouse relations after the commit.
    """
    if not isinstance(batch, WarehouseBatch):
        batch = WarehouseBatch(dict(batch))
    tables = batch.tables
    check_batch(tables)
    started = time.perf_counter()
    with engine.begin() as conn:
        run_sql_files(conn, schema_files)
    with engine.begin() as conn:
        lock_warehouse(conn)
        clear_staging(conn)  # pre-load cleanup: a failed earlier load left nothing
        for table, columns in STAGING_COLUMNS.items():
            bulk_load(conn, table, tables[table][columns], chunk_rows=copy_chunk_rows)
            logger.info("Staged %d rows into %s.%s", len(tables[table]), SCHEMA, table)
        counts = apply_staged(conn, upsert_file, batch.policy)
    logger.info(
        "Warehouse load committed in %.1f s (%s): %s",
        time.perf_counter() - started,
        engine.dialect.name,
        counts,
    )
    return counts


def clear_staging(conn: Connection) -> None:
    """Empty the staging tables (inside the caller's transaction)."""
    for table in STAGING_COLUMNS:
        conn.execute(text(f"DELETE FROM {SCHEMA}.{table}"))


def staging_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the staging tables."""
    return {
        table: int(conn.execute(text(f"SELECT COUNT(*) FROM {SCHEMA}.{table}")).scalar_one())
        for table in STAGING_COLUMNS
    }


def lock_warehouse(conn: Connection) -> None:
    """Hold the warehouse's load lock until the transaction ends, or refuse at once.

    PostgreSQL: a transaction-level advisory lock, so two loads from any client never
    interleave. DuckDB: the file itself is locked by its one writer process (see
    :func:`describe_lock_error`).
    """
    if conn.dialect.name != "postgresql":
        return
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    if got.scalar_one():
        return
    holders = (
        conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :k"
            ),
            {"k": ADVISORY_LOCK_KEY},
        )
        .scalars()
        .all()
    )
    raise RunLocked(
        f"Another load into this warehouse is in progress (PostgreSQL backend PID "
        f"{', '.join(map(str, holders)) or 'unknown'}). Nothing was written. Wait for it to "
        "finish, or stop it (SELECT pg_cancel_backend(<pid>)) and run again."
    )


_DUCKDB_LOCK = re.compile(r"Could not set lock on file \"([^\"]+)\".*?PID (\d+)", re.S)


def describe_lock_error(exc: BaseException) -> str | None:
    """A readable message for DuckDB's 'file is locked by another process' error, else None."""
    match = _DUCKDB_LOCK.search(str(exc))
    if match is None:
        return None
    return (
        f"The warehouse file {match.group(1)} is in use by another process (PID "
        f"{match.group(2)}): another `kedro run`, a notebook or a DuckDB shell. Nothing was "
        "written. Close it or wait for that run to finish, then run again."
    )


def raise_if_locked(exc: BaseException) -> None:
    """Raise :class:`RunLocked` (from ``exc``) when ``exc`` is DuckDB's file-lock error; the
    one translation every warehouse reader and writer uses."""
    locked = describe_lock_error(exc)
    if locked:
        raise RunLocked(locked) from exc


@dataclass(frozen=True)
class DeletionPlan:
    """What a mirror load would delete: per-store fact rows, store-week rows, totals."""

    facts_before: int
    facts_deleted: int
    features_before: int
    features_deleted: int
    vanishing_stores: tuple[int, ...]
    facts_deleted_by_store: dict[int, int]

    def share(self, deleted: int, before: int) -> float:
        return deleted / before if before else 0.0


def plan_mirror_deletions(conn: Connection) -> DeletionPlan:
    """Count, before any write, what ``sql/04_delete_absent_from_staging.sql`` would delete."""
    before = dict(
        conn.execute(
            text(f"SELECT store_id, COUNT(*) FROM {SCHEMA}.fact_sales_weekly GROUP BY store_id")
        ).all()
    )
    deleted = dict(
        conn.execute(
            text(
                f"SELECT t.store_id, COUNT(*) FROM {SCHEMA}.fact_sales_weekly AS t "
                f"WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.stg_sales_weekly AS s "
                "WHERE s.store_id = t.store_id AND s.dept_id = t.dept_id "
                "AND s.week_date = t.week_date) GROUP BY t.store_id"
            )
        ).all()
    )
    features_before = int(
        conn.execute(text(f"SELECT COUNT(*) FROM {SCHEMA}.store_features_weekly")).scalar_one()
    )
    features_deleted = int(
        conn.execute(
            text(
                f"SELECT COUNT(*) FROM {SCHEMA}.store_features_weekly AS t "
                f"WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.stg_store_features_weekly AS s "
                "WHERE s.store_id = t.store_id AND s.week_date = t.week_date)"
            )
        ).scalar_one()
    )
    vanishing = tuple(sorted(int(s) for s, n in deleted.items() if n == before.get(s)))
    return DeletionPlan(
        facts_before=int(sum(before.values())),
        facts_deleted=int(sum(deleted.values())),
        features_before=features_before,
        features_deleted=features_deleted,
        vanishing_stores=vanishing,
        facts_deleted_by_store={int(s): int(n) for s, n in sorted(deleted.items())},
    )


HOW_TO_SHRINK = (
    "If this is on purpose, run again with `--params ingestion.load.allow_shrink=true` "
    "(the warehouse then mirrors this batch); to add or correct weeks without deleting "
    "anything, use `--params ingestion.load.mode=incremental`."
)


def check_shrink(plan: DeletionPlan, policy: LoadPolicy) -> None:
    """Refuse a mirror load that deletes too much (see :class:`LoadPolicy`)."""
    if policy.mode != "mirror" or policy.allow_shrink:
        return
    fact_share = plan.share(plan.facts_deleted, plan.facts_before)
    feature_share = plan.share(plan.features_deleted, plan.features_before)
    problems = []
    if fact_share > policy.max_delete_share:
        problems.append(
            f"{plan.facts_deleted:,} of {plan.facts_before:,} rows of {SCHEMA}.fact_sales_weekly "
            f"({fact_share:.1%})"
        )
    if feature_share > policy.max_delete_share:
        problems.append(
            f"{plan.features_deleted:,} of {plan.features_before:,} rows of "
            f"{SCHEMA}.store_features_weekly ({feature_share:.1%})"
        )
    if plan.vanishing_stores:
        shown = ", ".join(map(str, plan.vanishing_stores[:10]))
        more = (
            ""
            if len(plan.vanishing_stores) <= 10
            else f" and {len(plan.vanishing_stores) - 10} more"
        )
        problems.append(f"every sales row of {len(plan.vanishing_stores)} store(s) ({shown}{more})")
    if problems:
        raise LoadRefused(
            "Load refused: this batch lacks rows the warehouse holds, and a mirror load would "
            f"delete {'; '.join(problems)} (limit {policy.max_delete_share:.0%} of a table, no "
            f"store removed). Nothing was written. {HOW_TO_SHRINK}"
        )


def apply_staged(conn: Connection, upsert_file: str | Path, policy: LoadPolicy) -> dict[str, int]:
    """Move the staged batch into the warehouse by ``policy``, inside the caller's transaction.

    Refuses (:class:`LoadRefused`, before any warehouse table is written) an empty batch and a
    mirror load that would shrink the warehouse beyond the policy. Empties staging at the end
    and returns the warehouse row counts.
    """
    staged = staging_counts(conn)
    empty = sorted(table for table, rows in staged.items() if rows == 0)
    if empty:
        raise LoadRefused(
            f"Load refused: the batch is empty (staging table(s) {empty} hold no rows; staged "
            f"{staged}). Nothing was written: an empty batch never replaces the warehouse. "
            "Check that train.csv, features.csv and stores.csv have rows below their header."
        )
    plan = None
    if policy.mode == "mirror":
        plan = plan_mirror_deletions(conn)
        check_shrink(plan, policy)
    run_sql_files(conn, [upsert_file])
    if plan is not None and (plan.facts_deleted or plan.features_deleted):
        run_sql_files(conn, [Path(upsert_file).with_name(MIRROR_DELETE_FILE)])
        logger.warning(
            "Mirror load deleted %d fact rows (%s) and %d store-week rows absent from the batch",
            plan.facts_deleted,
            plan.facts_deleted_by_store,
            plan.features_deleted,
        )
    clear_staging(conn)
    return relation_counts(conn)


def relation_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the warehouse tables and the analytics view."""
    return {
        relation: int(conn.execute(text(f"SELECT COUNT(*) FROM {SCHEMA}.{relation}")).scalar_one())
        for relation in COUNTED_RELATIONS
    }
