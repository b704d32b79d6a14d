"""The SageMaker Pipeline built from the Kedro pipelines, offline under moto (``mock_aws``).

The definition is compared with the reviewed snapshot
``snapshots/sagemaker_pipeline_definition.json``. When the Kedro pipelines (or the builder)
change on purpose, regenerate it and review the diff:

    RETAIL_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest \
        tests/aws/test_sagemaker_pipeline.py -k snapshot
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from retail_forecasting.aws import sagemaker_pipeline as sm
from retail_forecasting.aws.pipeline_graph import producers, step_dependencies
from retail_forecasting.aws.quality_gate import (
    check_metrics,
    check_registration,
    evaluate_conditions,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "sagemaker_pipeline_definition.json"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/retail-forecasting:snapshot"
ROLE = "arn:aws:iam::123456789012:role/retail-forecasting-sagemaker"

#: the build's environment, fixed so that the definition is reproducible
BUILD_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "RETAIL_S3_PREFIX": "s3://retail-forecasting-data/retail",
    "SAGEMAKER_ROLE_ARN": ROLE,
    "RETAIL_IMAGE_URI": IMAGE,
    "MLFLOW_TRACKING_URI": "http://mlflow.internal:5000",
    "RDS_SECRET_NAME": "retail-forecasting/rds",
    "DB_HOST": "retail.abc123.eu-west-1.rds.amazonaws.com",
    "DB_NAME": "retailds",
}
CLEARED = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "DB_PORT",
    "DB_USER",
    "DB_PASSWORD",
    "SAGEMAKER_PIPELINE_NAME",
    "SAGEMAKER_SUBNETS",
    "SAGEMAKER_SECURITY_GROUP_IDS",
    "SAGEMAKER_MODEL_PACKAGE_GROUP",
    "MLFLOW_EXPERIMENT_NAME",
)


@pytest.fixture
def build_env(monkeypatch):
    from moto import mock_aws

    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in BUILD_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def built(build_env):
    settings, pipeline = sm.build_from_project(PROJECT_ROOT, "sagemaker")
    return settings, sm.definition(pipeline)


def normalise(definition: dict) -> str:
    """Stable text: sorted keys; nothing volatile is left in a definition built offline."""
    text = json.dumps(definition, indent=2, sort_keys=True) + "\n"
    assert "123456789012" in text  # the fake account comes only from the fixed role and image
    return text


def test_definition_matches_the_reviewed_snapshot(built):
    _, definition = built
    text = normalise(definition)
    if os.environ.get("RETAIL_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(text, encoding="utf-8")
        pytest.skip(f"snapshot rewritten: review `git diff {SNAPSHOT.relative_to(PROJECT_ROOT)}`")
    expected = SNAPSHOT.read_text(encoding="utf-8")
    if text != expected:
        steps = lambda d: [s["Name"] for s in d["Steps"]]  # noqa: E731
        pytest.fail(
            "The SageMaker Pipeline definition changed (steps now "
            f"{steps(definition)}, snapshot {steps(json.loads(expected))}). If intended, "
            "regenerate and review: RETAIL_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest "
            "tests/aws/test_sagemaker_pipeline.py -k snapshot"
        )


def test_one_step_per_kedro_pipeline_in_dag_order(built):
    from retail_forecasting.pipeline_registry import register_pipelines

    settings, definition = built
    pipelines = register_pipelines()
    deps = step_dependencies(pipelines)
    processing = {s["Name"]: s for s in definition["Steps"] if s["Type"] == "Processing"}
    assert set(processing) == set(deps)
    for name, step in processing.items():
        arguments = step["Arguments"]
        assert arguments["AppSpecification"]["ImageUri"] == IMAGE
        assert arguments["AppSpecification"]["ContainerArguments"] == [
            "kedro",
            "run",
            "--env",
            "sagemaker",
            "--pipeline",
            name,
        ]
        assert sorted(step.get("DependsOn", [])) == deps[name]
        assert arguments["RoleArn"] == ROLE
        environment = arguments["Environment"]
        assert environment["RETAIL_S3_PREFIX"] == {"Get": "Parameters.S3Prefix"}
        assert environment["MLFLOW_TRACKING_URI"] == "http://mlflow.internal:5000"
        assert not {"DB_USER", "DB_PASSWORD"} & set(environment), "no secret in the definition"
    writer = producers(pipelines, list(deps))["rpt_metrics"]
    assert processing[writer]["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationMetrics",
            "OutputName": "metrics",
            "FilePath": "metrics.json",
        },
        {
            "PropertyFileName": "ChampionRegistration",
            "OutputName": "metrics",
            "FilePath": "registration.json",
        },
    ]
    assert processing[writer]["Arguments"]["Environment"]["RETAIL_EXPORTS"] == (
        "08_reporting/metrics.json=/opt/ml/processing/metrics"
    )
    # ChallengerAliasHook writes what the run registered in MLflow into the same output
    assert processing[writer]["Arguments"]["Environment"]["RETAIL_REGISTRATION_RECORD"] == (
        "/opt/ml/processing/metrics/registration.json"
    )
    assert producers(pipelines, list(deps))["rpt_champion_model"] == writer


def test_gate_registers_pending_manual_approval_or_fails(built):
    settings, definition = built
    (gate,) = [s for s in definition["Steps"] if s["Type"] == "Condition"]
    (register,) = gate["Arguments"]["IfSteps"]
    (fail,) = gate["Arguments"]["ElseSteps"]
    assert register["Type"] == "RegisterModel" and fail["Type"] == "Fail"
    assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["Arguments"]["ModelPackageGroupName"] == "retail-forecasting"
    assert register["Arguments"]["InferenceSpecification"]["Containers"][0]["Image"] == IMAGE
    # the MLflow version the package is, for the deploy-on-approval handler
    metadata = register["Arguments"]["CustomerMetadataProperties"]
    for key, path in {
        "mlflow_model_version": "mlflow_model_version",
        "mlflow_run_id": "mlflow_run_id",
        "mlflow_registered_model": "registered_model",
        "mlflow_quality_gate": "quality_gate",
    }.items():
        assert metadata[key] == {
            "Std:JsonGet": {
                "Path": path,
                "PropertyFile": {"Get": "Steps.evaluation.PropertyFiles.ChampionRegistration"},
            }
        }


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("champion", "champion_wmae", "champion_rmse", "passes"),
    [
        ("lightgbm", 10.0, 1.0, True),
        ("lightgbm", 1e9, 1.0, False),
        ("naive", 10.0, 1.0, False),
        ("lightgbm", INF, 1.0, False),
        ("lightgbm", NAN, 1.0, False),
        ("lightgbm", 10.0, INF, False),
        ("lightgbm", 10.0, NAN, False),
        ("lightgbm", 10.0, -1.0, False),
        ("lightgbm", 10.0, 1.7e308, True),
    ],
)
def test_definition_conditions_agree_with_the_plain_gate(
    built, champion, champion_wmae, champion_rmse, passes
):
    """The ConditionStep's JsonGet conditions say what check_registration says without a
    previous challenger (the ratio check needs the MLflow registry: only the hook has it)."""
    settings, definition = built
    (gate,) = [s for s in definition["Steps"] if s["Type"] == "Condition"]
    names = [*settings.quality_gate.baselines, "lightgbm"]
    models = {name: {"wmae": 100.0 + i, "mae": 1.0, "rmse": 1.0} for i, name in enumerate(names)}
    models[champion] = {"wmae": champion_wmae, "mae": 1.0, "rmse": champion_rmse}
    models["champion"] = dict(models[champion])
    metrics = {"champion": champion, "models": models}
    key = gate["Arguments"]["Conditions"][0]["Condition"]["QueryValue"]["Std:JsonGet"][
        "PropertyFile"
    ]["Get"]
    passed = evaluate_conditions(gate["Arguments"]["Conditions"], {key: metrics})
    assert passed == check_registration(metrics, None, settings.quality_gate).passed == passes
    if champion_rmse == 1.0:  # the baselines part alone, as before
        assert passed == check_metrics(metrics, settings.quality_gate)[0]


def test_gate_settings_come_from_the_evaluation_parameters(built):
    """One home for the gate's values: conf/base/parameters_evaluation.yml, which the local gate
    (ChallengerAliasHook) reads as EvaluationParams.quality_gate."""
    import yaml

    from retail_forecasting.pipelines.evaluation.nodes import EvaluationParams

    settings, definition = built
    conf = PROJECT_ROOT / "conf" / "base" / "parameters_evaluation.yml"
    local = EvaluationParams(**yaml.safe_load(conf.read_text())["evaluation"]).quality_gate
    gate = settings.quality_gate
    assert gate == local.gate_config(), "the SageMaker gate and the local gate read the same values"
    assert gate.metrics_dataset == "rpt_metrics" and gate.champion_scores == "models.champion"
    (step,) = [s for s in definition["Steps"] if s["Type"] == "Condition"]
    paths = json.dumps(step["Arguments"]["Conditions"])
    for baseline in local.baselines:
        assert f'"models.{baseline}.wmae"' in paths
    for metric in local.finite_metrics:
        assert f'"models.champion.{metric}"' in paths


def test_cli_graph_and_definition(build_env, tmp_path):
    runner = CliRunner()
    result = runner.invoke(sm.cli, ["graph", "--project-path", str(PROJECT_ROOT)])
    assert result.exit_code == 0, result.output
    assert "ingestion: after -" in result.output
    output = tmp_path / "definition.json"
    result = runner.invoke(
        sm.cli, ["definition", "--project-path", str(PROJECT_ROOT), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text())["Version"] == "2020-12-01"
    result = runner.invoke(
        sm.cli, ["definition", "--project-path", str(PROJECT_ROOT), "--pipeline", "ingestion"]
    )
    assert result.exit_code != 0 and "No selected pipeline writes 'rpt_metrics'" in str(
        result.exception
    )


def test_cli_upsert_start_and_approve_against_moto(build_env):
    import boto3

    runner = CliRunner()
    project = ["--project-path", str(PROJECT_ROOT)]
    result = runner.invoke(sm.cli, ["upsert", *project])
    assert result.exit_code == 0, result.output
    assert "Created model package group retail-forecasting" in result.output
    client = boto3.client("sagemaker", region_name="eu-west-1")
    described = client.describe_pipeline(PipelineName="retail-forecasting")
    steps = [s["Name"] for s in json.loads(described["PipelineDefinition"])["Steps"]]
    assert "ingestion" in steps and "ChampionBeatsBaselines" in steps
    assert runner.invoke(sm.cli, ["upsert", *project]).exit_code == 0  # idempotent: an update

    result = runner.invoke(sm.cli, ["start", *project, "--s3-prefix", "s3://other/prefix"])
    assert result.exit_code == 0, result.output
    executions = client.list_pipeline_executions(PipelineName="retail-forecasting")
    assert len(executions["PipelineExecutionSummaries"]) == 1

    result = runner.invoke(sm.cli, ["approve", *project])
    assert result.exit_code != 0 and "No model package pending approval" in result.output
    package = client.create_model_package(
        ModelPackageGroupName="retail-forecasting",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    result = runner.invoke(sm.cli, ["approve", *project, "--note", "reviewed metrics"])
    assert result.exit_code == 0, result.output
    status = client.describe_model_package(ModelPackageName=package)["ModelApprovalStatus"]
    assert status == "Approved"


def test_cli_gate_on_a_metrics_file(build_env, tmp_path):
    metrics = tmp_path / "metrics.json"
    models = {
        name: {"wmae": 100.0, "rmse": 1.0, "mae": 1.0}
        for name in sm.load_settings(PROJECT_ROOT).quality_gate.baselines
    }
    models["lightgbm"] = models["champion"] = {"wmae": 50.0, "rmse": 1.0, "mae": 1.0}
    metrics.write_text(json.dumps({"champion": "lightgbm", "models": models}))
    runner = CliRunner()
    args = ["gate", "--project-path", str(PROJECT_ROOT), "--metrics", str(metrics)]
    result = runner.invoke(sm.cli, args)
    assert result.exit_code == 0 and "PASS" in result.output
    models["champion"]["wmae"] = 100.0
    metrics.write_text(json.dumps({"champion": "lightgbm", "models": models}))
    result = runner.invoke(sm.cli, args)
    assert (
        result.exit_code == 1
        and "FAIL: champion 'lightgbm' test wmae=100 is not below" in result.output
    )
    models["champion"] = {"wmae": 50.0, "rmse": float("inf"), "mae": 1.0}  # JSON `Infinity`
    metrics.write_text(json.dumps({"champion": "lightgbm", "models": models}))
    result = runner.invoke(sm.cli, args)
    assert result.exit_code == 1
    assert "FAIL: champion 'lightgbm' test rmse=inf is not a finite" in result.output


def test_missing_settings_variable_is_named(build_env, monkeypatch):
    monkeypatch.delenv("SAGEMAKER_ROLE_ARN")
    with pytest.raises(Exception, match="SAGEMAKER_ROLE_ARN"):
        sm.load_settings(PROJECT_ROOT)
