"""The weekly cycle end to end on synthetic data (issue #14): ingest up to week T, train a small
model configuration, forecast (batch inference of test.csv, then the rolling forecast); then
load weeks T+1..T+4 one at a time (incremental loads), re-forecast and monitor after each. One
store's sales are halved in the last week: that week raises alerts, the normal weeks do not.

The small model is the statistical model with fixed settings (``conftest.register_small_model``:
backtested, packaged and registered as the evaluation does); training the whole zoo takes longer
than this test's budget and is covered by ``tests/test_session.py``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from sqlalchemy import create_engine, make_url

from retail_forecasting.monitoring import alerts
from retail_forecasting.monitoring.store import read_sql
from retail_forecasting.synthetic import SyntheticConfig, write_kaggle_files

from .conftest import register_small_model

FED_WEEKS = 4
HORIZON = 13
SHIFTED_STORE = 2
SMALL = {"horizon_weeks": HORIZON, "ingestion": {"validation_weeks": 13}}


ENV: str | None = None  # the Kedro environment of the test being run (None: base, DuckDB)
URL: str | None = None  # its warehouse


def run(project: Path, pipelines: list[str], **params) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=ENV, runtime_params=params) as session:
        session.run(pipeline_names=pipelines)


def query(project: Path, sql: str) -> pd.DataFrame:
    """Rows of the warehouse (same engine settings as the catalog's, so DuckDB shares the file)."""
    engine = create_engine(
        URL or f"duckdb:///{project / 'data' / '03_primary' / 'warehouse.duckdb'}"
    )
    try:
        return read_sql(engine, sql)
    finally:
        engine.dispose()


@pytest.fixture(params=["base", pytest.param("local", marks=pytest.mark.postgres)])
def warehouse_env(request, monkeypatch):
    """The play on DuckDB (base) and on PostgreSQL (`--env local`, a throw-away database)."""
    global ENV, URL
    if request.param == "local":
        url = make_url(request.getfixturevalue("postgres_url"))
        monkeypatch.delenv("RDS_SECRET_NAME", raising=False)
        for name, value in {
            "DB_HOST": url.host,
            "DB_PORT": str(url.port or 5432),
            "DB_NAME": url.database,
            "DB_USER": url.username,
            "DB_PASSWORD": url.password or "",
        }.items():
            monkeypatch.setenv(name, value)
        ENV, URL = "local", url.render_as_string(hide_password=False)
    yield request.param
    ENV, URL = None, None


def write_bundle(
    folder: Path,
    full: Path,
    weeks: list[pd.Timestamp],
    halve_store: int | None = None,
    test_weeks: list[pd.Timestamp] = (),
) -> Path:
    """A Kaggle bundle holding only the sales of ``weeks`` (features and stores in full), and a
    test.csv listing the rows of ``test_weeks`` (Store, Dept, Date, IsHoliday, no sales)."""
    folder.mkdir(parents=True, exist_ok=True)
    train = pd.read_csv(full / "train.csv", parse_dates=["Date"])
    part = train[train["Date"].isin(weeks)].copy()
    if halve_store is not None:
        part.loc[part["Store"] == halve_store, "Weekly_Sales"] *= 0.5
    part.assign(Date=part["Date"].dt.strftime("%Y-%m-%d")).to_csv(folder / "train.csv", index=False)
    test = train.loc[train["Date"].isin(test_weeks), ["Store", "Dept", "Date", "IsHoliday"]]
    test.assign(Date=test["Date"].dt.strftime("%Y-%m-%d")).to_csv(folder / "test.csv", index=False)
    for name in ("features.csv", "stores.csv"):
        (folder / name).write_bytes((full / name).read_bytes())
    return folder


@pytest.mark.slow
def test_weekly_cycle_plays_four_weeks_and_alerts_on_a_halved_store(
    warehouse_env, project_copy, tiny_config, tmp_path
):
    started = time.perf_counter()
    full = tmp_path / "full"
    write_kaggle_files(full, SyntheticConfig(**tiny_config))
    weeks = sorted(pd.to_datetime(pd.read_csv(full / "train.csv")["Date"].unique()))
    cut, fed = weeks[:-FED_WEEKS], weeks[-FED_WEEKS:]
    week_t = cut[-1]

    # week T: ingest, train a small configuration, register, forecast
    bundle_t = write_bundle(tmp_path / "raw_t", full, cut, test_weeks=fed)
    run(project_copy, ["ingestion"], raw_data_dir=str(bundle_t), **SMALL)
    version, model = register_small_model(project_copy, HORIZON)
    assert model.origin == week_t
    # batch inference of a list of rows (test.csv: the next four weeks) lands in the same table
    run(project_copy, ["inference"], raw_data_dir=str(bundle_t), **SMALL)
    listed = pd.read_csv(bundle_t / "test.csv")
    inferred = query(project_copy, "SELECT * FROM retailds.fact_forecast_weekly")
    assert len(inferred) == len(listed) and set(inferred["origin_date"]) == {week_t}
    assert (
        sorted(inferred["step"].unique()) == [1, 2, 3, 4]
        and inferred["model_version"].eq(str(version)).all()
    )
    # the rolling forecast of the same origin replaces those rows (one set per model version and
    # origin)
    run(project_copy, ["forecast"], **SMALL)
    first = query(project_copy, "SELECT * FROM retailds.fact_forecast_weekly")
    assert set(first["origin_date"]) == {week_t} and first["step"].between(1, HORIZON).all()
    assert first["model_version"].eq(str(version)).all() and first["forecast"].notna().all()
    n_series = first.groupby(["store_id", "dept_id"]).ngroups
    assert len(first) == n_series * HORIZON
    assert (
        first[["q0_025", "q0_1", "q0_5", "q0_9", "q0_975"]].isna().all().all()
    )  # no intervals yet

    reports = []
    for k, week in enumerate(fed, start=1):
        shifted = k == FED_WEEKS
        bundle = write_bundle(
            tmp_path / f"raw_{k}", full, [week], SHIFTED_STORE if shifted else None
        )
        run(
            project_copy,
            ["weekly"],
            raw_data_dir=str(bundle),
            horizon_weeks=HORIZON,
            ingestion={**SMALL["ingestion"], "load": {"mode": "incremental"}},
        )
        code = alerts.exit_code()
        summary = json.loads(
            (project_copy / "data/08_reporting/monitoring/summary.json").read_text()
        )
        reports.append((week, code, summary))
        assert summary["as_of_week"] == f"{week:%Y-%m-%d}"
        alerts_file = project_copy / "data/08_reporting/monitoring/alerts.json"
        if shifted:
            assert code == alerts.ALERT_EXIT_CODE and summary["status"] == "alert", summary
            raised = json.loads(alerts_file.read_text())["alerts"]
            assert {
                "check": "total.store_deviation",
                "scope": f"store={SHIFTED_STORE}",
            }.items() <= raised[0].items() or any(
                a["check"] == "total.store_deviation" and a["scope"] == f"store={SHIFTED_STORE}"
                for a in raised
            )
            others = [
                a
                for a in raised
                if a["check"] == "total.store_deviation" and a["scope"] != f"store={SHIFTED_STORE}"
            ]
            assert not others, others
        else:
            assert code == 0 and summary["status"] == "ok", summary["alert_checks"]
            assert not alerts_file.exists()

    # the warehouse: one origin per week, forecasts re-made from the newest week, no duplicates
    table = query(project_copy, "SELECT * FROM retailds.fact_forecast_weekly")
    assert sorted(table["origin_date"].unique()) == [week_t, *fed]
    assert not table.duplicated(
        ["model_version", "origin_date", "store_id", "dept_id", "week_date"]
    ).any()
    per_origin = table.groupby("origin_date").size()
    assert (per_origin == per_origin.iloc[0]).all(), per_origin
    # the view: actuals joined for the weeks that arrived, NULL for weeks ahead
    view = query(project_copy, "SELECT * FROM retailds.vw_forecast_vs_actual")
    arrived = view[view["date"].isin(fed)]
    assert (
        arrived["actual"].notna().all() and view.loc[view["date"] > fed[-1], "actual"].isna().all()
    )
    facts = query(
        project_copy,
        "SELECT store_id AS store, dept_id AS dept, week_date AS date, weekly_sales "
        "FROM retailds.fact_sales_weekly",
    )
    joined = arrived.merge(facts, on=["store", "dept", "date"], how="left")
    assert (joined["actual"] == joined["weekly_sales"].fillna(0.0)).all()
    # forecasts of week T+1 made at T, step 1; of week T+2: two origins (steps 2 and 1)
    assert sorted(view.loc[view["date"] == fed[1], "step"].unique()) == [1, 2]

    # monitoring scores: computed from the stored forecasts, against the promise
    scores = pd.read_csv(project_copy / "data/08_reporting/monitoring/scores.csv")
    by_week = scores[scores["segment"] == "week"].set_index("segment_value")
    assert list(by_week.index) == [f"{w:%Y-%m-%d}" for w in fed]
    rows_t1 = arrived[arrived["date"] == fed[0]]
    expected = (rows_t1["forecast"] - rows_t1["actual"]).abs().mul(
        rows_t1["is_holiday"].map({True: 5, False: 1})
    ).sum() / rows_t1["is_holiday"].map({True: 5, False: 1}).sum()
    assert by_week.loc[f"{fed[0]:%Y-%m-%d}", "wmae"] == pytest.approx(expected)
    assert by_week.loc[f"{fed[-1]:%Y-%m-%d}", "ratio"] > by_week.loc[f"{fed[0]:%Y-%m-%d}", "ratio"]
    checks = query(project_copy, "SELECT * FROM retailds.monitoring_check")
    assert sorted(checks["as_of_week"].unique()) == fed
    assert (
        checks.groupby("as_of_week").size().nunique() == 1
    )  # one row per check and scope, every week
    alerted = checks[checks["status"] == "alert"]
    assert set(alerted["as_of_week"]) == {fed[-1]}
    assert f"store={SHIFTED_STORE}" in set(
        alerted.loc[alerted["check_name"] == "total.store_deviation", "scope"]
    )
    promise = json.loads(
        (project_copy / "data/08_reporting/monitoring/backtest_promise.json").read_text()
    )
    assert promise["model"] == "svd_decomposition" and [
        s["step"] for s in promise["by_step"]
    ] == list(range(1, HORIZON + 1))
    # MLflow: one monitoring metric per week
    runs = mlflow.search_runs(experiment_names=["retail_forecasting"])
    history = mlflow.MlflowClient().get_metric_history(runs.loc[0, "run_id"], "monitoring.alerts")
    assert history and history[-1].value > 0
    html = (project_copy / "data/08_reporting/monitoring/planner_report.html").read_text()
    assert "ALERT" in html and "data:image/png;base64," in html
    print(f"weekly cycle play: {time.perf_counter() - started:.1f} s")
