"""The notebooks under notebooks/: committed clean, and executed headlessly so they cannot rot.

The execution test copies the project (the `project_copy` fixture), runs the default pipeline
there on a tiny synthetic panel, then runs every notebook with nbclient in a fresh kernel whose
working directory is <copy>/notebooks, as a user's Jupyter would. The two notebooks run side by
side (one kernel each). Without nbclient/ipykernel the test is skipped, except in CI (CI=true),
where it fails.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import mlflow
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
#: Figures each notebook must show (a cell output with an image/png), at least.
MIN_FIGURES = {"01_exploration.ipynb": 9, "02_model_review.ipynb": 3}


def _require(module: str):
    try:
        return __import__(module)
    except ImportError as exc:
        message = f"{module} is not installed ({exc}); install the project with its test extra"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run the notebook tests)")
        pytest.skip(message)


def _code(path: Path) -> list[str]:
    import json

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def test_the_notebooks_exist_and_are_committed_without_outputs():
    assert {p.name for p in NOTEBOOKS} >= set(MIN_FIGURES)
    nbformat = _require("nbformat")
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        assert book.metadata.kernelspec.name == "python3", path.name
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{path.name}: clear the outputs before committing "
                    "(Jupyter: Edit > Clear Outputs of All Cells)"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebooks_load_the_project_and_read_through_the_catalog(path):
    code = _code(path)
    assert code[0].strip() == "%load_ext kedro.ipython", "the first code cell loads the project"
    source = "\n".join(code)
    assert "catalog.load(" in source
    # no hard-coded data paths: every dataset comes from the catalog
    assert not re.search(r"""["'][^"']*(data/|\.csv|\.parquet|\.png|\.json)[^"']*["']""", source)
    assert "read_csv" not in source and "read_parquet" not in source


@pytest.mark.slow
def test_the_notebooks_execute_on_a_tiny_synthetic_run(project_copy, tiny_config):
    _require("ipykernel")
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")

    bootstrap_project(project_copy)
    runtime_params = {
        "synthetic_seed": tiny_config["seed"],
        "synthetic_stores": tiny_config["n_stores"],
        "synthetic_depts": tiny_config["n_depts"],
    }
    try:
        with KedroSession.create(
            project_path=project_copy, runtime_params=runtime_params
        ) as session:
            session.run(pipeline_name="__default__")
    finally:
        # an MLflow run left active here would take the logging of later sessions in this
        # process (tests/test_session.py)
        while mlflow.active_run():
            mlflow.end_run()

    workdir = project_copy / "notebooks"
    workdir.mkdir()
    books = {}
    for path in NOTEBOOKS:
        shutil.copy(path, workdir / path.name)
        books[path.name] = nbformat.read(workdir / path.name, as_version=4)

    async def execute_all():
        clients = [
            nbclient.NotebookClient(
                book,
                kernel_name="python3",
                timeout=300,
                resources={"metadata": {"path": str(workdir)}},
            )
            for book in books.values()
        ]
        await asyncio.gather(*(client.async_execute() for client in clients))

    asyncio.run(execute_all())

    for name, book in books.items():
        outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], name
        # the first cell (%load_ext kedro.ipython) is quiet: Kedro's INFO lines, no warning box
        first = next(c for c in book.cells if c.cell_type == "code")
        shown = [
            o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in first.outputs
        ]
        warned = [text for text in shown if "WARNING" in text or "Warning:" in text]
        assert warned == [], f"{name}: the first cell shows {len(warned)} warning(s): {warned[:3]}"
        figures = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(figures) >= MIN_FIGURES.get(name, 1), (
            f"{name} showed {len(figures)} figure(s), expected at least {MIN_FIGURES.get(name, 1)}"
        )
