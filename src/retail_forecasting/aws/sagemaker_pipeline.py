"""Turn the Kedro pipelines into a SageMaker Pipeline (the kedro-sagemaker plugin predates
Kedro 1.x).

One Processing step per registered Kedro pipeline, all running the project's image with
``kedro run --env sagemaker --pipeline <name>``; a step depends on the steps whose datasets it
reads (:mod:`retail_forecasting.aws.pipeline_graph`). The step that writes the metrics file
exports it as a job output, a ``PropertyFile`` reads it, and a ``ConditionStep`` (the quality
gate, :mod:`retail_forecasting.aws.quality_gate`) registers the model package — always
``PendingManualApproval`` — when the champion beats every baseline and its test scores are
finite (:func:`retail_forecasting.aws.quality_gate.check_registration` without the previous
challenger, which only the MLflow hook can read), or fails the execution.

The package records which MLflow version it is: the same step's output also holds
``registration.json``, which the step's ``ChallengerAliasHook`` writes
(``RETAIL_REGISTRATION_RECORD``: the registered model, version and run of that evaluation run,
and the local gate's outcome), and the package's ``CustomerMetadataProperties``
``mlflow_registered_model``, ``mlflow_model_version``, ``mlflow_run_id`` and
``mlflow_quality_gate`` are read from it (``JsonGet``). The deploy-on-approval handler
(``infra/lambdas/deploy_on_approval.py``) points the serving alias at that version.

Settings: ``conf/sagemaker/sagemaker_pipeline.yml`` (values per account from the environment).
Command line (needs the ``aws`` extra: ``pip install -e ".[aws]"``)::

    python -m retail_forecasting.aws.sagemaker_pipeline graph
    python -m retail_forecasting.aws.sagemaker_pipeline definition --output definition.json
    python -m retail_forecasting.aws.sagemaker_pipeline upsert
    python -m retail_forecasting.aws.sagemaker_pipeline start [--wait]
    python -m retail_forecasting.aws.sagemaker_pipeline gate --metrics s3://.../metrics.json
    python -m retail_forecasting.aws.sagemaker_pipeline approve [--package-arn ARN]
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from retail_forecasting.aws.pipeline_graph import (
    producers,
    step_dependencies,
    terminal_writer,
    topological_order,
)
from retail_forecasting.aws.quality_gate import MAX_FINITE, GateConfig, check_registration
from retail_forecasting.hooks import CHAMPION_DATASET, RECORD_VARIABLE

logger = logging.getLogger(__name__)

SETTINGS_FILE = "sagemaker_pipeline"
METRICS_OUTPUT = "metrics"
METRICS_LOCAL_DIR = "/opt/ml/processing/metrics"
PROPERTY_FILE = "EvaluationMetrics"
#: what the evaluation run registered in MLflow (written by ChallengerAliasHook, hooks.py)
REGISTRATION_FILE = "registration.json"
REGISTRATION_PROPERTY_FILE = "ChampionRegistration"
#: the model package's CustomerMetadataProperties -> the key of the registration record
REGISTRATION_METADATA = {
    "mlflow_registered_model": "registered_model",
    "mlflow_model_version": "mlflow_model_version",
    "mlflow_run_id": "mlflow_run_id",
    "mlflow_quality_gate": "quality_gate",
}
GATE_STEP = "ChampionBeatsBaselines"
REGISTER_STEP = "RegisterChampion"
FAIL_STEP = "ChampionDoesNotBeatBaselines"
APPROVAL_STATUS = "PendingManualApproval"
_STEP_NAME = re.compile(r"[^A-Za-z0-9\-_]")

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # the SDK is pinned to v2 on purpose


# ------------------------------------------------------------------------------ settings


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]


@dataclass
class Settings:
    """``conf/<env>/sagemaker_pipeline.yml``, resolved."""

    pipeline_name: str
    role_arn: str
    image_uri: str
    s3_prefix: str
    region: str | None = None
    kedro_env: str = "sagemaker"
    pipelines: list[str] = field(default_factory=list)
    processing: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    quality_gate: GateConfig = field(default_factory=lambda: GateConfig(baselines=("naive",)))
    model_registration: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Settings:
        values = dict(values)
        missing = [
            key
            for key in ("pipeline_name", "role_arn", "image_uri", "s3_prefix")
            if not values.get(key)
        ]
        if missing:
            raise click.UsageError(f"{SETTINGS_FILE}.yml: missing value(s) for {missing}")
        prefix = str(values["s3_prefix"]).rstrip("/")
        if not prefix.startswith("s3://"):
            raise click.UsageError(f"s3_prefix must look like s3://bucket/prefix, got {prefix!r}")
        values["s3_prefix"] = prefix
        values["pipelines"] = _as_list(values.get("pipelines"))
        values["environment"] = {
            str(k): str(v)
            for k, v in (values.get("environment") or {}).items()
            if v not in (None, "")
        }
        values["quality_gate"] = GateConfig.from_dict(values.get("quality_gate") or {})
        return cls(**values)


def _config_loader(project_path: Path, env: str, **kwargs: Any) -> Any:
    """The project's configuration (``conf/base`` under ``conf/<env>``) with its resolvers."""
    from kedro.config import OmegaConfigLoader

    from retail_forecasting.resolvers import CUSTOM_RESOLVERS

    return OmegaConfigLoader(
        conf_source=str(project_path / "conf"),
        env=env,
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
        **kwargs,
    )


