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
    catalog = yaml.safe_load((PROJECT / "conf/base/catalog_08_reporting.yml").read_text())
    requirements = catalog["rpt_champion_model"]["save_args"]["pip_requirements"]
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
