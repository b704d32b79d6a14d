"""Lambda: post-load upsert, when the Glue job succeeded.

Called by an EventBridge rule on ``Glue Job State Change`` (state ``SUCCEEDED``) or directly.
Applies the staged batch in one transaction with the Kedro load's own function
(``retail_forecasting.warehouse.apply_staged``: an empty staging area or a surprise shrink is
refused before anything is written) and returns the warehouse row counts; chain
``post_load_validation`` as its on-success destination.

Environment: ``RDS_SECRET_NAME``/``AWS_REGION`` (or ``DB_*``), ``GLUE_JOB_NAME`` (optional:
events of other jobs are ignored), ``RETAIL_SQL_DIR``, and the load policy
``RETAIL_LOAD_MODE`` (mirror | incremental), ``RETAIL_ALLOW_SHRINK``, ``RETAIL_MAX_DELETE_SHARE``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from retail_forecasting.aws import etl

import _common

logger = logging.getLogger(__name__)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    detail = event.get("detail") if isinstance(event, dict) else None
    job_run = None
    if detail is not None:  # an EventBridge Glue Job State Change
        job, state, job_run = detail.get("jobName"), detail.get("state"), detail.get("jobRunId")
        expected = os.environ.get("GLUE_JOB_NAME")
        if expected and job != expected:
            return {"status": "skipped", "reason": f"event of Glue job {job!r}, not {expected!r}"}
        if state != "SUCCEEDED":
            return {"status": "skipped", "reason": f"Glue job {job!r} ended {state}"}
    _, upsert_file = _common.sql_files()
    engine = _common.engine()
    try:
        counts = etl.upsert_from_staging(engine, upsert_file, etl.load_policy_from_env())
    finally:
        engine.dispose()
    return {"status": "upserted", "glue_job_run_id": job_run, "counts": counts}