def load_settings(project_path: Path, env: str = "sagemaker") -> Settings:
    """Read ``conf/<env>/sagemaker_pipeline.yml`` with the project's resolvers."""
    loader = _config_loader(
        project_path, env, config_patterns={SETTINGS_FILE: [f"{SETTINGS_FILE}*"]}
    )
    values = dict(loader[SETTINGS_FILE])
    values["quality_gate"] = {
        **evaluation_gate_parameters(loader),
        **(values.get("quality_gate") or {}),
    }
    return Settings.from_dict(values)


def evaluation_gate_parameters(loader: Any) -> dict[str, Any]:
    """``evaluation.quality_gate`` of the parameters (``conf/base/parameters_evaluation.yml``):
    the baselines, metrics and finite metrics the ``ConditionStep`` checks are the ones the
    local gate (``ChallengerAliasHook``) checks; ``sagemaker_pipeline.yml`` adds where the
    metrics file is (and may override, which it does not by default)."""
    from kedro.config import MissingConfigException

    try:
        parameters = loader["parameters"]
    except MissingConfigException:  # no parameters: the settings file must say everything
        return {}
    gate = (parameters.get("evaluation") or {}).get("quality_gate") or {}
    return dict(gate)


def catalog_relative_path(project_path: Path, env: str, dataset: str, s3_prefix: str) -> str:
    """Where ``dataset`` lives relative to ``RETAIL_S3_PREFIX`` in environment ``env``."""
    previous = os.environ.get("RETAIL_S3_PREFIX")
    os.environ["RETAIL_S3_PREFIX"] = s3_prefix
    try:
        entry = _config_loader(project_path, env)["catalog"].get(dataset)
    finally:
        if previous is None:
            os.environ.pop("RETAIL_S3_PREFIX", None)
        else:
            os.environ["RETAIL_S3_PREFIX"] = previous
    if entry is None:
        raise click.UsageError(f"The {env} catalog has no dataset {dataset!r}")
    filepath = entry.get("filepath")
    if filepath is None and isinstance(entry.get("dataset"), Mapping):
        filepath = entry["dataset"].get("filepath")  # kedro-mlflow artifact wrappers
    if not filepath or not str(filepath).startswith(s3_prefix + "/"):
        raise click.UsageError(
            f"Dataset {dataset!r} must be a file under RETAIL_S3_PREFIX in env {env!r}; "
            f"its filepath is {filepath!r}"
        )
    return str(filepath)[len(s3_prefix) + 1 :]


def registered_pipelines(project_path: Path) -> dict[str, Any]:
    """The project's registered Kedro pipelines."""
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_path)
    return dict(pipelines)


def step_name(pipeline: str) -> str:
    return _STEP_NAME.sub("-", pipeline)[:64]


# ------------------------------------------------------------------------------ builder


