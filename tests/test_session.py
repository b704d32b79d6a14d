"""Whole Kedro sessions, run in a copy of the project (see the `project_copy` fixture)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from sqlalchemy.engine import make_url

from retail_forecasting.pipeline_registry import register_pipelines

PIPELINES = ["ingestion", "eda", "feature_engineering", "baselines", "modelling", "evaluation"]


def run(project: Path, pipeline: str = "__default__", env: str | None = None, **runtime_params):
    bootstrap_project(project)
    with KedroSession.create(
        project_path=project, env=env, runtime_params=runtime_params
    ) as session:
        return session.run(pipeline_name=pipeline)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_registry_has_the_six_pipelines_and_default_covers_them():
    configure_project("retail_forecasting")
    pipelines = register_pipelines()
    assert set(PIPELINES) <= set(pipelines)
    default_nodes = {n.name for n in pipelines["__default__"].nodes}
    for name in PIPELINES:
        assert {n.name for n in pipelines[name].nodes} <= default_nodes, name
    # ingestion comes first, evaluation last
    order = [n.name for n in pipelines["__default__"].nodes]
    ingestion = {n.name for n in pipelines["ingestion"].nodes}
    evaluation = {n.name for n in pipelines["evaluation"].nodes}
    assert max(order.index(n) for n in ingestion) < min(order.index(n) for n in evaluation)


@pytest.mark.slow
def test_default_pipeline_runs_end_to_end_on_a_tiny_synthetic_panel(project_copy, tiny_config):
    run(
        project_copy,
        synthetic_seed=tiny_config["seed"],
        synthetic_stores=tiny_config["n_stores"],
        synthetic_depts=tiny_config["n_depts"],
    )
    reporting = project_copy / "data" / "08_reporting"
    manifest = read_json(reporting / "input_manifest.json")
    assert manifest["source"] == "synthetic"
    train_csv = project_copy / "data" / "01_raw" / "synthetic" / "train.csv"
    assert (
        manifest["inputs"]["train"]["sha256"] == hashlib.sha256(train_csv.read_bytes()).hexdigest()
    )

    split = read_json(project_copy / "data" / "03_primary" / "prm_split_summary.json")
    assert split["test"]["weeks"] == 39 and split["validation"]["weeks"] == 39
    test = pd.read_parquet(project_copy / "data" / "03_primary" / "prm_test.parquet")
    assert str(test["date"].min().date()) == split["test"]["start"]

    metrics = read_json(reporting / "metrics.json")
    assert metrics["horizon_weeks"] == 39 and metrics["test_start"] == split["test"]["start"]
    assert {"seasonal_naive", "lightgbm"} <= set(metrics["models"])
    for scores in metrics["models"].values():
        assert scores["wmae"] > 0 and scores["rmse"] >= scores["mae"] > 0
    assert (reporting / "model_evaluation_report.csv").is_file()
    assert list(reporting.glob("*.png")), "at least one figure"

    mlflow.set_tracking_uri(f"sqlite:///{project_copy / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["retail_forecasting"])
    assert len(runs) == 1
    run_id = runs.loc[0, "run_id"]
    # typed parameters are logged flattened, backtest metrics per model and per fold
    assert runs.loc[0, "params.baselines.moving_average_window"] == "8"
    assert runs.loc[0, "params.feature_engineering.covariates.observed"].startswith(
        "['temperature'"
    )
    history = mlflow.MlflowClient().get_metric_history(run_id, "backtest_fold.seasonal_naive.wmae")
    assert [m.step for m in history] == [1, 2, 3]
    artifacts = [a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "manifests")]
    assert artifacts == ["manifests/input_manifest.json"]


def test_real_data_dir_is_read_and_fingerprinted(project_copy, tiny_raw_dir):
    run(project_copy, pipeline="ingestion", raw_data_dir=str(tiny_raw_dir))
    manifest = read_json(project_copy / "data" / "08_reporting" / "input_manifest.json")
    assert manifest["source"] == "real"
    for name in ("train", "features", "stores"):
        path = tiny_raw_dir / f"{name}.csv"
        assert manifest["inputs"][name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    rows = len(pd.read_csv(tiny_raw_dir / "train.csv"))
    load = read_json(project_copy / "data" / "03_primary" / "prm_warehouse_load_report.json")
    assert load["actual"]["vw_sales_analytics"] == rows == manifest["inputs"]["train"]["rows"]
    assert not (project_copy / "data" / "01_raw" / "synthetic").exists()


def test_incomplete_real_data_fails_without_falling_back(project_copy, tiny_raw_dir, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("train.csv", "stores.csv"):
        (partial / name).write_bytes((tiny_raw_dir / name).read_bytes())
    with pytest.raises(Exception, match="features.csv is missing"):
        run(project_copy, pipeline="ingestion", raw_data_dir=str(partial))
    assert not (project_copy / "data" / "01_raw" / "synthetic").exists()
    assert not (project_copy / "data" / "03_primary" / "prm_train.parquet").exists()


@pytest.mark.postgres
def test_local_env_loads_postgres_twice_with_identical_counts(
    project_copy, tiny_raw_dir, postgres_url, monkeypatch
):
    url = make_url(postgres_url)
    monkeypatch.setenv("DB_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DB_PORT", str(url.port or 5432))
    monkeypatch.setenv("DB_NAME", url.database)
    monkeypatch.setenv("DB_USER", url.username or "postgres")
    monkeypatch.setenv("DB_PASSWORD", url.password or "")
    reports = []
    for _ in range(2):
        run(project_copy, pipeline="ingestion", env="local", raw_data_dir=str(tiny_raw_dir))
        reports.append(
            read_json(project_copy / "data" / "03_primary" / "prm_warehouse_load_report.json")
        )
    assert reports[0] == reports[1]
    assert reports[0]["actual"]["fact_sales_weekly"] == len(pd.read_csv(tiny_raw_dir / "train.csv"))
    assert not (project_copy / "data" / "03_primary" / "warehouse.duckdb").exists()
