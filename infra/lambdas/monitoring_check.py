"""Lambda: the weekly monitoring checks, after a load (or on a schedule).

Runs :func:`retail_forecasting.monitoring.service.run_checks` — the same
:func:`retail_forecasting.monitoring.checks.evaluate` as ``kedro run --pipeline monitoring`` —
on the RDS warehouse, with the champion's backtest promise that the ``monitoring`` pipeline's
first node (``summarise_backtest_promise``; ``kedro run --pipeline monitoring --env sagemaker``
after a training run, or ``--pipeline weekly``) wrote under
``RETAIL_S3_PREFIX/08_reporting/monitoring/backtest_promise.json`` (``--env sagemaker`` puts
``data/`` there). Writes one row per check to
``retailds.monitoring_check``; when a threshold is crossed, writes
``RETAIL_S3_PREFIX/08_reporting/monitoring/alerts.json`` (removed otherwise), like the Kedro
run. Every invocation publishes the CloudWatch metric ``MonitoringAlerts`` (namespace
``RETAIL_METRIC_NAMESPACE``, default ``RetailForecasting``): alarm on it being > 0.

Environment: ``RDS_SECRET_NAME``/``AWS_REGION`` (or ``DB_*``), ``RETAIL_S3_PREFIX``,
optional ``RETAIL_MONITORING_PARAMS`` (JSON, the ``monitoring`` parameters' overrides),
``RETAIL_METRIC_NAMESPACE``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import _common
import boto3
import fsspec

from retail_forecasting.aws import etl
from retail_forecasting.monitoring import checks, service

logger = logging.getLogger(__name__)

PROMISE = "08_reporting/monitoring/backtest_promise.json"
ALERTS = "08_reporting/monitoring/alerts.json"
MONITORING_SQL = "05_forecasts_and_monitoring.sql"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:  # noqa: ARG001
    prefix = etl.data_prefix()
    try:
        with fsspec.open(f"{prefix}/{PROMISE}", "r") as handle:
            promise = json.load(handle)
    except FileNotFoundError as exc:
        raise RuntimeError(f"{prefix}/{PROMISE} is missing: run `kedro run --pipeline monitoring --env sagemaker` "
                           "once after training (it records what the champion's backtest promised)") from exc
    params = checks.MonitoringParams(**json.loads(os.environ.get("RETAIL_MONITORING_PARAMS") or "{}"))
    schema_files, upsert = _common.sql_files()
    sql_dir = Path(upsert).parent
    engine = _common.engine()
    try:
        result = service.run_checks(engine, promise, params, [*schema_files, sql_dir / MONITORING_SQL], sql_dir)
    finally:
        engine.dispose()
    payload = checks.alerts_payload(result)
    fs, path = fsspec.core.url_to_fs(f"{prefix}/{ALERTS}")
    if payload["alerts"]:
        with fs.open(path, "w") as handle:
            json.dump(payload, handle, indent=2, default=str)
    elif fs.exists(path):
        fs.rm(path)
    boto3.client("cloudwatch").put_metric_data(
        Namespace=os.environ.get("RETAIL_METRIC_NAMESPACE") or "RetailForecasting",
        MetricData=[{"MetricName": "MonitoringAlerts", "Value": float(len(payload["alerts"])), "Unit": "Count"}],
    )
    return {"status": result.summary["status"], "as_of_week": result.summary["as_of_week"],
            "model_version": result.summary["model_version"], "checks": result.summary["checks"],
            "alerts": payload["alerts"], "alerts_file": f"{prefix}/{ALERTS}" if payload["alerts"] else None}