@dataclass
class _Shared:
    """What the step builders share: the settings, the session, the pipeline parameters, the
    network, and where the evaluation step's metrics and registration record go."""

    settings: Settings
    session: Any
    s3_prefix: Any  # ParameterString S3Prefix
    instance_type: Any  # ParameterString ProcessingInstanceType
    network: Any  # NetworkConfig or None
    metrics_relative_path: str
    metrics_destination: Any  # Join: s3 prefix / sagemaker / execution id / metrics
    metrics_file: Any  # PropertyFile of metrics.json
    registration_file: Any  # PropertyFile of registration.json


def build_pipeline(
    settings: Settings,
    kedro_pipelines: Mapping[str, Any],
    metrics_relative_path: str,
    sagemaker_session: Any = None,
):
    """The ``sagemaker.workflow.pipeline.Pipeline`` object (nothing is sent to AWS): one
    processing step per Kedro pipeline in dependency order, then the quality gate that registers
    the champion or fails."""
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.pipeline import Pipeline

    dependencies = step_dependencies(kedro_pipelines, settings.pipelines or None)
    order = topological_order(dependencies)
    metrics_step = _evaluation_step_name(settings.quality_gate, producers(kedro_pipelines, order))
    shared = _shared(settings, metrics_relative_path, sagemaker_session)

    steps: dict[str, Any] = {}
    for name in order:
        upstream = [steps[u] for u in dependencies[name]]
        steps[name] = _processing_step(shared, name, upstream, exports=name == metrics_step)

    metric = _metric_reader(steps[metrics_step].name, shared.metrics_file)
    condition = ConditionStep(
        name=GATE_STEP,
        display_name="Champion beats every baseline",
        conditions=_gate_conditions(settings.quality_gate, metric),
        if_steps=[_register_step(shared, steps[metrics_step].name, metric)],
        else_steps=[_fail_step(shared, metric)],
    )
    return Pipeline(
        name=settings.pipeline_name,
        parameters=[shared.s3_prefix, shared.instance_type],
        steps=[*steps.values(), condition],
        sagemaker_session=shared.session,
    )


def _evaluation_step_name(gate: Any, writers: Mapping[str, Any]) -> str:
    """The step that writes the metrics file, which must also log the champion model."""
    metrics_step = terminal_writer(writers, gate.metrics_dataset)
    model_step = terminal_writer(writers, CHAMPION_DATASET)
    if model_step != metrics_step:
        raise click.UsageError(
            f"{CHAMPION_DATASET} is written by step {model_step!r} and {gate.metrics_dataset} by "
            f"{metrics_step!r}: the model package reads both the metrics and the MLflow version "
            f"registered from one step's output"
        )
    return metrics_step


def _shared(settings: Settings, metrics_relative_path: str, sagemaker_session: Any) -> _Shared:
    import boto3
    from sagemaker.network import NetworkConfig
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.functions import Join
    from sagemaker.workflow.parameters import ParameterString
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.properties import PropertyFile

    session = sagemaker_session or PipelineSession(
        boto_session=boto3.Session(region_name=settings.region)
    )
    s3_prefix = ParameterString("S3Prefix", default_value=settings.s3_prefix)
    instance_type = ParameterString(
        "ProcessingInstanceType",
        default_value=settings.processing.get("instance_type", "ml.m5.xlarge"),
    )
    network = None
    subnets = _as_list(settings.network.get("subnets"))
    groups = _as_list(settings.network.get("security_group_ids"))
    if subnets or groups:
        network = NetworkConfig(subnets=subnets or None, security_group_ids=groups or None)
    return _Shared(
        settings=settings,
        session=session,
        s3_prefix=s3_prefix,
        instance_type=instance_type,
        network=network,
        metrics_relative_path=metrics_relative_path,
        metrics_destination=Join(
            on="/",
            values=[
                s3_prefix,
                "sagemaker",
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                METRICS_OUTPUT,
            ],
        ),
        metrics_file=PropertyFile(
            name=PROPERTY_FILE,
            output_name=METRICS_OUTPUT,
            path=Path(metrics_relative_path).name,
        ),
        registration_file=PropertyFile(
            name=REGISTRATION_PROPERTY_FILE, output_name=METRICS_OUTPUT, path=REGISTRATION_FILE
        ),
    )


