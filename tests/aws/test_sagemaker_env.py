"""`kedro run --env sagemaker`: datasets on S3 (moto server), warehouse on PostgreSQL through a
Secrets Manager secret, MLflow from MLFLOW_TRACKING_URI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from retail_forecasting.aws import entrypoint
from retail_forecasting.aws.mlflow_artifacts import MlflowRemoteArtifactDataset
from retail_forecasting.aws.pipeline_graph import step_dependencies, topological_order
from retail_forecasting.aws.quality_gate import GateConfig, check_metrics, check_registration
from retail_forecasting.resolvers import CUSTOM_RESOLVERS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCATION_KEYS = ("filepath", "path", "synthetic_dir", "raw_data_dir")


def sagemaker_config(project: Path, key: str, runtime_params: dict | None = None) -> dict:
    return OmegaConfigLoader(
        str(project / "conf"),
        env="sagemaker",
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
        runtime_params=runtime_params or {},
    )[key]


def locations(entry, found=None) -> list[tuple[str, str]]:
    """Every (key, value) of an entry, nested ones too, that says where data lives."""
    found = [] if found is None else found
    if isinstance(entry, dict):
        for key, value in entry.items():
            if key in LOCATION_KEYS and isinstance(value, str) and value:
                found.append((key, value))
            else:
                locations(value, found)
    return found


def test_every_catalog_location_is_under_the_s3_prefix(monkeypatch):
    monkeypatch.setenv("RETAIL_S3_PREFIX", "s3://bucket/prefix")
    catalog = sagemaker_config(PROJECT_ROOT, "catalog", {"raw_data_dir": "s3://bucket/raw/b1"})
    checked = 0
    for name, entry in catalog.items():
        for key, value in locations(entry):
            checked += 1
            assert value.startswith("s3://bucket/"), f"{name}.{key} = {value} is not on S3"
    assert checked > 10
    assert catalog["warehouse"]["credentials"] == "warehouse_db"
    assert catalog["prm_sales_analytics"]["credentials"] == "warehouse_db"


def test_sagemaker_globals_keep_the_keys_of_base():
    # Kedro replaces base's top-level globals blocks by the environment's as a whole
    base = yaml.safe_load((PROJECT_ROOT / "conf/base/globals.yml").read_text())
    env = yaml.safe_load((PROJECT_ROOT / "conf/sagemaker/globals.yml").read_text())
    for block, values in base.items():
        assert set(env.get(block, {})) >= set(values), f"globals block {block!r}"


def test_missing_prefix_or_tracking_uri_is_an_error_naming_the_variable(monkeypatch):
    monkeypatch.delenv("RETAIL_S3_PREFIX", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(Exception, match="RETAIL_S3_PREFIX"):
        sagemaker_config(PROJECT_ROOT, "catalog")
    monkeypatch.setenv("RETAIL_S3_PREFIX", "s3://bucket/prefix")
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        env="sagemaker",
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
        config_patterns={"mlflow": ["mlflow*"]},
    )
    with pytest.raises(Exception, match="MLFLOW_TRACKING_URI"):
        loader["mlflow"]


def test_base_environment_is_unchanged_by_the_sagemaker_files(monkeypatch):
    monkeypatch.delenv("RETAIL_S3_PREFIX", raising=False)
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        env="base",
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    catalog = loader["catalog"]
    assert catalog["prm_train"]["filepath"].endswith("/data/03_primary/prm_train.parquet")
    assert catalog["warehouse"]["credentials"]["con"].startswith("duckdb:///")


@pytest.mark.slow
@pytest.mark.postgres
def test_kedro_run_env_sagemaker_end_to_end(
    aws, postgres_secret, project_copy, tiny_raw_dir, tmp_path, monkeypatch
):
    # raw data in the bucket, like the Kaggle files a user uploads
    for name in ("train.csv", "features.csv", "stores.csv", "test.csv"):
        aws.put_file(f"raw/tiny/{name}", tiny_raw_dir / name)
    prefix = f"s3://{aws.bucket}/retail"
    for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)  # the secret is the only source
    tracking = tmp_path / "tracking" / "mlflow.db"  # a stand-in for the MLflow server
    tracking.parent.mkdir()
    monkeypatch.setenv("RETAIL_S3_PREFIX", prefix)
    monkeypatch.setenv("RDS_SECRET_NAME", postgres_secret)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tracking}")
    monkeypatch.setenv("MLFLOW_ARTIFACT_LOCATION", f"s3://{aws.bucket}/mlflow")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "retail_forecasting_e2e")

    runtime = {"raw_data_dir": f"s3://{aws.bucket}/raw/tiny"}
    bootstrap_project(project_copy)
    from kedro.framework.project import pipelines

    default = pipelines["__default__"]
    # one run per Kedro pipeline, in the SageMaker Pipeline's order: like the jobs, the steps
    # share nothing but S3, the warehouse and the MLflow server. The first one runs the exact
    # container command of its step, in a child process (the entry point, as in the image);
    # the others run in sessions here, which is faster.
    order = topological_order(step_dependencies(pipelines))
    exports = tmp_path / "exports"
    environ = {
        **os.environ,
        "RETAIL_PROJECT_DIR": str(project_copy),
        "RETAIL_S3_PREFIX": prefix + "/",  # the entry point strips the slash
        "RETAIL_EXPORTS": f"03_primary/prm_split_summary.json={exports}",
    }
    code = entrypoint.main(
        [
            "kedro",
            "run",
            "--env",
            "sagemaker",
            "--pipeline",
            order[0],
            "--params",
            f"raw_data_dir={runtime['raw_data_dir']}",
        ],
        environ,
        sagemaker_root=tmp_path / "opt-ml",
    )
    assert code == 0
    assert json.loads((exports / "prm_split_summary.json").read_text())["test"]["weeks"] == 39
    for name in order[1:]:
        with KedroSession.create(
            project_path=project_copy, env="sagemaker", runtime_params=runtime
        ) as session:
            session.run(pipeline_names=[name])
        # each job is its own process; in one process kedro-mlflow leaves its finished run
        # on MLflow's active-run stack, and the next session would log into it
        while mlflow.active_run():
            mlflow.end_run()
    with KedroSession.create(
        project_path=project_copy, env="sagemaker", runtime_params=runtime
    ) as session:
        catalog = session.load_context().catalog

    # every dataset with a file (explicit or from a factory pattern) resolves to the bucket,
    # and each one the run wrote is there
    names = {*catalog.keys(), *default.datasets()}
    names = {n for n in names if not n.startswith("params:") and n != "parameters"}
    keys = set(aws.keys("retail/"))
    files = {}
    for name in sorted(names):
        dataset = catalog.get(name)
        inner = dataset.wrapped if isinstance(dataset, MlflowRemoteArtifactDataset) else dataset
        if inner is None or getattr(inner, "_filepath", None) is None:
            continue
        if not hasattr(inner, "_protocol"):  # MLflow model datasets: stored by MLflow itself
            # kedro-mlflow's model datasets, or a project subclass (RegisteredModelDataset)
            assert any(
                c.__module__.startswith("kedro_mlflow.io.models") for c in type(inner).__mro__
            ), name
            continue
        assert inner._protocol == "s3", f"{name} is not on S3: {inner._filepath}"
        files[name] = str(inner._filepath)
        assert files[name].startswith(f"{aws.bucket}/retail/"), name
    written = {name: path for name, path in files.items() if name in default.all_outputs()}
    assert len(written) > 10, "the run writes files"
    for name, path in written.items():
        assert path.removeprefix(f"{aws.bucket}/") in keys, f"{name} missing from the bucket"
    # ...and nothing on local disk but the MLflow store
    assert not [p for p in (project_copy / "data").rglob("*") if p.is_file()]
    assert not (project_copy / "mlflow.db").exists() and not (project_copy / "mlruns").exists()

    # the warehouse on PostgreSQL, read through the secret
    load = aws.read_json("retail/03_primary/prm_warehouse_load_report.json")
    assert load["actual"]["fact_sales_weekly"] == len(pd.read_csv(tiny_raw_dir / "train.csv"))
    manifest = aws.read_json("retail/08_reporting/input_manifest.json")
    assert manifest["inputs"]["train"]["path"] == f"s3://{aws.bucket}/raw/tiny/train.csv"

    # MLflow runs on the tracking URI, their artifacts in the artifact store (the bucket)
    mlflow.set_tracking_uri(f"sqlite:///{tracking}")
    runs = mlflow.search_runs(experiment_names=["retail_forecasting_e2e"])
    # runs are named '<pipeline> · <data source> · h<horizon> · <commit>' (run_names.RunNameHook)
    scopes = [name.split(" · ")[0] for name in runs["tags.mlflow.runName"]]
    assert sorted(scopes) == sorted(order), "one MLflow run per step"
    assert all(" · real · h" in name for name in runs["tags.mlflow.runName"])
    assert all(uri.startswith(f"s3://{aws.bucket}/mlflow/") for uri in runs["artifact_uri"])
    evaluation = runs.loc[[s == "evaluation" for s in scopes], "run_id"].iloc[0]
    assert mlflow.MlflowClient().list_artifacts(evaluation), "artifacts logged from S3 files"

    # the quality gate of the SageMaker Pipeline finds every value it reads in this run's
    # metrics.json (a missing path raises GateError); pass or fail depends on the tiny data.
    # Its baselines and metrics come from parameters_evaluation.yml (as load_settings merges them)
    settings = yaml.safe_load((PROJECT_ROOT / "conf/sagemaker/sagemaker_pipeline.yml").read_text())
    evaluation_params = yaml.safe_load(
        (PROJECT_ROOT / "conf/base/parameters_evaluation.yml").read_text()
    )["evaluation"]
    metrics = aws.read_json("retail/08_reporting/metrics.json")
    gate = GateConfig.from_dict({**evaluation_params["quality_gate"], **settings["quality_gate"]})
    passed, reasons = check_metrics(metrics, gate)
    assert set(gate.baselines) <= set(metrics["models"]), "every configured baseline is scored"
    assert passed or reasons
    decision = check_registration(metrics, None, gate)
    assert not [r for r in decision.reasons if "has no value at" in r], decision.reasons
    # ...and the evaluation step's ChallengerAliasHook applied the same rule to the MLflow alias
    row = runs.loc[[s == "evaluation" for s in scopes]].iloc[0]
    assert row["tags.quality_gate"] == decision.status, row["tags.quality_gate_reasons"]
    aliases = mlflow.MlflowClient().get_registered_model("retail_forecasting_champion").aliases
    assert ("challenger" in aliases) == decision.passed  # no previous challenger in this store
