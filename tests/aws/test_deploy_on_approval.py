"""infra/lambdas/deploy_on_approval.py: a SageMaker model package approved (moto server) moves
the serving alias of the MLflow registry (SQLite in a temporary folder) to the same model."""

from __future__ import annotations

import sys
import time
import uuid

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
        ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={"Containers": [{"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rf:1"}],
                                "SupportedContentTypes": ["text/csv", "application/json"],
                                "SupportedResponseMIMETypes": ["text/csv", "application/json"]},
        CustomerMetadataProperties={"champion": "ensemble", **(metadata or {})},
    )["ModelPackageArn"]
    return arn


def approve(sagemaker, arn, status="Approved") -> dict:
    """Approve the package, and the EventBridge event SageMaker sends for it."""
    # moto 5.2 drops CustomerMetadataProperties on an update that does not repeat them (AWS keeps
    # them): repeat them, as a no-op for AWS
    metadata = sagemaker.describe_model_package(ModelPackageName=arn).get("CustomerMetadataProperties") or {}
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status,
                                   **({"CustomerMetadataProperties": metadata} if metadata else {}))
    return {"version": "0", "source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
            "detail": {"ModelPackageGroupName": GROUP, "ModelPackageArn": arn, "ModelApprovalStatus": status}}


def aliases(client) -> dict[str, str]:
    return {alias: str(version) for alias, version in client.get_registered_model(NAME).aliases.items()}


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
    with pytest.raises(handler.ApprovalRefused, match=r"version 3, registered .* after the package"):
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
