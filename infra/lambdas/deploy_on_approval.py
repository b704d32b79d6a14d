"""Lambda: deploy on approval. When a model package of the group is **Approved** in SageMaker,
point the serving alias (``champion``) of the MLflow registry at the same model; the serving
API (``retail-forecasting serve``, EKS Deployment or SageMaker endpoint) polls the alias and
swaps the new version in within ``RETAIL_SERVING_POLL_SECONDS``.

Trigger: an EventBridge rule on SageMaker's model-package state changes::

    {"source": ["aws.sagemaker"],
     "detail-type": ["SageMaker Model Package State Change"],
     "detail": {"ModelApprovalStatus": ["Approved"], "ModelPackageGroupName": ["retail-forecasting"]}}

Which MLflow version the package is: the package's ``CustomerMetadataProperties``
``mlflow_model_version``. The SageMaker Pipeline's RegisterModel step sets it (with
``mlflow_registered_model`` and ``mlflow_run_id``) from what its evaluation step registered
(:mod:`retail_forecasting.aws.sagemaker_pipeline`); a package registered by hand can carry it
too. When ``mlflow_registered_model`` or ``mlflow_run_id`` is given and does not match the
registry (another model name, a version of another run), the event is refused. A package
without the metadata (made before the pipeline recorded it) falls back on the version that
carries ``MLFLOW_CANDIDATE_ALIAS`` (``challenger``), which must be older than the package
(created before it): a challenger registered after the package belongs to another execution,
and the event is refused rather than deploying the wrong model. The version is tagged with the
package ARN.

Events of other groups (``MODEL_PACKAGE_GROUP``), other statuses, or a package whose version
already has the alias are skipped (the handler is idempotent: EventBridge may deliver twice).

Environment: ``MLFLOW_TRACKING_URI`` (required), ``MODEL_PACKAGE_GROUP`` (default
``retail-forecasting``), ``REGISTERED_MODEL`` (``retail_forecasting_champion``), ``SERVING_ALIAS``
(``champion``), ``MLFLOW_CANDIDATE_ALIAS`` (``challenger``), ``AWS_REGION``.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from typing import Any

logger = logging.getLogger(__name__)
logging.getLogger().setLevel(logging.INFO)

EVENT_TYPE = "SageMaker Model Package State Change"
TAG_PACKAGE = "sagemaker_model_package_arn"
TAG_APPROVED_AT = "sagemaker_approved_at"


class ApprovalRefused(RuntimeError):
    """The approved package cannot be matched to one MLflow version: nothing was changed."""


def _settings() -> dict[str, str]:
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ApprovalRefused("MLFLOW_TRACKING_URI is not set: the handler cannot reach the registry")
    return {
        "uri": uri,
        "group": os.environ.get("MODEL_PACKAGE_GROUP", "retail-forecasting"),
        "model": os.environ.get("REGISTERED_MODEL", "retail_forecasting_champion"),
        "alias": os.environ.get("SERVING_ALIAS", "champion"),
        "candidate": os.environ.get("MLFLOW_CANDIDATE_ALIAS", "challenger"),
    }


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(value) / 1000.0, tz=timezone.utc)  # MLflow: ms since epoch


def mlflow_version(client: Any, package: dict[str, Any], settings: dict[str, str]) -> tuple[str, str]:
    """``(version, how it was found)`` of the approved package."""
    metadata = package.get("CustomerMetadataProperties") or {}
    explicit = metadata.get("mlflow_model_version")
    if explicit:
        named = metadata.get("mlflow_registered_model")
        if named and named != settings["model"]:
            raise ApprovalRefused(
                f"The package {package['ModelPackageArn']} is version {explicit} of {named!r}, "
                f"not of {settings['model']!r} (REGISTERED_MODEL): nothing deployed."
            )
        version = client.get_model_version(settings["model"], str(explicit))  # raises if absent
        run_id = metadata.get("mlflow_run_id")
        if run_id and version.run_id != run_id:
            raise ApprovalRefused(
                f"The package {package['ModelPackageArn']} names {settings['model']} version "
                f"{explicit} of run {run_id}, but that version comes from run {version.run_id} "
                f"in MLFLOW_TRACKING_URI's registry: another registry? Nothing deployed."
            )
        return str(explicit), "package metadata mlflow_model_version"
    try:
        candidate = client.get_model_version_by_alias(settings["model"], settings["candidate"])
    except Exception as exc:  # noqa: BLE001 - MlflowException: no such alias/model
        raise ApprovalRefused(
            f"The package {package['ModelPackageArn']} has no mlflow_model_version metadata and "
            f"{settings['model']} has no alias {settings['candidate']!r} ({exc}); promote by hand: "
            f"python -m retail_forecasting.model_registry promote --version N"
        ) from exc
    created, registered = _as_utc(package["CreationTime"]), _as_utc(candidate.creation_timestamp)
    if registered > created:
        raise ApprovalRefused(
            f"{settings['model']}@{settings['candidate']} is version {candidate.version}, registered "
            f"{registered.isoformat()}, after the package {package['ModelPackageArn']} "
            f"({created.isoformat()}): it belongs to a later run. Nothing deployed; promote the "
            f"package's version by hand (python -m retail_forecasting.model_registry promote --version N)."
        )
    return str(candidate.version), f"alias {settings['candidate']} (registered before the package)"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    import boto3
    import mlflow

    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or event.get("detail-type", EVENT_TYPE) != EVENT_TYPE:
        return {"status": "skipped", "reason": "not a SageMaker Model Package State Change event"}
    settings = _settings()
    group, status = detail.get("ModelPackageGroupName"), detail.get("ModelApprovalStatus")
    if group != settings["group"]:
        return {"status": "skipped", "reason": f"package group {group!r}, not {settings['group']!r}"}
    if status != "Approved":
        return {"status": "skipped", "reason": f"approval status {status}"}
    arn = detail["ModelPackageArn"]
    # the package as SageMaker has it now (the event may be stale: re-approved, rejected since)
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)
    if package.get("ModelApprovalStatus") != "Approved":
        return {"status": "skipped", "reason": f"{arn} is {package.get('ModelApprovalStatus')} now"}
    client = mlflow.MlflowClient(tracking_uri=settings["uri"], registry_uri=settings["uri"])
    version, how = mlflow_version(client, package, settings)
    current = client.get_registered_model(settings["model"]).aliases.get(settings["alias"])
    client.set_model_version_tag(settings["model"], version, TAG_PACKAGE, arn)
    if str(current) == version:
        return {"status": "unchanged", "model": settings["model"], "alias": settings["alias"],
                "version": version, "package": arn}
    client.set_registered_model_alias(settings["model"], settings["alias"], version)
    client.set_model_version_tag(settings["model"], version, TAG_APPROVED_AT,
                                 datetime.now(timezone.utc).isoformat())
    logger.info("%s@%s -> version %s (was %s) for approved package %s, found by %s", settings["model"],
                settings["alias"], version, current, arn, how)
    return {"status": "deployed", "model": settings["model"], "alias": settings["alias"],
            "version": version, "previous": None if current is None else str(current),
            "package": arn, "found_by": how}