def _processing_step(shared: _Shared, name: str, upstream: list[Any], exports: bool) -> Any:
    """``kedro run --env <env> --pipeline <name>`` in the project's image, after ``upstream``;
    the evaluation step (``exports``) also exports the metrics file and the registration
    record as a job output read by two property files."""
    from sagemaker.processing import ProcessingOutput, Processor
    from sagemaker.workflow.steps import ProcessingStep

    settings = shared.settings
    environment = {
        **settings.environment,
        "RETAIL_S3_PREFIX": shared.s3_prefix,
        "KEDRO_DISABLE_TELEMETRY": "1",
    }
    if settings.region:
        environment["AWS_REGION"] = settings.region
    outputs, property_files = None, None
    if exports:
        environment["RETAIL_EXPORTS"] = f"{shared.metrics_relative_path}={METRICS_LOCAL_DIR}"
        environment[RECORD_VARIABLE] = f"{METRICS_LOCAL_DIR}/{REGISTRATION_FILE}"
        outputs = [
            ProcessingOutput(
                output_name=METRICS_OUTPUT,
                source=METRICS_LOCAL_DIR,
                destination=shared.metrics_destination,
            )
        ]
        property_files = [shared.metrics_file, shared.registration_file]
    processor = Processor(
        role=settings.role_arn,
        image_uri=settings.image_uri,
        instance_count=1,
        instance_type=shared.instance_type,
        volume_size_in_gb=int(settings.processing.get("volume_size_gb", 30)),
        max_runtime_in_seconds=int(settings.processing.get("max_runtime_seconds", 86400)),
        base_job_name=f"{settings.pipeline_name}-{step_name(name)}"[:40],
        env=environment,
        network_config=shared.network,
        sagemaker_session=shared.session,
    )
    step_args = processor.run(
        arguments=["kedro", "run", "--env", settings.kedro_env, "--pipeline", name],
        outputs=outputs,
    )
    return ProcessingStep(
        name=step_name(name),
        display_name=f"kedro {name}",
        description=f"kedro run --env {settings.kedro_env} --pipeline {name}",
        step_args=step_args,
        property_files=property_files,
        depends_on=upstream or None,
    )


def _metric_reader(evaluation_step: str, metrics_file: Any) -> Any:
    """``metric(json_path)``: a value of the evaluation step's metrics file."""
    from sagemaker.workflow.functions import JsonGet

    def metric(path: str) -> Any:
        return JsonGet(step_name=evaluation_step, property_file=metrics_file, json_path=path)

    return metric


def _gate_conditions(gate: Any, metric: Any) -> list[Any]:
    """The quality gate (:func:`retail_forecasting.aws.quality_gate.check_registration` without
    the previous challenger): the champion is no baseline, beats every baseline on each gate
    metric, and its test scores are finite."""
    from sagemaker.workflow.conditions import (
        ConditionGreaterThanOrEqualTo,
        ConditionIn,
        ConditionLessThan,
        ConditionLessThanOrEqualTo,
        ConditionNot,
    )

    conditions = [
        ConditionNot(
            expression=ConditionIn(value=metric(gate.champion_key), in_values=list(gate.baselines))
        )
    ]
    for name in gate.metrics:
        for _baseline, path in gate.baseline_paths(name):
            conditions.append(
                ConditionLessThan(left=metric(f"{gate.champion_scores}.{name}"), right=metric(path))
            )
    # quality_gate.is_finite_score: 0 <= score <= the largest float (NaN and inf fail both)
    for _name, path in gate.finite_paths():
        conditions.append(ConditionGreaterThanOrEqualTo(left=metric(path), right=0.0))
        conditions.append(ConditionLessThanOrEqualTo(left=metric(path), right=MAX_FINITE))
    return conditions


