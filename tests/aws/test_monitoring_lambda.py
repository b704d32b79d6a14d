"""The monitoring Lambda on the moto stand-in (S3, Secrets Manager, CloudWatch) and a throw-away
PostgreSQL warehouse: the same checks as the Kedro pipeline, one row each in the warehouse, the
alerts file on S3 only when a threshold is crossed, the CloudWatch metric every time."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine

from retail_forecasting import warehouse
from retail_forecasting.monitoring import checks
from retail_forecasting.monitoring.store import TABLES, read_sql, write_table

SQL = Path(__file__).resolve().parents[2] / "sql"
SCHEMA = [
    SQL / "01_create_schema.sql",
    SQL / "02_create_analytics_view.sql",
    SQL / "05_forecasts_and_monitoring.sql",
]
WEEKS = pd.date_range("2011-01-07", periods=20, freq="7D")
STORES, DEPTS = (1, 2, 3), (1, 2)


def load_weeks(engine, weeks, halve_last: int | None = None) -> None:
    sales = pd.DataFrame(
        [(s, d, w, 1000.0 * s + 100 * d, False) for w in weeks for s in STORES for d in DEPTS],
        columns=warehouse.STAGING_COLUMNS["stg_sales_weekly"],
    )
    if halve_last is not None:
        last = (sales["week_date"] == weeks[-1]) & (sales["store_id"] == halve_last)
        sales.loc[last, "weekly_sales"] *= 0.5
    features = pd.DataFrame(
        [
            (s, w, 50.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 200.0, 7.0, False)
            for s in STORES
            for w in WEEKS
        ],
        columns=warehouse.STAGING_COLUMNS["stg_store_features_weekly"],
    )
    stores = pd.DataFrame(
        {"store_id": list(STORES), "store_type": ["A", "B", "A"], "store_size": [1, 2, 3]}
    )
    warehouse.load_batch(
        engine,
        warehouse.WarehouseBatch(
            {"stg_store": stores, "stg_store_features_weekly": features, "stg_sales_weekly": sales},
            warehouse.LoadPolicy(mode="incremental"),
        ),
        SCHEMA,
        SQL / "03_upsert_from_staging.sql",
    )


def store_forecasts(engine, origin) -> None:
    rows = [
        {
            "model_name": "m",
            "model_version": "4",
            "run_id": "r",
            "origin_date": origin,
            "store_id": s,
            "dept_id": d,
            "week_date": origin + pd.Timedelta(weeks=k),
            "step": k,
            "forecast": (1000.0 * s + 100 * d) * 1.02,
            **{q: None for q in ("q0_025", "q0_1", "q0_5", "q0_9", "q0_975")},
            "forecast_basis": "model",
            "created_at": pd.Timestamp("2026-12-01"),
        }
        for s in STORES
        for d in DEPTS
        for k in (1, 2)
    ]
    write_table(
        engine,
        "stg_forecast_weekly",
        pd.DataFrame(rows, columns=TABLES["stg_forecast_weekly"]),
        SCHEMA,
        SQL / "06_upsert_forecasts_from_staging.sql",
    )


@pytest.fixture
def promise() -> dict:
    rows = [
        {
            "store": s,
            "dept": d,
            "date": c + pd.Timedelta(weeks=k),
            "cutoff": c,
            "step": k,
            "is_holiday": False,
            "store_type": "A",
            "actual": 1000.0 * s + 100 * d,
            "m": (1000.0 * s + 100 * d) * (1 + 0.03 * (-1) ** (s + k)),
        }
        for c in WEEKS[[5, 8]]
        for k in (1, 2)
        for s in STORES
        for d in DEPTS
    ]
    return checks.backtest_promise(pd.DataFrame(rows), "m", total_steps=2)


@pytest.fixture
def monitoring_env(aws, postgres_secret, postgres_url, monkeypatch, lambdas_path, promise):
    for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RDS_SECRET_NAME", postgres_secret)
    monkeypatch.setenv("RETAIL_S3_PREFIX", f"s3://{aws.bucket}/retail")
    aws.client("s3").put_object(
        Bucket=aws.bucket,
        Key="retail/08_reporting/monitoring/backtest_promise.json",
        Body=json.dumps(promise).encode(),
    )
    import sys

    sys.modules.pop("monitoring_check", None)
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()
    sys.modules.pop("monitoring_check", None)


def metric_values(aws) -> list[float]:
    cloudwatch = aws.client("cloudwatch")
    metrics = cloudwatch.list_metrics(Namespace="RetailForecasting")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"MonitoringAlerts"}
    stats = cloudwatch.get_metric_statistics(
        Namespace="RetailForecasting",
        MetricName="MonitoringAlerts",
        StartTime=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1),
        EndTime=pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=1),
        Period=3600,
        Statistics=["Maximum", "SampleCount"],
    )["Datapoints"]
    return [(d["Maximum"], d["SampleCount"]) for d in stats]


@pytest.mark.postgres
def test_monitoring_lambda_writes_checks_and_alerts_only_when_a_threshold_is_crossed(
    monitoring_env, aws
):
    engine = monitoring_env
    handler = importlib.import_module("monitoring_check").handler
    load_weeks(engine, WEEKS[:-1])
    store_forecasts(engine, WEEKS[-3])
    store_forecasts(engine, WEEKS[-2])

    load_weeks(engine, WEEKS[-1:])  # a normal week
    normal = handler({}, None)
    assert normal["status"] == "ok" and normal["alerts"] == [] and normal["alerts_file"] is None, (
        normal
    )
    assert normal["as_of_week"] == f"{WEEKS[-1]:%Y-%m-%d}" and normal["model_version"] == "4"
    assert "retail/08_reporting/monitoring/alerts.json" not in aws.keys("retail/")
    stored = read_sql(engine, "SELECT * FROM retailds.monitoring_check")
    assert len(stored) == normal["checks"] and (stored["status"] != "alert").all()

    load_weeks(engine, WEEKS[-1:], halve_last=2)  # the same week corrected: store 2 halved
    shifted = handler({}, None)
    assert shifted["status"] == "alert"
    assert {(a["check"], a["scope"]) for a in shifted["alerts"]} >= {
        ("total.store_deviation", "store=2")
    }
    on_s3 = aws.read_json("retail/08_reporting/monitoring/alerts.json")
    assert on_s3["alerts"] == json.loads(json.dumps(shifted["alerts"], default=str))
    stored = read_sql(engine, "SELECT * FROM retailds.monitoring_check")
    assert len(stored) == shifted["checks"]  # the week's checks replaced, not added
    assert set(stored.loc[stored["status"] == "alert", "scope"]) >= {"store=2"}
    assert metric_values(aws) == [(float(len(shifted["alerts"])), 2.0)]

    # the same function as the Kedro node: same checks for the same warehouse
    from retail_forecasting.monitoring import service

    everything = read_sql(
        engine, "SELECT * FROM retailds.vw_forecast_vs_actual WHERE actual IS NOT NULL"
    )
    again = checks.evaluate(
        everything,
        read_sql(engine, service.SALES_SQL),
        read_sql(engine, service.STORE_FEATURES_SQL),
        aws.read_json("retail/08_reporting/monitoring/backtest_promise.json"),
        checks.MonitoringParams(),
    )
    assert sorted(map(tuple, again.alerts[["check_name", "scope"]].to_numpy())) == sorted(
        (a["check"], a["scope"]) for a in shifted["alerts"]
    )


@pytest.mark.postgres
def test_monitoring_lambda_without_the_promise_says_what_to_run(monitoring_env, aws):
    aws.client("s3").delete_object(
        Bucket=aws.bucket, Key="retail/08_reporting/monitoring/backtest_promise.json"
    )
    handler = importlib.import_module("monitoring_check").handler
    with pytest.raises(
        RuntimeError, match="backtest_promise.json is missing: run `kedro run --pipeline monitoring"
    ):
        handler({}, None)
    assert (
        read_sql(
            monitoring_env,
            "SELECT COUNT(*) AS n FROM information_schema.tables "
            "WHERE table_name = 'monitoring_check'",
        )["n"].iloc[0]
        == 0
    )  # nothing written
