"""A temporary MLflow registry with two versions of a cheap champion, and the real server
(uvicorn in its own process, 127.0.0.1, a free port) started from it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import mlflow
import pytest

from . import model_factory

PROJECT = Path(__file__).resolve().parents[2]
API_KEY = "test-key-not-a-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Registry:
    uri: str
    path: Path
    plain: str  # version: ChampionPyfunc (alias champion)
    intervals: str  # version: IntervalPyfunc (no alias at first)

    def move(self, alias: str, version: str) -> None:
        mlflow.MlflowClient(
            tracking_uri=self.uri, registry_uri=self.uri
        ).set_registered_model_alias(model_factory.NAME, alias, version)


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Registry:
    from retail_forecasting.model_registry import ChampionPyfunc

    path = tmp_path_factory.mktemp("serving_registry") / "mlflow.db"
    uri = f"sqlite:///{path}"
    with model_factory.mlflow_uris_kept():
        forecaster = model_factory.forecaster()
        # artifacts beside the store, not in ./mlruns of the checkout
        experiment = mlflow.MlflowClient(tracking_uri=uri).create_experiment(
            "serving", artifact_location=(path.parent / "artifacts").as_uri()
        )
        plain = model_factory.register(
            uri,
            ChampionPyfunc(forecaster),
            "champion",
            {
                "test.champion.wmae": 123.4,
                "backtest.seasonal_naive.wmae": 150.0,
                "backtest.naive.wmae": 170.0,
            },
            experiment,
        )
        intervals = model_factory.register(
            uri, model_factory.IntervalPyfunc(forecaster), None, experiment_id=experiment
        )
    return Registry(uri, path, plain, intervals)


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, trust_env=False)


def environment(registry: Registry, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RETAIL_SERVING_"))}
    # NullPool: every registry call opens the SQLite file anew, so a test can make it unreachable
    env.update(
        MLFLOW_TRACKING_URI=registry.uri,
        KEDRO_DISABLE_TELEMETRY="1",
        NO_PROXY="127.0.0.1",
        MLFLOW_SQLALCHEMYSTORE_POOLCLASS="NullPool",
        **extra,
    )
    return env


def start(
    command: list[str], env: dict[str, str], url: str, log: Path, ready: str = "/health/ready"
) -> Server:
    handle = log.open("w")
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT, stdout=handle, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 90
    with httpx.Client(base_url=url, timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
                )
            try:
                if client.get(ready).status_code == 200:
                    return Server(url, process, log)
            except httpx.TransportError:
                pass
            time.sleep(0.3)
    process.kill()
    raise AssertionError(f"the server did not get ready in 90 s:\n{log.read_text()[-3000:]}")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session")
def server(registry, tmp_path_factory) -> Server:
    """``retail-forecasting serve`` (python -m retail_forecasting serve): no polling, reload by key,
    a 200 kB body limit and at most 1000 rows per request."""
    port = free_port()
    env = environment(
        registry,
        RETAIL_SERVING_API_KEY=API_KEY,
        RETAIL_SERVING_MAX_BODY_BYTES="200000",
        RETAIL_SERVING_MAX_ROWS="1000",
    )
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = start(
        [
            sys.executable,
            "-m",
            "retail_forecasting",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--poll-seconds",
            "0",
        ],
        env,
        f"http://127.0.0.1:{port}",
        log,
    )
    yield running
    stop(running)
    assert API_KEY not in log.read_text(), "the API key was logged"
