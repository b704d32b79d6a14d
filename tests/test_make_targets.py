"""The Makefile's user-facing targets point at things that exist: the viz stage is a registered
pipeline opened with kedro-viz's URL filters, the notebook target installs an extra that exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from kedro.framework.project import configure_project

from retail_forecasting.pipeline_registry import register_pipelines

PROJECT = Path(__file__).resolve().parents[1]
MAKEFILE = (PROJECT / "Makefile").read_text(encoding="utf-8")


def variable(name: str) -> str:
    match = re.search(rf"^{name}\s*\??=\s*(.+)$", MAKEFILE, flags=re.MULTILINE)
    assert match, name
    return match.group(1).strip()


def test_make_viz_opens_a_registered_stage_without_the_whole_dag():
    configure_project("retail_forecasting")
    stage = variable("VIZ_PIPELINE")
    assert stage in register_pipelines() and stage != "__default__"
    assert variable("VIZ_URL") == "http://127.0.0.1:4141/?pid=$(VIZ_PIPELINE)&types=$(VIZ_TYPES)"
    # kedro-viz's own names of the node types in its URL
    assert set(variable("VIZ_TYPES").split(",")) <= {"nodes", "datasets", "parameters"}
    recipe = MAKEFILE.split("\nviz:", 1)[1].split("\n\n", 1)[0]
    assert "kedro viz run --host 127.0.0.1 --no-browser" in recipe and "$(VIZ_URL)" in recipe


def test_make_notebook_installs_the_notebooks_extra_with_jupyterlab():
    extras = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", req, maxsplit=1)[0] for req in extras["notebooks"]}
    assert {"jupyterlab", "ipykernel", "nbconvert"} <= names
    assert "jupyterlab" not in {re.split(r"[<>=\[ ]", r, maxsplit=1)[0] for r in extras["test"]}
    assert '-e ".[notebooks]"' in MAKEFILE and "jupyter lab --notebook-dir=notebooks" in MAKEFILE
    assert re.search(r"^jupyter: notebook$", MAKEFILE, flags=re.MULTILINE)