def _register_step(shared: _Shared, evaluation_step: str, metric: Any) -> Any:
    """Register the champion as a model package pending manual approval, with the metrics file
    as its model quality and the MLflow version it is in its metadata."""
    from sagemaker.model import Model
    from sagemaker.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.model_step import ModelStep

    settings, gate = shared.settings, shared.settings.quality_gate
    registration = settings.model_registration
    model = Model(
        image_uri=settings.image_uri, role=settings.role_arn, sagemaker_session=shared.session
    )
    return ModelStep(
        name=REGISTER_STEP,
        display_name="Register the champion (pending approval)",
        step_args=model.register(
            content_types=list(registration.get("content_types", ["text/csv"])),
            response_types=list(registration.get("response_types", ["text/csv"])),
            inference_instances=list(registration.get("inference_instances", ["ml.m5.large"])),
            transform_instances=list(registration.get("transform_instances", ["ml.m5.large"])),
            model_package_group_name=registration.get("model_package_group", "retail-forecasting"),
            approval_status=APPROVAL_STATUS,
            description="Champion of the Kedro evaluation pipeline (metrics in ModelQuality)",
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    content_type="application/json",
                    s3_uri=Join(
                        on="/", values=[shared.metrics_destination, shared.metrics_file.path]
                    ),
                )
            ),
            customer_metadata_properties={
                "champion": metric(gate.champion_key),
                "data_prefix": shared.s3_prefix,
                "kedro_env": settings.kedro_env,
                # the MLflow version this package is: what the deploy-on-approval handler
                # (infra/lambdas/deploy_on_approval.py) points the serving alias at
                **{
                    key: JsonGet(
                        step_name=evaluation_step,
                        property_file=shared.registration_file,
                        json_path=path,
                    )
                    for key, path in REGISTRATION_METADATA.items()
                },
            },
        ),
    )


def _fail_step(shared: _Shared, metric: Any) -> Any:
    """Fail the execution, saying why nothing was registered and where the metrics are."""
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join

    gate = shared.settings.quality_gate
    return FailStep(
        name=FAIL_STEP,
        error_message=Join(
            on=" ",
            values=[
                "The champion",
                metric(gate.champion_key),
                "is a baseline, does not beat every baseline on",
                ",".join(gate.metrics),
                "or has a test score that is not a finite non-negative number among",
                ",".join(gate.finite_metrics),
                "- nothing registered. Metrics:",
                Join(on="/", values=[shared.metrics_destination, shared.metrics_file.path]),
            ],
        ),
    )


def definition(pipeline: Any) -> dict[str, Any]:
    """The pipeline definition as a JSON object."""
    return json.loads(pipeline.definition())


def build_from_project(project_path: Path, env: str, pipelines: Sequence[str] = ()):
    """Settings, Kedro pipelines and metrics location of the project -> the Pipeline."""
    settings = load_settings(project_path, env)
    if pipelines:
        settings.pipelines = list(pipelines)
    kedro_pipelines = registered_pipelines(project_path)
    relative = catalog_relative_path(
        project_path, settings.kedro_env, settings.quality_gate.metrics_dataset, settings.s3_prefix
    )
    return settings, build_pipeline(settings, kedro_pipelines, relative)


# ------------------------------------------------------------------------------ CLI

_project_option = click.option(
    "--project-path",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path.cwd,
    show_default="current directory",
    help="The Kedro project (holds conf/ and pyproject.toml).",
)
_env_option = click.option(
    "--env",
    default="sagemaker",
    show_default=True,
    help=f"Configuration environment holding {SETTINGS_FILE}.yml.",
)
_pipeline_option = click.option(
    "--pipeline",
    "pipelines",
    multiple=True,
    help="Kedro pipeline to make a step (repeatable; default: the settings' list, else all).",
)


@click.group()
def cli() -> None:
    """Build, deploy and run the project's SageMaker Pipeline (docs/aws.md)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")


@cli.command()
@_project_option
@_env_option
@_pipeline_option
def graph(project_path: Path, env: str, pipelines: tuple[str, ...]) -> None:
    """Print the steps in order with the steps each one waits for."""
    settings = load_settings(project_path, env)
    kedro_pipelines = registered_pipelines(project_path)
    dependencies = step_dependencies(kedro_pipelines, list(pipelines) or settings.pipelines or None)
    for name in topological_order(dependencies):
        click.echo(f"{name}: after {', '.join(dependencies[name]) or '-'}")


@cli.command("definition")
@_project_option
@_env_option
@_pipeline_option
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON there instead of standard output.",
)
def definition_command(
    project_path: Path, env: str, pipelines: tuple[str, ...], output: Path | None
) -> None:
    """Print the pipeline definition JSON (no AWS call but the session's region lookup)."""
    _, pipeline = build_from_project(project_path, env, pipelines)
    text = json.dumps(definition(pipeline), indent=2, sort_keys=True) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def ensure_model_package_group(client: Any, name: str) -> bool:
    """Create the model package group unless it exists; return whether it was created."""
    from botocore.exceptions import ClientError

    try:
        client.describe_model_package_group(ModelPackageGroupName=name)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "ValidationException",
            "ResourceNotFound",
        ):
            raise
    client.create_model_package_group(
        ModelPackageGroupName=name,
        ModelPackageGroupDescription="Champions of the retail-forecasting Kedro pipelines",
    )
    return True


