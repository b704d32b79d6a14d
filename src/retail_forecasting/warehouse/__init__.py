"""The warehouse: one home for loading it, its Kedro dataset and its credentials.

- :mod:`~retail_forecasting.warehouse.load` — the load itself, shared by the ingestion
  pipeline, the Glue job and the ETL Lambdas: bulk load into staging and :func:`apply_staged`
  in one transaction, the load policy (:class:`LoadPolicy`), the lock and lock-error messages.
  Needs pandas and SQLAlchemy only (what the Glue job and the Lambdas install).
- :mod:`~retail_forecasting.warehouse.dataset` — ``WarehouseDataset``, the catalog entry
  ``warehouse`` (declared ``type: retail_forecasting.datasets.WarehouseDataset``; needs Kedro),
  and ``ChunkedQueryDataset``, the analytics view read in chunks into compact dtypes
  (``prm_sales_analytics``).
- :mod:`~retail_forecasting.warehouse.credentials` — the PostgreSQL connection: ``DB_*``
  variables, or the AWS Secrets Manager secret ``RDS_SECRET_NAME``, given to the catalog by
  the ``${warehouse_credentials:}`` resolver (``conf/base/credentials.yml``).

The names of :mod:`~retail_forecasting.warehouse.load` are re-exported here
(``from retail_forecasting import warehouse; warehouse.apply_staged(...)``).
"""

from retail_forecasting.warehouse.load import (
    ADVISORY_LOCK_KEY,
    COPY_CHUNK_ROWS,
    COUNTED_RELATIONS,
    HOW_TO_SHRINK,
    MIRROR_DELETE_FILE,
    SCHEMA,
    STAGING_COLUMNS,
    CsvChunks,
    DeletionPlan,
    LoadPolicy,
    WarehouseBatch,
    apply_staged,
    bulk_load,
    check_batch,
    check_shrink,
    clear_staging,
    describe_lock_error,
    load_batch,
    lock_warehouse,
    plan_mirror_deletions,
    raise_if_locked,
    relation_counts,
    run_sql_files,
    split_sql,
    staging_counts,
)

__all__ = [
    "ADVISORY_LOCK_KEY",
    "COPY_CHUNK_ROWS",
    "COUNTED_RELATIONS",
    "HOW_TO_SHRINK",
    "MIRROR_DELETE_FILE",
    "SCHEMA",
    "STAGING_COLUMNS",
    "CsvChunks",
    "DeletionPlan",
    "LoadPolicy",
    "WarehouseBatch",
    "apply_staged",
    "bulk_load",
    "check_batch",
    "check_shrink",
    "clear_staging",
    "describe_lock_error",
    "load_batch",
    "lock_warehouse",
    "plan_mirror_deletions",
    "raise_if_locked",
    "relation_counts",
    "run_sql_files",
    "split_sql",
    "staging_counts",
]
