"""kedro-viz as a user sees it: the server in a real (headless) Chromium, and the static build.

In a copy of the project (default environment, no credentials), the module starts
``kedro viz run --host 127.0.0.1 --port <free port> --no-browser`` and ``kedro viz build``
side by side, each in its own process group, and stops both groups at the end whatever
happens. The browser test loads the app in Debian's ``chromium --headless``, waits until the
flowchart has rendered, reads the DOM and saves a screenshot under the test's tmp dir.

Without Chromium the browser test is skipped with the reason, except in CI (CI=true), where it
fails: ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ["ingestion", "eda", "feature_engineering", "baselines", "modelling", "evaluation"]
KEDRO = str(Path(sys.executable).with_name("kedro"))
STARTUP_TIMEOUT = 180  # seconds for the server to answer /api/main
WINDOW = (1600, 1000)


def _free_port() -> int:
    """A free port below 49152: kedro-viz refuses the ephemeral range the OS would pick."""
    rng = random.Random(os.getpid())
    for _ in range(100):
        port = rng.randint(20_000, 45_000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port between 20000 and 45000")


def _start(command: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start ``command`` in its own process group (its children die with it)."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "200"}
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    """Stop the process group of ``process``: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
    else:  # the leader is gone; children it left in the group must go too
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def _write_preview_data(root: Path) -> None:
    """A primary table and an EDA figure on disk, so that kedro-viz has data to preview."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    primary = root / "data" / "03_primary"
    primary.mkdir(parents=True)
    pd.DataFrame(
        {
            "store": [1, 1],
            "dept": [1, 1],
            "date": pd.to_datetime(["2010-02-05", "2010-02-12"]),
            "weekly_sales": [24924.5, 46039.49],
            "is_holiday": [False, True],
        }
    ).to_parquet(primary / "prm_train.parquet")
    figures = root / "data" / "08_reporting" / "eda"
    figures.mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [3, 1, 2])
    fig.savefig(figures / "total_weekly_sales.png")
    plt.close(fig)


@pytest.fixture(scope="module")
def viz_project(tmp_path_factory):
    """A copy of the project (conf, sql, pyproject) with a little data to preview."""
    root = tmp_path_factory.mktemp("viz") / "project"
    root.mkdir()
    for item in ("conf", "sql"):
        shutil.copytree(
            PROJECT_ROOT / item, root / item, ignore=shutil.ignore_patterns("*credentials*")
        )
    (root / "src").mkdir()  # the package itself is imported from the installed project
    for item in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / item, root / item)
    _write_preview_data(root)
    return root


@pytest.fixture(scope="module")
def viz_processes(viz_project):
    """``kedro viz run`` and ``kedro viz build`` started together; both groups stopped after."""
    port = _free_port()
    server_log, build_log = viz_project / "viz_run.log", viz_project / "viz_build.log"
    server = _start(
        [KEDRO, "viz", "run", "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
        viz_project,
        server_log,
    )
    build = None
    try:
        build = _start([KEDRO, "viz", "build", "--include-previews"], viz_project, build_log)
        yield {
            "url": f"http://127.0.0.1:{port}",
            "server": server,
            "server_log": server_log,
            "build": build,
            "build_log": build_log,
        }
    finally:
        _stop(server)
        if build is not None:
            _stop(build)


@pytest.fixture(scope="module")
def viz_url(viz_processes) -> str:
    """The server's URL once /api/main answers."""
    url, server, log = viz_processes["url"], viz_processes["server"], viz_processes["server_log"]
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.poll() is not None:
            pytest.fail(f"kedro viz run exited with {server.returncode}:\n{_tail(log)}")
        if "Traceback (most recent call last)" in _tail(log, 200_000):
            # the app runs in a child process: the launcher may live on after it failed
            pytest.fail(f"kedro viz run failed:\n{_tail(log)}")
        try:
            _get_json(f"{url}/api/main")
            return url
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                pytest.fail(f"kedro viz run did not answer in {STARTUP_TIMEOUT} s:\n{_tail(log)}")
            time.sleep(0.5)


def _normalise(label: str) -> str:
    """'validate_stores', 'Validate Stores' and 'validate stores' compare equal."""
    return re.sub(r"[\s_.]+", "", label).lower()


