"""One monitoring run straight against a warehouse engine, without Kedro: what the Lambda
handler ``infra/lambdas/monitoring_check.py`` runs. Reads the same relations as the catalog
entries of the ``monitoring`` pipeline (the same ``sql/09``, ``sql/11`` queries), calls the same
:func:`.checks.evaluate` and writes the checks to ``retailds.monitoring_check`` with the same
upsert."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from retail_forecasting.monitoring import checks
from retail_forecasting.monitoring.store import TABLES, read_sql, write_table
from retail_forecasting.warehouse import split_sql

#: The last 53 weeks, as the catalog's ``fc_recent_sales`` (the checks look back a year at most).
SALES_SQL = (
    "SELECT store, dept, date, weekly_sales, is_holiday, store_type "
    "FROM retailds.vw_sales_analytics "
    "WHERE date > (SELECT MAX(week_date) FROM retailds.fact_sales_weekly) - 371 "
    "ORDER BY store, dept, date"
)
STORE_FEATURES_SQL = (
    "SELECT store_id AS store, week_date AS date, is_holiday, temperature, fuel_price, "
    "markdown1, markdown2, markdown3, markdown4, markdown5, cpi, unemployment "
    "FROM retailds.store_features_weekly ORDER BY store_id, week_date"
)
CHECKS_UPSERT = "07_upsert_monitoring_checks_from_staging.sql"
#: The catalog's mon_week_forecasts and mon_score_sums: the newest week's stored forecasts, and
#: the score sums of every stored forecast with its actual, aggregated in the warehouse.
WEEK_FORECASTS = "09_monitoring_week_forecasts.sql"
SCORE_SUMS = "11_monitoring_score_sums.sql"


def query(sql_dir: str | Path, name: str) -> str:
    """The one query of ``sql_dir/name``."""
    (statement,) = split_sql((Path(sql_dir) / name).read_text(encoding="utf-8"))
    return statement


def run_checks(
    engine: Engine,
    promise: dict[str, Any],
    params: checks.MonitoringParams,
    schema_files: Iterable[str | Path],
    sql_dir: str | Path,
) -> checks.MonitoringResult:
    """Evaluate the newest week of the warehouse behind ``engine`` and store its checks."""
    result = checks.evaluate(
        read_sql(engine, query(sql_dir, WEEK_FORECASTS)),
        read_sql(engine, SALES_SQL),
        read_sql(engine, STORE_FEATURES_SQL),
        promise,
        params,
        sums=read_sql(engine, query(sql_dir, SCORE_SUMS)),
    )
    write_table(
        engine,
        "stg_monitoring_check",
        result.checks[TABLES["stg_monitoring_check"]],
        schema_files,
        Path(sql_dir) / CHECKS_UPSERT,
    )
    return result
