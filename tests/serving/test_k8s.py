"""infra/k8s validated offline against the Kubernetes JSON schemas (kubernetes-validate ships them;
strict: unknown fields are errors), and checked against the image and the app it runs."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from retail_forecasting.aws.entrypoint import SERVE_PORT
from retail_forecasting.serving import settings as serving_settings

from . import model_factory

PROJECT = Path(__file__).resolve().parents[2]
K8S = PROJECT / "infra" / "k8s"
VERSIONS = ["1.30.0", "1.33.0"]  # EKS standard-support versions around the time of writing
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents() -> dict[str, dict]:
    docs = {}
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs[doc["kind"]] = doc
    return docs


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_matches_the_kubernetes_schema(path, version):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, version, strict=True)  # raises ValidationError


def test_the_validator_rejects_a_broken_manifest():
    deployment = documents()["Deployment"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0][
        "livenessProbes"
    ] = {}  # typo: unknown field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_template():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in MANIFESTS if p.name != "secret.example.yaml")


def test_deployment_runs_serve_non_root_with_probes_the_app_has(tmp_path):
    from retail_forecasting.serving.app import create_app
    from retail_forecasting.serving.settings import ServingSettings

    docs = documents()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["serve"]
    assert container["ports"][0]["containerPort"] == SERVE_PORT == 8080
    # the Dockerfile's USER, never root
    user = re.search(r"^USER (\d+):(\d+)$", (PROJECT / "Dockerfile").read_text(), re.M)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == tuple(
        map(int, user.groups())
    )
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert (
        container["resources"]["limits"]["memory"] == "1Gi" and container["resources"]["requests"]
    )
    unused = f"sqlite:///{tmp_path / 'unused.db'}"
    with model_factory.mlflow_uris_kept():  # the holder sets MLflow's process-wide URIs
        app = create_app(ServingSettings(tracking_uri=unused, registry_uri=unused))
    paths = {route.path for route in app.routes}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in paths
        assert container[probe]["httpGet"]["port"] == "http"
    assert (
        docs["Deployment"]["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"]
        in paths
    )
    # every variable the ConfigMap and Secret give is one the app reads
    known = set(re.findall(r"``([A-Z_]+)``", serving_settings.__doc__)) | {
        "KEDRO_DISABLE_TELEMETRY",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
    }
    assert set(docs["ConfigMap"]["data"]) <= known
    assert set(docs["Secret"]["stringData"]) <= known
    secret_refs = {
        e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e
    }
    assert secret_refs == set(docs["Secret"]["stringData"])


def test_service_and_autoscaler_point_at_the_deployment():
    docs = documents()
    deployment = docs["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    target = docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    names = {doc["metadata"].get("namespace") for kind, doc in docs.items() if kind != "Namespace"}
    assert names == {docs["Namespace"]["metadata"]["name"]}
