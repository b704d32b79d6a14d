"""AWS Glue job (Python shell): one batch of Kaggle CSVs from S3 -> staging tables in RDS.

A thin wrapper: reading, validation, cleaning, the manifest and the bulk load are the ingestion
pipeline's own functions (:mod:`retail_forecasting.aws.etl`); ``awsglue`` is imported in
:func:`main` only, so :func:`run` is tested anywhere. The post-load Lambdas then upsert and
validate (``infra/lambdas/``); docs/aws.md shows how to deploy it.

Job parameters::

    --raw_s3_prefix    s3://bucket/raw/<batch>         folder of train.csv, features.csv, stores.csv
    --data_s3_prefix   s3://bucket/retail               RETAIL_S3_PREFIX of the Kedro sagemaker env
    --sql_s3_prefix    s3://bucket/code/sql             the repository's sql/ folder
    --rds_secret_name  retail/rds                       optional: else DB_* job parameters/env
    --negative_sales   keep|clip|drop                   optional (default keep)
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from retail_forecasting.aws import etl
from retail_forecasting.pipelines.ingestion.nodes import IngestionParams

logger = logging.getLogger("walmart_s3_to_rds")

REQUIRED = ["raw_s3_prefix", "data_s3_prefix", "sql_s3_prefix"]
OPTIONAL = ["rds_secret_name", "negative_sales"]


def run(
    raw_s3_prefix: str,
    data_s3_prefix: str,
    sql_dir: str | Path,
    negative_sales: str = "keep",
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Read, validate, clean, fingerprint and stage one batch. Returns what was done."""
    schema_files, _ = etl.sql_files(sql_dir)
    prefix = data_s3_prefix.rstrip("/")
    params = IngestionParams(negative_sales=negative_sales)
    batch = etl.transform(etl.read_raw(raw_s3_prefix), params)
    outputs = etl.write_outputs(batch, prefix)
    engine = etl.engine_from_env(environ)
    try:
        staged = etl.stage_batch(engine, batch.staging, schema_files)
    finally:
        engine.dispose()
    result = {"raw": raw_s3_prefix, "outputs": outputs, "staged": staged,
              "cleaning": batch.cleaning_report}
    logger.info("Batch %s staged: %s", raw_s3_prefix, staged)
    return result


def download_sql(sql_s3_prefix: str, target: Path) -> Path:
    """Copy the SQL files of ``sql_s3_prefix`` into ``target``."""
    import fsspec

    for name in (*etl.SCHEMA_FILES, etl.UPSERT_FILE, etl.MIRROR_FILE):
        with fsspec.open(f"{sql_s3_prefix.rstrip('/')}/{name}", "rb") as remote:
            (target / name).write_bytes(remote.read())
    return target


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from awsglue.utils import getResolvedOptions  # only inside a Glue job

    argv = list(sys.argv if argv is None else argv)
    present = [name for name in OPTIONAL if f"--{name}" in argv]
    args = getResolvedOptions(argv, REQUIRED + present)
    logging.basicConfig(level=logging.INFO)
    if args.get("rds_secret_name"):
        os.environ["RDS_SECRET_NAME"] = args["rds_secret_name"]
    with tempfile.TemporaryDirectory(prefix="sql-") as tmp:
        sql_dir = download_sql(args["sql_s3_prefix"], Path(tmp))
        return run(
            args["raw_s3_prefix"],
            args["data_s3_prefix"],
            sql_dir,
            negative_sales=args.get("negative_sales", "keep"),
        )


if __name__ == "__main__":
    main()