@cli.command()
@_project_option
@_env_option
@_pipeline_option
def upsert(project_path: Path, env: str, pipelines: tuple[str, ...]) -> None:
    """Create or update the pipeline in SageMaker (and its model package group)."""
    settings, pipeline = build_from_project(project_path, env, pipelines)
    client = pipeline.sagemaker_session.sagemaker_client
    group = settings.model_registration.get("model_package_group", "retail-forecasting")
    if ensure_model_package_group(client, group):
        click.echo(f"Created model package group {group}")
    response = pipeline.upsert(role_arn=settings.role_arn)
    click.echo(response["PipelineArn"])


@cli.command()
@_project_option
@_env_option
@click.option("--s3-prefix", default=None, help="S3Prefix parameter of this execution.")
@click.option("--instance-type", default=None, help="ProcessingInstanceType of this execution.")
@click.option("--wait/--no-wait", default=False, show_default=True)
def start(
    project_path: Path, env: str, s3_prefix: str | None, instance_type: str | None, wait: bool
) -> None:
    """Start an execution of the pipeline created by `upsert`."""
    settings = load_settings(project_path, env)
    import boto3

    client = boto3.client("sagemaker", region_name=settings.region)
    parameters = [
        {"Name": name, "Value": value}
        for name, value in (("S3Prefix", s3_prefix), ("ProcessingInstanceType", instance_type))
        if value
    ]
    response = client.start_pipeline_execution(
        PipelineName=settings.pipeline_name, PipelineParameters=parameters
    )
    arn = response["PipelineExecutionArn"]
    click.echo(arn)
    if wait:
        waiter = client.get_waiter("pipeline_execution_complete")
        waiter.wait(PipelineExecutionArn=arn, WaiterConfig={"Delay": 60, "MaxAttempts": 360})
        status = client.describe_pipeline_execution(PipelineExecutionArn=arn)
        click.echo(status["PipelineExecutionStatus"])


@cli.command()
@_project_option
@_env_option
@click.option(
    "--metrics",
    "metrics_path",
    required=True,
    help="metrics.json of a run (local path or s3://...).",
)
def gate(project_path: Path, env: str, metrics_path: str) -> None:
    """Check the quality gate on a metrics file; exit 1 when it fails."""
    import fsspec

    settings = load_settings(project_path, env)
    with fsspec.open(metrics_path, "r", encoding="utf-8") as handle:
        metrics = json.load(handle)
    decision = check_registration(metrics, None, settings.quality_gate)
    if decision.passed:
        click.echo(f"PASS: champion {metrics.get('champion')!r} beats every baseline")
        return
    for reason in decision.reasons:
        click.echo(f"FAIL: {reason}")
    sys.exit(1)


@cli.command()
@_project_option
@_env_option
@click.option(
    "--package-arn",
    default=None,
    help="Model package to approve (default: the latest pending one of the group).",
)
@click.option("--reject", is_flag=True, help="Reject instead of approving.")
@click.option("--note", default="", help="Approval description stored on the package.")
def approve(project_path: Path, env: str, package_arn: str | None, reject: bool, note: str) -> None:
    """Approve (or reject) a registered model package."""
    settings = load_settings(project_path, env)
    import boto3

    client = boto3.client("sagemaker", region_name=settings.region)
    if not package_arn:
        group = settings.model_registration.get("model_package_group", "retail-forecasting")
        packages = client.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus=APPROVAL_STATUS,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )["ModelPackageSummaryList"]
        if not packages:
            raise click.ClickException(f"No model package pending approval in group {group!r}")
        package_arn = packages[0]["ModelPackageArn"]
    status = "Rejected" if reject else "Approved"
    client.update_model_package(
        ModelPackageArn=package_arn, ModelApprovalStatus=status, ApprovalDescription=note
    )
    click.echo(f"{status}: {package_arn}")


if __name__ == "__main__":  # pragma: no cover
    cli()