def _check_graph(main: dict, log: Path) -> None:
    """Six pipelines, every dataset in a data layer, namespaces declared."""
    assert {p["id"] for p in main["pipelines"]} >= {*PIPELINES, "__default__"}
    # kedro-viz drops all layers (and only logs a warning) when they form a cycle
    assert main["layers"], "kedro-viz shows no data layers:\n" + "\n".join(
        line for line in _tail(log, 200_000).splitlines() if "ayer" in line
    )
    assert main["layers"][0] == "raw" and main["layers"][-1] == "reporting", main["layers"]
    assert {"primary", "feature", "model_output"} <= set(main["layers"])
    datasets = [n for n in main["nodes"] if n["type"] == "data"]
    assert datasets and not [n["name"] for n in datasets if not n.get("layer")], (
        "every dataset needs metadata: kedro-viz: layer"
    )
    namespaces = set(main["modular_pipelines"])
    for node in main["nodes"]:
        assert set(node.get("modular_pipelines") or []) <= namespaces, node["name"]


@pytest.mark.slow
def test_viz_renders_the_six_pipelines_in_chromium(
    chromium_command, check_screenshot, viz_url, viz_processes, tmp_path
):
    # chromium_command first: without Chromium the test is skipped before the server starts
    main = _get_json(f"{viz_url}/api/main")
    _check_graph(main, viz_processes["server_log"])

    # previews: a table and a figure (MLflow-wrapped matplotlib dataset)
    ids = {n["name"]: n["id"] for n in main["nodes"]}
    table = _get_json(f"{viz_url}/api/nodes/{ids['prm_train']}")
    figure = _get_json(f"{viz_url}/api/nodes/{ids['rpt_eda_total_sales_figure']}")
    assert table.get("preview_type") == "TablePreview", table
    assert figure.get("preview_type") == "ImagePreview" and figure["preview"], figure.keys()

    screenshot = tmp_path / "kedro_viz.png"
    rendered: set[str] = set()
    command = None
    for budget in (15_000, 40_000, 90_000):  # ms of virtual time; more on a slow machine
        command = chromium_command(
            f"{viz_url}/", screenshot, tmp_path / "chromium-profile", WINDOW, budget
        )
        browser = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            dom, _ = browser.communicate(timeout=budget / 1000 + 90)
        finally:
            _stop(browser)
        dom = dom.decode(errors="replace")
        rendered = set(re.findall(r'<text class="pipeline-node__text"[^>]*>([^<]+)</text>', dom))
        if 'class="pipeline-node pipeline-node--task' in dom and rendered:
            break
    assert rendered, (
        f"the flowchart did not render: {' '.join(command)}\n{_tail(viz_processes['server_log'])}"
    )

    # every node of the six pipelines is drawn: by its name, or folded into its namespace
    labels = {_normalise(label) for label in rendered}
    by_pipeline = {name: [] for name in PIPELINES}
    for node in main["nodes"]:
        if node["type"] != "task":
            continue
        shown = {_normalise(node["name"]), *map(_normalise, node.get("modular_pipelines") or [])}
        for pipeline in set(node["pipelines"]) & set(by_pipeline):
            by_pipeline[pipeline].append((node["name"], bool(shown & labels)))
    for pipeline, nodes in by_pipeline.items():
        assert nodes, f"pipeline {pipeline} has no node"
        missing = [name for name, seen in nodes if not seen]
        assert not missing, f"{pipeline}: nodes not drawn in the flowchart: {missing}"

    check_screenshot(screenshot, WINDOW)


@pytest.mark.slow
def test_viz_build_writes_a_static_site_in_the_default_environment(viz_project, viz_processes):
    build, log = viz_processes["build"], viz_processes["build_log"]
    try:
        build.wait(timeout=STARTUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"kedro viz build did not finish in {STARTUP_TIMEOUT} s:\n{_tail(log)}")
    assert build.returncode == 0, _tail(log)
    site = viz_project / "build"
    # `kedro viz build` reports some failures only in its output: check what it wrote
    assert (site / "index.html").is_file(), _tail(log)
    main = json.loads((site / "api" / "main").read_text(encoding="utf-8"))
    _check_graph(main, log)
    for pipeline in PIPELINES:
        assert (site / "api" / "pipelines" / pipeline).is_file(), pipeline
