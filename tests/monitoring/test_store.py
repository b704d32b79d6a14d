"""Forecasts and checks in the warehouse, on DuckDB and PostgreSQL: idempotent upserts, an
origin re-run replaces its rows, the view joins the actuals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from retail_forecasting import warehouse
from retail_forecasting.errors import InputError
from retail_forecasting.monitoring.store import (
    QUANTILE_COLUMNS,
    TABLES,
    WarehouseTableDataset,
    read_sql,
    write_table,
)

SQL = Path(__file__).resolve().parents[2] / "sql"
SCHEMA_FILES = [
    SQL / "01_create_schema.sql",
    SQL / "02_create_analytics_view.sql",
    SQL / "05_forecasts_and_monitoring.sql",
]
WEEKS = pd.date_range("2012-01-06", periods=4, freq="7D")


@pytest.fixture
def engine(warehouse_url):
    """A warehouse with 2 stores x 2 depts for the first two weeks (store 1, dept 2 has no row in
    week 2) and store features for all four weeks."""
    engine = create_engine(warehouse_url)
    sales = pd.DataFrame(
        [
            (s, d, w, 100.0 * s + d + i, False)
            for i, w in enumerate(WEEKS[:2])
            for s in (1, 2)
            for d in (1, 2)
            if not (s == 1 and d == 2 and i == 1)
        ],
        columns=warehouse.STAGING_COLUMNS["stg_sales_weekly"],
    )
    features = pd.DataFrame(
        [
            (s, w, 50.0, 3.0, None, None, None, None, None, 200.0, 7.0, False)
            for s in (1, 2)
            for w in WEEKS
        ],
        columns=warehouse.STAGING_COLUMNS["stg_store_features_weekly"],
    )
    stores = pd.DataFrame(
        {"store_id": [1, 2], "store_type": ["A", "B"], "store_size": [1000, 2000]}
    )
    warehouse.load_batch(
        engine,
        {"stg_store": stores, "stg_store_features_weekly": features, "stg_sales_weekly": sales},
        SCHEMA_FILES,
        SQL / "03_upsert_from_staging.sql",
    )
    yield engine
    engine.dispose()


def forecasts(
    origin, weeks, series=((1, 1), (1, 2), (2, 1), (2, 2)), value=10.0, version="3"
) -> pd.DataFrame:
    rows = [
        {
            "model_name": "ensemble",
            "model_version": version,
            "run_id": "abc",
            "origin_date": origin,
            "store_id": s,
            "dept_id": d,
            "week_date": w,
            "step": int((w - origin).days // 7),
            "forecast": value,
            **{q: None for q in QUANTILE_COLUMNS},
            "forecast_basis": "model",
            "created_at": pd.Timestamp("2026-12-01 10:00:00"),
        }
        for s, d in series
        for w in weeks
    ]
    return pd.DataFrame(rows, columns=TABLES["stg_forecast_weekly"])


def write(engine, frame):
    return write_table(
        engine,
        "stg_forecast_weekly",
        frame,
        SCHEMA_FILES,
        SQL / "06_upsert_forecasts_from_staging.sql",
    )


def test_forecasts_upsert_idempotently_and_an_origin_rerun_replaces_its_rows(engine):
    origin = WEEKS[0] - pd.Timedelta(weeks=1)
    write(engine, forecasts(origin, WEEKS))
    write(engine, forecasts(origin, WEEKS))  # the same batch again: no duplicates
    table = read_sql(engine, "SELECT * FROM retailds.fact_forecast_weekly")
    assert len(table) == 16 and (table["forecast"] == 10.0).all()
    # re-running the origin with other values and one series fewer replaces, never adds
    write(engine, forecasts(origin, WEEKS, series=((1, 1), (2, 1), (2, 2)), value=20.0))
    # another origin is kept as it is
    write(engine, forecasts(WEEKS[0], WEEKS[1:], value=30.0))
    table = read_sql(engine, "SELECT * FROM retailds.fact_forecast_weekly")
    first = table[table["origin_date"] == origin]
    assert len(first) == 12 and (first["forecast"] == 20.0).all()
    assert not ((first["store_id"] == 1) & (first["dept_id"] == 2)).any()
    assert len(table[table["origin_date"] == WEEKS[0]]) == 12
    assert table[list(QUANTILE_COLUMNS)].isna().all().all()
    with pytest.raises(InputError, match="empty"):
        write(engine, forecasts(origin, WEEKS).iloc[:0])


def test_view_joins_actuals_zero_inside_a_loaded_week_and_null_ahead(engine):
    origin = WEEKS[0] - pd.Timedelta(weeks=1)
    frame = forecasts(origin, WEEKS)
    frame["q0_1"], frame["q0_9"] = 5.0, 15.0
    write(engine, frame)
    view = read_sql(
        engine, "SELECT * FROM retailds.vw_forecast_vs_actual ORDER BY store, dept, date"
    )
    assert len(view) == 16 and set(view["store_type"]) == {"A", "B"}

    def row(s, d, w):
        return view[(view["store"] == s) & (view["dept"] == d) & (view["date"] == w)].iloc[0]

    assert row(2, 2, WEEKS[1])["actual"] == 202.0 + 1
    assert row(1, 2, WEEKS[1])["actual"] == 0.0  # the store's week is loaded, the series has no row
    assert pd.isna(row(1, 1, WEEKS[2])["actual"])  # the week has not arrived
    assert row(1, 1, WEEKS[0])["step"] == 1 and row(1, 1, WEEKS[0])["q0_1"] == 5.0
    assert not view["is_holiday"].isna().any()


def test_checks_of_a_week_replace_the_previous_run_of_that_week(engine):
    def checks(week, status, n=2):
        return pd.DataFrame(
            [
                {
                    "model_version": "3",
                    "as_of_week": week,
                    "check_name": f"c{i}",
                    "scope": "all",
                    "value": 1.0,
                    "threshold": 2.0,
                    "status": status,
                    "message": "m",
                    "checked_at": pd.Timestamp("2026-12-01 10:00:00"),
                }
                for i in range(n)
            ]
        )

    upsert = SQL / "07_upsert_monitoring_checks_from_staging.sql"
    write_table(engine, "stg_monitoring_check", checks(WEEKS[0], "ok"), SCHEMA_FILES, upsert)
    write_table(engine, "stg_monitoring_check", checks(WEEKS[1], "ok", 3), SCHEMA_FILES, upsert)
    write_table(engine, "stg_monitoring_check", checks(WEEKS[0], "alert", 1), SCHEMA_FILES, upsert)
    table = read_sql(engine, "SELECT * FROM retailds.monitoring_check")
    assert table.groupby("as_of_week")["status"].agg(list).to_dict() == {
        WEEKS[0]: ["alert"],
        WEEKS[1]: ["ok"] * 3,
    }


def test_the_dataset_saves_and_loads_through_the_catalog_interface(engine, warehouse_url):
    dataset = WarehouseTableDataset(
        credentials={"con": warehouse_url},
        staging="stg_forecast_weekly",
        schema_files=[str(f) for f in SCHEMA_FILES],
        upsert_file=str(SQL / "06_upsert_forecasts_from_staging.sql"),
        load_sql="SELECT * FROM retailds.vw_forecast_vs_actual",
    )
    dataset.save(forecasts(WEEKS[1], WEEKS[2:]))
    loaded = dataset.load()
    assert len(loaded) == 8 and loaded["actual"].isna().all()
    assert "postgres" not in str(dataset) or "password" not in str(dataset)


def test_retention_keeps_the_newest_origins_in_the_same_transaction(engine):
    retention = SQL / "08_forecast_retention.sql"
    upsert = SQL / "06_upsert_forecasts_from_staging.sql"
    origins = pd.date_range("2011-12-02", periods=6, freq="7D")  # the 6th is WEEKS[0] - 1 week

    def write(origin, weeks, *retention_args, **retention_kwargs) -> None:
        frame = forecasts(origin, weeks)
        write_table(
            engine,
            "stg_forecast_weekly",
            frame,
            SCHEMA_FILES,
            upsert,
            *retention_args,
            **retention_kwargs,
        )

    def count(sql: str) -> int:
        return int(read_sql(engine, sql)["n"].iloc[0])

    for origin in origins:
        write(origin, [origin + pd.Timedelta(weeks=1)], retention, 3)
        kept = read_sql(
            engine, "SELECT DISTINCT origin_date FROM retailds.fact_forecast_weekly ORDER BY 1"
        )
        assert list(kept["origin_date"]) == list(
            origins[max(0, list(origins).index(origin) - 2) : list(origins).index(origin) + 1]
        )
    # an older origin written late (inference of an old model) falls outside at once
    write(origins[0], [origins[1]], retention, 3)
    assert (
        count(
            "SELECT COUNT(*) AS n FROM retailds.fact_forecast_weekly "
            f"WHERE origin_date = '{origins[0]:%Y-%m-%d}'"
        )
        == 0
    )
    # no retention set: every origin stays
    write(origins[0], [origins[1]])
    assert count("SELECT COUNT(DISTINCT origin_date) AS n FROM retailds.fact_forecast_weekly") == 4
    with pytest.raises(ValueError, match="retention_weeks"):
        write(origins[0], [origins[1]], retention, 0)
    with pytest.raises(ValueError, match="go together"):
        write(origins[0], [origins[1]], retention_file=retention)


def test_the_warehouse_score_sums_give_the_scores_of_every_stored_forecast(engine):
    """sql/11 aggregates where the rows are; its sums make the same scores as the pandas path over
    every row (two versions, two origins, a holiday week, bands on one version only), and sql/09 and
    sql/10 return the newest week's forecasts and the latest forecast of each past week."""
    from retail_forecasting.monitoring import checks

    def query(name):
        (statement,) = warehouse.split_sql((SQL / name).read_text())
        return read_sql(engine, statement)

    origin = WEEKS[0] - pd.Timedelta(weeks=1)
    banded = forecasts(origin, WEEKS, value=90.0, version="3")
    banded["q0_025"], banded["q0_1"], banded["q0_9"], banded["q0_975"] = 50.0, 95.0, 150.0, 300.0
    write(engine, banded)
    write(engine, forecasts(WEEKS[0], WEEKS[1:], value=120.0, version="3"))
    write(engine, forecasts(origin, WEEKS, value=210.0, version="4"))
    with engine.begin() as conn:  # week 2 a holiday for store 2
        conn.execute(
            text(
                "UPDATE retailds.fact_sales_weekly SET is_holiday = TRUE "
                f"WHERE store_id = 2 AND week_date = '{WEEKS[1]:%Y-%m-%d}'"
            )
        )
    promise = {"by_step": [{"step": 1, "wmae": 10.0}, {"step": 2, "wmae": 20.0}]}
    everything = checks.normalise_scored(
        read_sql(engine, "SELECT * FROM retailds.vw_forecast_vs_actual WHERE actual IS NOT NULL")
    )
    assert len(everything) == 2 * 8 + 4 and everything["is_holiday"].any()
    expected = checks.score_forecasts(everything, promise, holiday_weight=5.0)
    got = checks.scores_from_sums(
        query("11_monitoring_score_sums.sql"), promise, holiday_weight=5.0
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    assert set(got["segment"]) == {"overall", "week", "step", "store_type", "dept"}
    assert got.loc[got["model_version"] == "3", "coverage_80"].notna().all()
    assert got.loc[got["model_version"] == "4", "coverage_80"].isna().all()

    week = query("09_monitoring_week_forecasts.sql")
    assert (
        set(week["date"]) == {WEEKS[1]} and len(week) == 3 * 4
    )  # 3 batches cover it, 4 series each
    assert (
        week.loc[(week["store"] == 1) & (week["dept"] == 2), "actual"] == 0
    ).all()  # no row that week: 0
    latest = query("10_monitoring_report_forecasts.sql")
    assert not latest.duplicated(["model_version", "store", "dept", "date"]).any()
    assert set(
        latest.loc[(latest["model_version"] == "3") & (latest["date"] == WEEKS[1]), "step"]
    ) == {1}
    assert set(latest.loc[latest["model_version"] == "4", "step"]) == {1, 2}
