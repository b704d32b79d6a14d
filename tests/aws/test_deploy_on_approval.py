"""infra/lambdas/deploy_on_approval.py: a SageMaker model package approved (moto server) moves
the serving alias of the MLflow registry (SQLite in a temporary folder) to the same model; a
package as the SageMaker Pipeline registers it names that model in its metadata."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

import mlflow
import pytest

from .conftest import PROJECT_ROOT

GROUP = "retail-forecasting"
NAME = "unset"


@pytest.fixture(scope="module")
def registry_uri(tmp_path_factory) -> str:
    """One SQLite registry for the module (creating one takes seconds); a model per test."""
    return f"sqlite:///{tmp_path_factory.mktemp('approval') / 'mlflow.db'}"


@pytest.fixture
def approval(aws, registry_uri, monkeypatch):
    """The handler module, a model with versions 1 (champion) and 2 (challenger), a group."""
    global NAME
    NAME = f"champion_{uuid.uuid4().hex[:8]}"
    uri = registry_uri
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("REGISTERED_MODEL", NAME)
    for name in ("MODEL_PACKAGE_GROUP", "SERVING_ALIAS", "MLFLOW_CANDIDATE_ALIAS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "infra" / "lambdas"))
    sys.modules.pop("deploy_on_approval", None)
    import deploy_on_approval

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(NAME)
    for _ in range(2):
        client.create_model_version(NAME, source="file:///nowhere", run_id=None)
    client.set_registered_model_alias(NAME, "champion", "1")
    client.set_registered_model_alias(NAME, "challenger", "2")
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    yield deploy_on_approval, client, sagemaker
    sys.modules.pop("deploy_on_approval", None)


def package(sagemaker, metadata=None, group=GROUP) -> str:
    time.sleep(0.02)  # creation times strictly after the MLflow versions
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rf:1"}],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["text/csv", "application/json"],
        },
        CustomerMetadataProperties={"champion": "ensemble", **(metadata or {})},
    )["ModelPackageArn"]
    return arn


def approve(sagemaker, arn, status="Approved") -> dict:
    """Approve the package, and the EventBridge event SageMaker sends for it."""
    # moto 5.2 drops CustomerMetadataProperties on an update that does not repeat them (AWS keeps
    # them): repeat them, as a no-op for AWS
    metadata = (
        sagemaker.describe_model_package(ModelPackageName=arn).get("CustomerMetadataProperties")
        or {}
    )
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus=status,
        **({"CustomerMetadataProperties": metadata} if metadata else {}),
    )
    return {
        "version": "0",
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {
            "ModelPackageGroupName": GROUP,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
        },
    }


def aliases(client) -> dict[str, str]:
    return {
        alias: str(version) for alias, version in client.get_registered_model(NAME).aliases.items()
    }


def test_approved_package_moves_champion_to_the_gated_challenger(approval):
    handler, client, sagemaker = approval
    arn = package(sagemaker)
    result = handler.handler(approve(sagemaker, arn))
    assert result["status"] == "deployed" and result["version"] == "2" and result["previous"] == "1"
    assert aliases(client) == {"champion": "2", "challenger": "2"}
    assert client.get_model_version(NAME, "2").tags[handler.TAG_PACKAGE] == arn
    # EventBridge may deliver twice: nothing changes the second time
    again = handler.handler(approve(sagemaker, arn))
    assert again["status"] == "unchanged" and aliases(client)["champion"] == "2"


def test_package_metadata_names_the_version_explicitly(approval):
    handler, client, sagemaker = approval
    client.set_registered_model_alias(NAME, "champion", "2")
    arn = package(sagemaker, {"mlflow_model_version": "1"})
    result = handler.handler(approve(sagemaker, arn))
    assert (result["status"], result["version"]) == ("deployed", "1")
    assert "metadata" in result["found_by"] and aliases(client)["champion"] == "1"


def test_a_challenger_newer_than_the_package_is_refused(approval):
    handler, client, sagemaker = approval
    arn = package(sagemaker)
    time.sleep(0.02)
    client.create_model_version(NAME, source="file:///later", run_id=None)  # version 3, a later run
    client.set_registered_model_alias(NAME, "challenger", "3")
    with pytest.raises(
        handler.ApprovalRefused, match=r"version 3, registered .* after the package"
    ):
        handler.handler(approve(sagemaker, arn))
    assert aliases(client)["champion"] == "1"


@pytest.mark.parametrize("case", ["rejected", "other_group", "not_an_event", "rejected_since"])
def test_other_events_change_nothing(approval, case):
    handler, client, sagemaker = approval
    arn = package(sagemaker)
    if case == "rejected":
        event = approve(sagemaker, arn, "Rejected")
    elif case == "other_group":
        event = approve(sagemaker, arn)
        event["detail"]["ModelPackageGroupName"] = "someone-else"
    elif case == "not_an_event":
        event = {"hello": "world"}
    else:  # the event says Approved, but the package was rejected before the handler ran
        event = approve(sagemaker, arn)
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    assert handler.handler(event)["status"] == "skipped"
    assert aliases(client) == {"champion": "1", "challenger": "2"}


@pytest.mark.parametrize(
    "metadata",
    [
        {"mlflow_model_version": "1", "mlflow_registered_model": "someone_elses_model"},
        {
            "mlflow_model_version": "1",
            "mlflow_run_id": "0123456789abcdef",
        },  # version 1 has no such run
    ],
)
def test_metadata_that_does_not_match_the_registry_is_refused(approval, metadata):
    handler, client, sagemaker = approval
    arn = package(sagemaker, metadata)
    with pytest.raises(handler.ApprovalRefused, match="Nothing deployed|nothing deployed"):
        handler.handler(approve(sagemaker, arn))
    assert aliases(client) == {"champion": "1", "challenger": "2"}


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def evaluation_run(name: str, record: Path) -> str:
    """What the SageMaker evaluation step does to MLflow: register the champion with the
    catalog's dataset type, ``ChallengerAliasHook`` judging it and writing the registration
    record (``RETAIL_REGISTRATION_RECORD``, set by the pipeline on that step)."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro_mlflow.io.models import MlflowModelTrackingDataset

    from retail_forecasting.hooks import CHAMPION_DATASET, METRICS_DATASET, ChallengerAliasHook
    from retail_forecasting.pipelines.evaluation.nodes import EvaluationParams

    params = EvaluationParams()
    models = {
        b: {"wmae": 1800.0, "mae": 1700.0, "rmse": 3500.0} for b in params.quality_gate.baselines
    }
    models["ensemble"] = models["champion"] = {"wmae": 1500.0, "mae": 1400.0, "rmse": 3000.0}
    metrics = {"champion": "ensemble", "models": models}
    catalog = DataCatalog(
        {
            CHAMPION_DATASET: MlflowModelTrackingDataset(
                flavor="mlflow.pyfunc",
                pyfunc_workflow="python_model",
                save_args={
                    "name": "champion",
                    "registered_model_name": name,
                    "pip_requirements": ["mlflow"],
                },
            ),
            METRICS_DATASET: MemoryDataset(),
        }
    )
    catalog["params:evaluation"] = params
    hook = ChallengerAliasHook()
    hook.after_catalog_created(
        catalog, {CHAMPION_DATASET: {"save_args": {"registered_model_name": name}}}
    )
    hook.before_pipeline_run()
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("approval") or client.get_experiment(
        client.create_experiment(
            "approval", artifact_location=(record.parent.parent / "artifacts").as_uri()
        )
    )
    with mlflow.start_run(experiment_id=experiment.experiment_id):
        catalog.save(METRICS_DATASET, metrics)
        hook.after_dataset_saved(METRICS_DATASET, metrics, None)
        catalog.save(CHAMPION_DATASET, Echo())
        hook.after_dataset_saved(CHAMPION_DATASET, None, None)
    os.environ["RETAIL_REGISTRATION_RECORD"] = str(record)
    try:
        hook.after_pipeline_run()
    finally:
        del os.environ["RETAIL_REGISTRATION_RECORD"]
    return str(catalog.get(CHAMPION_DATASET).model_info.registered_model_version)


