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
        "optional-dependencies"
    ]
    names = {re.split(r"[<>=\[ ]", req, maxsplit=1)[0] for req in extras["notebooks"]}
    assert {"jupyterlab", "ipykernel", "nbconvert"} <= names
    assert "jupyterlab" not in {re.split(r"[<>=\[ ]", r, maxsplit=1)[0] for r in extras["test"]}
    assert "--extra notebooks" in MAKEFILE and "jupyter lab --notebook-dir=notebooks" in MAKEFILE
    assert re.search(r"^jupyter: notebook$", MAKEFILE, flags=re.MULTILINE)


def test_make_installs_the_locked_versions():
    """Every extra the Makefile installs comes from uv.lock (exported --locked, hash-checked),
    as in the Dockerfile; only the project itself is installed from source, without its deps."""
    assert "uv export --quiet --locked --no-dev --no-emit-project" in MAKEFILE
    installs = re.findall(r"pip install --quiet (.+)$", MAKEFILE, flags=re.MULTILINE)
    from_source = [i for i in installs if not i.startswith("-r ") and "uv>=" not in i]
    assert from_source == ["--no-deps -e ."], installs
    for extra in ("test", "lint", "notebooks", "viz"):
        assert f"$(UV_EXPORT) --extra {extra} -o $(VENV)/requirements-{extra}.txt" in MAKEFILE


README = (PROJECT / "README.md").read_text(encoding="utf-8")
#: what README.md shows as commands or paths: inline code and fenced blocks
README_CODE = re.findall(r"`([^`\n]+)`", README) + re.findall(
    r"```(?:bash)?\n(.*?)```", README, flags=re.DOTALL
)


def test_every_make_target_the_readme_names_exists():
    targets = set(re.findall(r"^([\w-]+):", MAKEFILE, flags=re.MULTILINE))
    named = {m for code in README_CODE for m in re.findall(r"\bmake ([\w-]+)", code)}
    assert named >= {"run", "test", "serve", "viz", "mlflow-ui", "notebook"}
    assert named <= targets, named - targets


def test_every_python_module_and_pipeline_the_readme_names_exists():
    import importlib.util

    modules = {m for code in README_CODE for m in re.findall(r"python -m (\w[\w.]*)", code)}
    assert "retail_forecasting.model_registry" in modules
    assert [m for m in modules if importlib.util.find_spec(m) is None] == []
    configure_project("retail_forecasting")
    pipelines = register_pipelines()
    named = {
        p
        for code in README_CODE
        for p in re.findall(r"--pipelines? ([\w,]+)", code)
        for p in p.split(",")
    }
    named -= {"NAME"}  # a placeholder
    named |= set(re.findall(r"VIZ_PIPELINE=(\w+)", README))
    assert {"inference", "ingestion", "modelling"} <= named
    assert [p for p in named if p not in pipelines] == []


def test_every_output_file_the_readme_points_at_is_a_catalog_file():
    """`data/<layer>/<file>` in the README is where a catalog entry of conf/base writes."""
    catalog = "\n".join(
        p.read_text(encoding="utf-8") for p in (PROJECT / "conf/base").glob("catalog*.yml")
    )
    written = set(
        re.findall(r"(?:filepath: |duckdb:///)\$\{globals:paths\.data\}/([^\s]+)", catalog)
    )
    paths = {p for code in README_CODE for p in re.findall(r"\bdata/(\d\d_[\w/]+\.\w+)", code)}
    assert {"08_reporting/metrics.json", "08_reporting/submission.csv"} <= paths
    missing = [
        p
        for p in paths
        if p not in written
        and not any(re.fullmatch(w.replace("{model}", r"\w+"), p) for w in written)
    ]
    assert missing == [], missing
    # the figure folders the README sends people to hold figures the catalog writes
    assert any(w.startswith("08_reporting/eda/") and w.endswith(".png") for w in written)
    assert any(re.fullmatch(r"08_reporting/[\w]+\.png", w) for w in written)
