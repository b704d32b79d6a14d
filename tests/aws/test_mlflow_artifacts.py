"""kedro-mlflow artifact datasets with their file on S3: saved there and logged to MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from kedro.io import DataCatalog
from kedro_mlflow.io.artifacts import MlflowArtifactDataset

from retail_forecasting.aws.mlflow_artifacts import MlflowRemoteArtifactDataset


@pytest.fixture(scope="module")
def tracking_db(tmp_path_factory):
    """One SQLite tracking store for the module (creating one takes seconds)."""
    return tmp_path_factory.mktemp("tracking") / "mlflow.db"


@pytest.fixture
def tracking(aws, tracking_db):
    mlflow.set_tracking_uri(f"sqlite:///{tracking_db}")
    experiment = mlflow.create_experiment(
        f"artifacts-{aws.bucket}", artifact_location=f"s3://{aws.bucket}/mlflow"
    )
    yield experiment
    while mlflow.active_run():
        mlflow.end_run()


def artifact(filepath: str, run_id: str | None = None):
    return MlflowArtifactDataset(
        dataset={"type": "json.JSONDataset", "filepath": filepath},
        artifact_path="reports",
        run_id=run_id,
    )


def test_a_local_file_is_left_to_kedro_mlflow(tracking, tmp_path):
    dataset = MlflowRemoteArtifactDataset(
        dataset={"type": "json.JSONDataset", "filepath": str(tmp_path / "b.json")},
        artifact_path="reports",
    )
    assert not dataset._remote
    with mlflow.start_run(experiment_id=tracking) as run:
        dataset.save({"local": True})
    assert dataset.load() == {"local": True}
    logged = [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "reports")]
    assert logged == ["reports/b.json"]


def test_kedro_mlflow_internals_it_relies_on_are_still_there(aws, tmp_path):
    """kedro-mlflow switches logging through ``_logging_activated`` on entries named Mlflow*,
    and the wrapped dataset keeps ``_fs``/``_protocol``; a kedro-mlflow upgrade that moves
    either fails here (tested range: kedro-mlflow 2.0.x)."""
    from kedro_mlflow.io.catalog.switch_catalog_logging import switch_catalog_logging

    remote = MlflowRemoteArtifactDataset(artifact(f"s3://{aws.bucket}/retail/a.json"))
    assert remote._remote and remote.wrapped._protocol == "s3" and remote.wrapped._fs
    catalog = DataCatalog({"remote": remote})
    switch_catalog_logging(catalog, False)
    assert remote.wrapped._logging_activated is False


def test_remote_artifact_is_saved_on_s3_and_logged(aws, tracking, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the local copy goes
    dataset = MlflowRemoteArtifactDataset(artifact(f"s3://{aws.bucket}/retail/08_reporting/m.json"))
    with mlflow.start_run(experiment_id=tracking) as run:
        dataset.save({"champion": "lightgbm"})
    assert aws.read_json("retail/08_reporting/m.json") == {"champion": "lightgbm"}
    logged = [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "reports")]
    assert logged == ["reports/m.json"]
    assert any(key.endswith("/artifacts/reports/m.json") for key in aws.keys("mlflow/"))
    assert dataset.load() == {"champion": "lightgbm"}
    assert not list(tmp_path.iterdir()), "the local copy is removed once logged"


def test_logging_can_be_switched_off_like_kedro_mlflow_does(aws, tracking):
    dataset = MlflowRemoteArtifactDataset(artifact(f"s3://{aws.bucket}/retail/x.json"))
    dataset._logging_activated = False
    with mlflow.start_run(experiment_id=tracking) as run:
        dataset.save([1, 2])
    assert aws.read_json("retail/x.json") == [1, 2]
    assert mlflow.MlflowClient().list_artifacts(run.info.run_id) == []


def test_artifact_of_a_given_run_is_fetched_to_s3(aws, tracking, tmp_path):
    source = tmp_path / "src" / "old.json"
    source.parent.mkdir()
    source.write_text(json.dumps({"from": "mlflow"}))
    with mlflow.start_run(experiment_id=tracking) as run:
        mlflow.log_artifact(str(source), "reports")
    dataset = MlflowRemoteArtifactDataset(
        artifact(f"s3://{aws.bucket}/retail/old.json", run_id=run.info.run_id)
    )
    assert dataset.load() == {"from": "mlflow"}
    assert aws.read_json("retail/old.json") == {"from": "mlflow"}


def test_datasets_from_factory_patterns_get_the_type_too(aws, tmp_path):
    config = {
        "{model}.rpt_tuning": {
            "type": "retail_forecasting.aws.mlflow_artifacts.MlflowRemoteArtifactDataset",
            "artifact_path": "tuning/{model}",
            "dataset": {
                "type": "json.JSONDataset",
                "filepath": f"s3://{aws.bucket}/retail/{{model}}/tuning.json",
            },
        },
    }
    catalog = DataCatalog.from_config(config)
    remote = catalog["catboost.rpt_tuning"]
    assert isinstance(remote, MlflowRemoteArtifactDataset)
    assert remote.wrapped.artifact_path == "tuning/catboost"


def test_the_environment_picks_the_artifact_type_through_globals(monkeypatch):
    """base keeps kedro-mlflow's dataset; sagemaker names the S3-aware one (no patching)."""
    from kedro.config import OmegaConfigLoader

    from retail_forecasting.resolvers import CUSTOM_RESOLVERS, find_project_root

    monkeypatch.setenv("RETAIL_S3_PREFIX", "s3://bucket/retail")
    conf = str(find_project_root(Path(__file__).parent) / "conf")
    types = {}
    for env in ("base", "sagemaker"):
        catalog = OmegaConfigLoader(
            conf,
            env=env,
            base_env="base",
            default_run_env="base",
            custom_resolvers=CUSTOM_RESOLVERS,
        )["catalog"]
        types[env] = {catalog[name]["type"] for name in ("rpt_metrics", "{model}.mdl_tuning")}
    assert types["base"] == {"kedro_mlflow.io.artifacts.MlflowArtifactDataset"}
    assert types["sagemaker"] == {
        "retail_forecasting.aws.mlflow_artifacts.MlflowRemoteArtifactDataset"
    }
