"""Lambda: post-load validation, after the upsert.

Reads the batch's intermediate frames that the Glue job wrote under ``RETAIL_S3_PREFIX``,
checks the warehouse holds exactly that batch (the ingestion node ``verify_warehouse_load``),
writes the load report to ``RETAIL_S3_PREFIX/03_primary/prm_warehouse_load_report.json`` and
returns it. A mismatch raises, so the invocation fails (alarm on the function's errors).

Environment: ``RDS_SECRET_NAME``/``AWS_REGION`` (or ``DB_*``), ``RETAIL_S3_PREFIX``.
"""

from __future__ import annotations

import logging
from typing import Any

from retail_forecasting.aws import etl

import _common

logger = logging.getLogger(__name__)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    upstream = (event or {}).get("responsePayload") if isinstance(event, dict) else None
    if upstream and upstream.get("status") not in (None, "upserted"):
        return {"status": "skipped", "reason": f"upsert status {upstream.get('status')!r}"}
    prefix = etl.data_prefix()
    frames = etl.read_intermediate(prefix)
    engine = _common.engine()
    try:
        report = etl.validate_load(engine, *frames)
    finally:
        engine.dispose()
    report_url = etl.write_load_report(report, prefix)
    return {"status": "valid", "report": report_url, "load": report}
