"""The event-driven ETL of the original project (S3 -> Glue -> RDS, with Lambdas around it),
over the ingestion pipeline's own functions. "The original project" is the pre-Kedro Walmart
ETL this project re-implements (docs/architecture.md).

The Kedro ``ingestion`` pipeline loads the warehouse in one transaction (staging + upsert).
On AWS the same work can also run when files land in S3, as the original project did:

1. ``infra/lambdas/pre_load_cleanup.py`` — an S3 event on ``raw/<batch>/_READY`` checks the
   three CSVs are there, creates the schema if needed, empties the staging tables
   (:func:`cleanup_staging`) and starts the Glue job.
2. ``etl/glue/walmart_s3_to_rds.py`` — reads the CSVs (:func:`read_raw`), validates and cleans
   them with the ingestion nodes (:func:`transform`), writes the intermediate frames and the
   input manifest to the same S3 layout as ``kedro run --env sagemaker`` (:func:`write_outputs`)
   and bulk-loads the staging tables in one transaction (:func:`stage_batch`).
3. ``infra/lambdas/post_load_upsert.py`` — on the Glue job's success, moves staging into the
   warehouse tables in one transaction (:func:`upsert_from_staging`) with the same function as
   the Kedro load, :func:`retail_forecasting.warehouse.apply_staged`: an empty staging area, or
   a mirror load that would delete more than the policy allows, is refused before anything is
   written (policy from ``RETAIL_LOAD_MODE``, ``RETAIL_ALLOW_SHRINK``,
   ``RETAIL_MAX_DELETE_SHARE``: :func:`load_policy_from_env`).
4. ``infra/lambdas/post_load_validation.py`` — compares the warehouse with the batch
   (:func:`validate_load`, i.e. the node ``verify_warehouse_load``) and writes the load report.

Each transaction is atomic: a failed Glue job leaves staging as it was and the warehouse
untouched; a failed upsert leaves the warehouse as it was.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, create_engine

from retail_forecasting import warehouse
from retail_forecasting.kaggle.schema import FILE_NAMES
from retail_forecasting.pipelines.ingestion.nodes import (
    IngestionParams,
    build_input_manifest,
    clean_sales,
    prepare_warehouse_batch,
    validate_sales,
    validate_store_features,
    validate_stores,
    verify_warehouse_load,
)

logger = logging.getLogger(__name__)

#: raw dataset name -> Kaggle file, read from one batch folder
RAW_FILES = {f"raw_{kind}": FILE_NAMES[kind] for kind in ("stores", "features", "train")}

#: what the Glue job and the validation Lambda write, relative to RETAIL_S3_PREFIX: the same
#: places as the `sagemaker` environment's catalog (tests/aws checks they agree)
OUTPUTS = {
    "int_stores": "02_intermediate/int_stores.parquet",
    "int_store_features": "02_intermediate/int_store_features.parquet",
    "int_sales_clean": "02_intermediate/int_sales_clean.parquet",
    "int_cleaning_report": "02_intermediate/int_cleaning_report.json",
    "rpt_input_manifest": "08_reporting/input_manifest.json",
    "prm_warehouse_load_report": "03_primary/prm_warehouse_load_report.json",
}

SCHEMA_FILES = ("01_create_schema.sql", "02_create_analytics_view.sql")
UPSERT_FILE = "03_upsert_from_staging.sql"
MIRROR_FILE = warehouse.MIRROR_DELETE_FILE


class EtlError(RuntimeError):
    """A step of the AWS ETL refuses to run (its message says why)."""


@dataclass
class EtlBatch:
    """The validated, cleaned batch and what describes it."""

    int_stores: pd.DataFrame
    int_store_features: pd.DataFrame
    int_sales_clean: pd.DataFrame
    cleaning_report: dict[str, Any]
    manifest: dict[str, Any]
    staging: dict[str, pd.DataFrame]


# ------------------------------------------------------------------------------ settings


def sql_files(sql_dir: str | Path) -> tuple[list[Path], Path]:
    """``(schema files, upsert file)`` in ``sql_dir`` (the repository's ``sql/``)."""
    directory = Path(sql_dir)
    files = [directory / name for name in (*SCHEMA_FILES, UPSERT_FILE)]
    missing = [str(f) for f in [*files, directory / MIRROR_FILE] if not f.is_file()]
    if missing:
        raise EtlError(f"SQL file(s) missing: {missing} (set RETAIL_SQL_DIR to the sql/ folder)")
    return files[:2], files[2]


def data_prefix(environ: Mapping[str, str] | None = None) -> str:
    """``RETAIL_S3_PREFIX`` without a trailing ``/`` (an error when unset)."""
    env = os.environ if environ is None else environ
    prefix = (env.get("RETAIL_S3_PREFIX") or "").strip().rstrip("/")
    if not prefix:
        raise EtlError("RETAIL_S3_PREFIX is not set (e.g. s3://my-bucket/retail)")
    return prefix


def load_policy_from_env(environ: Mapping[str, str] | None = None) -> warehouse.LoadPolicy:
    """The load policy of the upsert Lambda: ``RETAIL_LOAD_MODE`` (mirror | incremental),
    ``RETAIL_ALLOW_SHRINK`` (true/false), ``RETAIL_MAX_DELETE_SHARE`` (0..1); defaults as
    ``ingestion.load`` in ``conf/base/parameters_ingestion.yml``."""
    env = os.environ if environ is None else environ
    default = warehouse.LoadPolicy()
    allow = (env.get("RETAIL_ALLOW_SHRINK") or "false").strip().lower()
    if allow not in ("true", "false", "1", "0"):
        raise EtlError(f"RETAIL_ALLOW_SHRINK must be true or false, not {allow!r}")
    try:
        return warehouse.LoadPolicy(
            mode=(env.get("RETAIL_LOAD_MODE") or default.mode).strip(),
            allow_shrink=allow in ("true", "1"),
            max_delete_share=float(env.get("RETAIL_MAX_DELETE_SHARE") or default.max_delete_share),
        )
    except ValueError as exc:
        raise EtlError(f"Invalid load policy in the environment: {exc}") from exc


def engine_from_env(environ: Mapping[str, str] | None = None) -> Engine:
    """The warehouse engine: Secrets Manager (``RDS_SECRET_NAME``) or ``DB_*`` variables."""
    from retail_forecasting.warehouse.credentials import warehouse_credentials

    credentials = warehouse_credentials(environ)
    return create_engine(credentials["con"], pool_pre_ping=True)


# ------------------------------------------------------------------------------ pure part


def read_raw(
    raw_dir: str, storage_options: Mapping[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """The three Kaggle CSVs of a batch folder (local or ``s3://``), with their provenance."""
    from retail_forecasting.datasets import KaggleRawDataset

    return {
        name: KaggleRawDataset(
            file=file, raw_data_dir=raw_dir, fs_args=dict(storage_options or {})
        ).load()
        for name, file in RAW_FILES.items()
    }


def transform(raw: Mapping[str, pd.DataFrame], params: IngestionParams) -> EtlBatch:
    """Validate, clean and fingerprint a raw batch with the ingestion pipeline's nodes."""
    int_stores = validate_stores(raw["raw_stores"], params)
    int_store_features = validate_store_features(raw["raw_features"], int_stores, params)
    int_sales = validate_sales(raw["raw_train"], int_stores, int_store_features, params)
    int_sales_clean, cleaning_report = clean_sales(int_sales, params)
    manifest = build_input_manifest(
        raw["raw_train"], raw["raw_features"], raw["raw_stores"], cleaning_report
    )
    staging = prepare_warehouse_batch(
        int_stores, int_store_features, int_sales_clean, params
    ).tables
    return EtlBatch(
        int_stores, int_store_features, int_sales_clean, cleaning_report, manifest, staging
    )


def _write_json(url: str, payload: Any) -> None:
    import fsspec

    with fsspec.open(url, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, default=str)


def write_outputs(batch: EtlBatch, prefix: str) -> dict[str, str]:
    """Write the intermediate frames, cleaning report and manifest under ``prefix``."""
    urls = {name: f"{prefix}/{OUTPUTS[name]}" for name in OUTPUTS}
    batch.int_stores.to_parquet(urls["int_stores"], index=False)
    batch.int_store_features.to_parquet(urls["int_store_features"], index=False)
    batch.int_sales_clean.to_parquet(urls["int_sales_clean"], index=False)
    _write_json(urls["int_cleaning_report"], batch.cleaning_report)
    _write_json(urls["rpt_input_manifest"], batch.manifest)
    written = {name: urls[name] for name in OUTPUTS if name != "prm_warehouse_load_report"}
    logger.info("Wrote %s", written)
    return written


def read_intermediate(prefix: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``int_stores``, ``int_store_features``, ``int_sales_clean`` as the Glue job wrote them."""
    return tuple(  # type: ignore[return-value]
        pd.read_parquet(f"{prefix}/{OUTPUTS[name]}")
        for name in ("int_stores", "int_store_features", "int_sales_clean")
    )


# ------------------------------------------------------------------------------ warehouse


staging_counts = warehouse.staging_counts


def cleanup_staging(engine: Engine, schema_files: list[Path]) -> dict[str, int]:
    """Pre-load cleanup: create the schema if needed and empty the staging tables (one
    transaction). Returns how many rows each staging table held."""
    with engine.begin() as conn:
        warehouse.run_sql_files(conn, schema_files)
    with engine.begin() as conn:
        before = staging_counts(conn)
        warehouse.clear_staging(conn)
    logger.info("Pre-load cleanup: emptied staging tables %s", before)
    return before


def stage_batch(
    engine: Engine, staging: Mapping[str, pd.DataFrame], schema_files: list[Path]
) -> dict[str, int]:
    """Replace the staging tables' contents by the batch, in one transaction."""
    warehouse.check_batch(staging)
    with engine.begin() as conn:
        warehouse.run_sql_files(conn, schema_files)
    with engine.begin() as conn:
        warehouse.lock_warehouse(conn)
        warehouse.clear_staging(conn)
        for table, columns in warehouse.STAGING_COLUMNS.items():
            warehouse.bulk_load(conn, table, staging[table][columns])
        counts = staging_counts(conn)
    logger.info("Staged %s", counts)
    return counts


def upsert_from_staging(
    engine: Engine, upsert_file: Path, policy: warehouse.LoadPolicy | None = None
) -> dict[str, int]:
    """Post-load step: staging -> warehouse tables in one transaction, by ``policy`` (the
    Kedro load's :func:`~retail_forecasting.warehouse.apply_staged`); row counts after it.
    An empty staging area or a surprise shrink raises ``LoadRefused`` and writes nothing."""
    with engine.begin() as conn:
        warehouse.lock_warehouse(conn)
        staged = staging_counts(conn)
        counts = warehouse.apply_staged(conn, upsert_file, policy or warehouse.LoadPolicy())
    logger.info("Post-load upsert committed: staged %s, warehouse %s", staged, counts)
    return counts


def validate_load(
    engine: Engine,
    int_stores: pd.DataFrame,
    int_store_features: pd.DataFrame,
    int_sales_clean: pd.DataFrame,
) -> dict[str, Any]:
    """Post-load validation (the ``verify_warehouse_load`` node on the live warehouse)."""
    with engine.connect() as conn:
        counts = warehouse.relation_counts(conn)
    params = IngestionParams(load={"mode": load_policy_from_env().mode})
    return verify_warehouse_load(counts, int_stores, int_store_features, int_sales_clean, params)


def write_load_report(report: Mapping[str, Any], prefix: str) -> str:
    url = f"{prefix}/{OUTPUTS['prm_warehouse_load_report']}"
    _write_json(url, dict(report))
    return url
