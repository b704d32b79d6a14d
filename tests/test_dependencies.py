"""Dependencies: the lock file agrees with pyproject.toml's choices, the champion's MLflow
requirements are the locked versions, and the runtime stays lean (viz, notebooks, lint, test
tools only in extras)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]


def locked_versions() -> dict[str, set[str]]:
    lock = tomllib.loads((PROJECT / "uv.lock").read_text(encoding="utf-8"))
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], set()).add(package.get("version", ""))
    return versions


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_champion_requirements_are_pinned_to_the_locked_versions():
    """The catalog's requirements are the zoo's, resolved as a run resolves them, and the
    installed versions they pin are the locked ones (a venv out of sync with uv.lock fails)."""
    from kedro.config import OmegaConfigLoader

    from retail_forecasting.forecasting import zoo
    from retail_forecasting.resolvers import CUSTOM_RESOLVERS

    catalog = yaml.safe_load((PROJECT / "conf/base/catalog_08_reporting.yml").read_text())
    assert catalog["rpt_champion_model"]["save_args"]["pip_requirements"] == (
        "${model_requirements:}"
    )
    loader = OmegaConfigLoader(
        str(PROJECT / "conf"),
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    requirements = loader["catalog"]["rpt_champion_model"]["save_args"]["pip_requirements"]
    assert requirements == zoo.pip_requirements()
    assert {name_of(r) for r in requirements} >= {
        "mlflow",
        "pandas",
        "scikit-learn",
        "lightgbm",
        "catboost",
        "xgboost-cpu",
        "cloudpickle",
    }
    versions = locked_versions()
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        assert version, f"{requirement} is not pinned"
        assert version in versions.get(name, set()), (
            f"{requirement}: uv.lock has {versions.get(name)}"
        )


def test_the_runtime_dependencies_leave_development_tools_to_extras():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    runtime = {name_of(d) for d in project["dependencies"]}
    assert not runtime & {"kedro-viz", "jupyterlab", "ipykernel", "pytest", "ruff", "mypy"}
    extras = project["optional-dependencies"]
    assert {"kedro-viz"} <= {name_of(d) for d in extras["viz"]}
    assert {"ruff", "mypy"} <= {name_of(d) for d in extras["lint"]}


def test_every_declared_dependency_is_in_the_lock():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    versions = locked_versions()
    declared = [
        *project["dependencies"],
        *(d for ds in project["optional-dependencies"].values() for d in ds),
    ]
    missing = {name_of(d) for d in declared} - set(versions) - {"retail-forecasting"}
    assert not missing, f"not in uv.lock (run `uv lock`): {sorted(missing)}"


def test_duckdb_and_duckdb_engine_are_the_tested_pair():
    versions = locked_versions()
    assert versions["duckdb"] == {"2.0.1"} and versions["duckdb-engine"] == {"0.17.0"}
