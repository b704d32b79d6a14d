"""Lambda: pre-load cleanup, on the S3 event of a batch's ready marker.

Upload ``train.csv``, ``features.csv`` and ``stores.csv`` to ``s3://bucket/raw/<batch>/``, then
an empty ``_READY`` object next to them; the bucket notification (suffix ``_READY``) calls this
handler, which checks the three files are there, creates the schema if needed, empties the
staging tables and, when ``GLUE_JOB_NAME`` is set, starts the Glue job on the batch.

Environment: ``RDS_SECRET_NAME``/``AWS_REGION`` (or ``DB_*``), ``RETAIL_S3_PREFIX``,
``GLUE_JOB_NAME`` (optional), ``READY_MARKER`` (default ``_READY``), ``RETAIL_SQL_DIR``.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import unquote_plus

from retail_forecasting.aws import etl

import _common

logger = logging.getLogger(__name__)


def ready_batches(event: dict[str, Any], marker: str) -> list[str]:
    """``s3://bucket/folder`` of every ready marker in an S3 event."""
    batches = []
    for record in event.get("Records", []):
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = unquote_plus((s3.get("object") or {}).get("key", ""))
        if not bucket or not key:
            continue
        folder, _, name = key.rpartition("/")
        if name == marker:
            batches.append(f"s3://{bucket}/{folder}" if folder else f"s3://{bucket}")
    return batches


def missing_files(batch: str) -> list[str]:
    import fsspec

    fs = fsspec.filesystem("s3")
    return [name for name in etl.RAW_FILES.values() if not fs.isfile(f"{batch}/{name}")]


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    marker = os.environ.get("READY_MARKER", "_READY")
    batches = ready_batches(event, marker)
    if not batches:
        logger.info("No %s marker in the event: nothing to do", marker)
        return {"status": "skipped", "reason": f"no {marker} object in the event"}
    if len(batches) > 1:
        raise etl.EtlError(f"One batch at a time: the event holds {batches}")
    batch = batches[0]
    missing = missing_files(batch)
    if missing:
        raise etl.EtlError(f"Batch {batch} is not complete: {missing} missing")
    schema_files, _ = _common.sql_files()
    engine = _common.engine()
    try:
        emptied = etl.cleanup_staging(engine, schema_files)
    finally:
        engine.dispose()
    result: dict[str, Any] = {"status": "cleaned", "batch": batch, "staging_rows_removed": emptied}
    job = os.environ.get("GLUE_JOB_NAME")
    if job:
        import boto3

        run = boto3.client("glue").start_job_run(
            JobName=job,
            Arguments={"--raw_s3_prefix": batch, "--data_s3_prefix": etl.data_prefix()},
        )
        result.update(status="glue_started", glue_job=job, glue_job_run_id=run["JobRunId"])
    logger.info("Pre-load cleanup done: %s", result)
    return result
