"""The served version follows the registry: reload by key, polling, an unreachable registry,
no model at all; and the SageMaker pair (/ping, /invocations) through the container entry point."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pandas as pd
import pytest

from . import model_factory
from .conftest import API_KEY, environment, free_port, start, stop

FIRST = model_factory.forecaster().forecast_weeks()[0].date().isoformat()
ROWS = {"rows": [{"store": 1, "dept": 1, "week": FIRST}, {"store": 1, "dept": 99, "week": FIRST}]}


def reload(client, key=API_KEY):
    return client.post("/admin/reload", headers={"X-API-Key": key} if key is not None else {})


def test_reload_needs_the_key_then_serves_the_moved_alias_with_its_extra_columns(server, registry):
    with server.client() as c:
        assert reload(c, None).status_code == 401
        assert reload(c, "wrong").status_code == 401
        before = c.post("/forecast", json=ROWS).json()
        assert before["model"]["version"] == registry.plain and "q0.1" not in before["forecasts"][0]
        registry.move("champion", registry.intervals)
        try:
            assert (
                c.get("/model").json()["version"] == registry.plain
            )  # nothing moves by itself (poll 0)
            result = reload(c)
            assert result.status_code == 200
            assert result.json() == {
                "outcome": "reloaded",
                "version": registry.intervals,
                "previous": registry.plain,
            }
            after = c.post("/forecast", json=ROWS).json()
            assert after["model"]["version"] == registry.intervals
            point, unseen = after["forecasts"]
            # columns the API does not know are passed through under the model's names
            assert point["q0.1"] == pytest.approx(0.9 * point["weekly_sales"])
            assert point["q0.9"] == pytest.approx(1.1 * point["weekly_sales"])
            assert point["weekly_sales"] == before["forecasts"][0]["weekly_sales"]
            assert (
                unseen["weekly_sales"] == 0.0 and unseen["q0.1"] is None and unseen["q0.9"] is None
            )
            series = c.post("/forecast", json={"series": [{"store": 2, "dept": 1}]}).json()[
                "forecasts"
            ]
            assert all(r["q0.1"] < r["weekly_sales"] < r["q0.9"] for r in series)
            batch = c.post(
                "/forecast/batch",
                content=f"Store,Dept,Date,IsHoliday\n1,1,{FIRST},FALSE\n",
                headers={"content-type": "text/csv"},
            )
            assert batch.text.splitlines()[0] == "Id,Weekly_Sales,q0.1,q0.9"
            assert (
                f'retail_serving_model_version{{alias="champion",name="{model_factory.NAME}"}} '
                f"{float(registry.intervals)}" in c.get("/metrics").text
            )
            assert reload(c).json() == {"outcome": "unchanged", "version": registry.intervals}
        finally:
            registry.move("champion", registry.plain)
            reload(c)
        assert c.get("/model").json()["version"] == registry.plain


def test_an_unreachable_registry_keeps_the_loaded_model_serving(server, registry):
    aside = registry.path.with_name("mlflow.db.aside")
    with server.client() as c:
        registry.path.rename(aside)
        registry.path.mkdir()  # SQLite cannot open a directory: the registry is gone
        try:
            result = reload(c)
            assert result.status_code == 502 and result.json()["outcome"] == "failed"
            assert result.json()["version"] == registry.plain and result.json()["error"]
            answer = c.post("/forecast", json=ROWS)
            assert answer.status_code == 200 and answer.json()["model"]["version"] == registry.plain
            assert c.get("/health/ready").status_code == 200
            assert c.get("/model").json()["registry"]["last_error"]
        finally:
            registry.path.rmdir()
            aside.rename(registry.path)
        assert reload(c).json()["outcome"] == "unchanged"
        assert c.get("/model").json()["registry"]["last_error"] is None


def test_serve_refuses_to_start_without_the_alias_and_says_how_to_promote(registry):
    env = environment(registry)
    for command in (
        [
            sys.executable,
            "-m",
            "retail_forecasting",
            "serve",
            "--alias",
            "approved",
            "--port",
            str(free_port()),
        ],
        [sys.executable, "-m", "retail_forecasting.aws.entrypoint", "serve"],
    ):
        extra = {
            "RETAIL_SERVING_ALIAS": "approved",
            "RETAIL_SERVING_HOST": "127.0.0.1",
            "RETAIL_SERVING_PORT": str(free_port()),
        }
        done = subprocess.run(
            command, env={**env, **extra}, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2, done.stderr[-2000:]
        assert f"No version of {model_factory.NAME} has the alias 'approved'" in done.stderr
        assert (
            "python -m retail_forecasting.model_registry promote --version N --alias approved"
            in done.stderr
        )


def test_container_serve_answers_ping_and_invocations_and_follows_the_alias(registry, tmp_path):
    registry.move("sagemaker", registry.plain)
    port = free_port()
    env = environment(
        registry,
        RETAIL_SERVING_ALIAS="sagemaker",
        RETAIL_SERVING_POLL_SECONDS="1",
        RETAIL_SERVING_HOST="127.0.0.1",
        RETAIL_SERVING_PORT=str(port),
    )
    server = start(
        [sys.executable, "-m", "retail_forecasting.aws.entrypoint", "serve"],
        env,
        f"http://127.0.0.1:{port}",
        tmp_path / "entrypoint.log",
        ready="/ping",
    )
    try:
        with server.client() as c:
            assert c.get("/ping").status_code == 200
            js = c.post("/invocations", json={"series": [{"store": 3, "dept": 2}]})
            assert js.status_code == 200 and len(js.json()["forecasts"]) == 39
            assert js.json()["model"] == {
                "name": model_factory.NAME,
                "alias": "sagemaker",
                "version": registry.plain,
            }
            csv = c.post(
                "/invocations",
                content=f"Store,Dept,Date,IsHoliday\n3,2,{FIRST},FALSE\n",
                headers={"content-type": "text/csv"},
            )
            out = pd.read_csv(io.StringIO(csv.text))
            assert out["Id"].tolist() == [f"3_2_{FIRST}"]
            assert out["Weekly_Sales"].iloc[0] == pytest.approx(
                js.json()["forecasts"][0]["weekly_sales"]
            )
            bad = c.post(
                "/invocations", content="Store,Dept\n1,1\n", headers={"content-type": "text/csv"}
            )
            assert bad.status_code == 422
            # the alias moves (what the approval handler does): polling picks it up
            registry.move("sagemaker", registry.intervals)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                model = c.post("/invocations", json=ROWS).json()["model"]
                if model["version"] == registry.intervals:
                    break
                time.sleep(0.5)
            assert model["version"] == registry.intervals
    finally:
        stop(server)