def resolve(value, documents: dict):
    """A step argument of the definition with its ``Std:JsonGet`` values read from ``documents``
    (property file name -> JSON), as SageMaker resolves them when the step runs."""
    from retail_forecasting.aws.quality_gate import json_get

    if isinstance(value, dict) and "Std:JsonGet" in value:
        spec = value["Std:JsonGet"]
        return json_get(documents[spec["PropertyFile"]["Get"].rsplit(".", 1)[1]], spec["Path"])
    if isinstance(value, dict) and str(value.get("Get", "")).startswith("Parameters."):
        return "s3://bucket/prefix"
    return value


def test_a_package_of_the_sagemaker_pipeline_deploys_the_version_its_run_registered(
    aws, registry_uri, tmp_path, monkeypatch
):
    """The RegisterModel step's metadata, resolved from the files the evaluation step writes,
    names the MLflow version of that run: approving the package deploys it even when a later
    execution's version already holds `challenger` (where the fallback would refuse)."""
    from retail_forecasting.aws import sagemaker_pipeline as sm

    name = f"champion_{uuid.uuid4().hex[:8]}"
    for variable, value in {
        "MLFLOW_TRACKING_URI": registry_uri,
        "REGISTERED_MODEL": name,
        "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/sm",
        "RETAIL_IMAGE_URI": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rf:1",
        "RETAIL_S3_PREFIX": "s3://bucket/prefix",
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in (
        "MODEL_PACKAGE_GROUP",
        "SERVING_ALIAS",
        "MLFLOW_CANDIDATE_ALIAS",
        "SAGEMAKER_MODEL_PACKAGE_GROUP",
        "SAGEMAKER_PIPELINE_NAME",
    ):
        monkeypatch.delenv(variable, raising=False)
    # MLflow's process-wide URIs (module state and the variables set_*_uri export) come back
    # as they were: restoring get_registry_uri()'s value would pin ./mlflow.db for later tests
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    monkeypatch.setattr(tracking_utils, "_tracking_uri", tracking_utils._tracking_uri)
    monkeypatch.setattr(registry_utils, "_registry_uri", registry_utils._registry_uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    mlflow.set_tracking_uri(registry_uri)
    mlflow.set_registry_uri(registry_uri)
    try:
        record = tmp_path / "metrics" / sm.REGISTRATION_FILE
        version = evaluation_run(name, record)
        written = json.loads(record.read_text())
        assert written == {
            "registered_model": name,
            "mlflow_model_version": version,
            "mlflow_run_id": written["mlflow_run_id"],
            "quality_gate": "passed",
        }

        _, pipeline = sm.build_from_project(PROJECT_ROOT, "sagemaker")
        definition = sm.definition(pipeline)
        (gate,) = [s for s in definition["Steps"] if s["Type"] == "Condition"]
        (register,) = gate["Arguments"]["IfSteps"]
        arguments = register["Arguments"]
        documents = {
            sm.PROPERTY_FILE: {"champion": "ensemble"},
            sm.REGISTRATION_PROPERTY_FILE: written,
        }
        metadata = {
            k: resolve(v, documents) for k, v in arguments["CustomerMetadataProperties"].items()
        }
        assert (
            metadata["mlflow_model_version"] == version
            and metadata["mlflow_registered_model"] == name
        )

        sagemaker = aws.client("sagemaker")
        sagemaker.create_model_package_group(
            ModelPackageGroupName=arguments["ModelPackageGroupName"]
        )
        time.sleep(0.02)
        arn = sagemaker.create_model_package(
            ModelPackageGroupName=arguments["ModelPackageGroupName"],
            ModelApprovalStatus=arguments["ModelApprovalStatus"],
            InferenceSpecification=arguments["InferenceSpecification"],
            CustomerMetadataProperties=metadata,
        )["ModelPackageArn"]
        time.sleep(0.02)
        later = evaluation_run(name, tmp_path / "later" / sm.REGISTRATION_FILE)  # another execution
        client = mlflow.MlflowClient()
        assert client.get_registered_model(name).aliases["challenger"] == int(later)

        sys.modules.pop("deploy_on_approval", None)
        monkeypatch.syspath_prepend(str(PROJECT_ROOT / "infra" / "lambdas"))
        import deploy_on_approval

        result = deploy_on_approval.handler(approve(sagemaker, arn))
        assert (result["status"], result["version"]) == ("deployed", version), result
        assert "metadata" in result["found_by"]
        assert client.get_registered_model(name).aliases["champion"] == int(version)
    finally:
        sys.modules.pop("deploy_on_approval", None)
        while mlflow.active_run():
            mlflow.end_run()
