"""Shared fixtures: a tiny synthetic Kaggle bundle, a throw-away PostgreSQL database and a
copy of the project to run whole Kedro sessions in."""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from retail_forecasting.warehouse.credentials import postgres_credentials_from_env

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: A panel small enough for unit tests and whole-session runs (a few thousand rows) that still
#: has 143 weeks, so lag-52 features, a 39-week validation and a 39-week test window fit.
TINY = {"seed": 7, "n_stores": 3, "n_depts": 6, "n_weeks": 143, "n_future_weeks": 39}


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    """Keyword arguments of ``SyntheticConfig`` for the tiny panel."""
    return dict(TINY)


@pytest.fixture(scope="session")
def tiny_raw_dir(tmp_path_factory) -> Path:
    from retail_forecasting.synthetic import SyntheticConfig, write_kaggle_files

    directory = tmp_path_factory.mktemp("tiny_raw")
    write_kaggle_files(directory, SyntheticConfig(**TINY))
    return directory


@pytest.fixture(scope="session")
def postgres_admin():
    """An AUTOCOMMIT engine on the server's maintenance database.

    The server comes from the DB_* variables (default postgres@127.0.0.1:5432). Where no
    server answers, the tests are skipped with the reason — except in CI (CI=true), where
    they must run, so they fail instead.
    """
    env = {**os.environ, "DB_NAME": os.environ.get("DB_ADMIN_DB", "postgres")}
    admin = create_engine(postgres_credentials_from_env(env)["con"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {admin.url.render_as_string()}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI must run the PostgreSQL tests)")
        pytest.skip(message)
    yield admin
    admin.dispose()


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    """A fresh warehouse URL, once on an embedded DuckDB file and once on PostgreSQL."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_url(postgres_admin) -> str:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name = f"rf_test_{uuid.uuid4().hex[:10]}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the project's conf/ and sql/ in a temp dir, made the working directory.

    Whole-session tests run there, so data/, mlflow.db and mlartifacts/ stay out of the repo.
    """
    root = tmp_path / "project"
    root.mkdir()
    for item in ("conf", "sql"):
        shutil.copytree(
            PROJECT_ROOT / item, root / item, ignore=shutil.ignore_patterns("*credentials*")
        )
    # base's credentials.yml holds no secret (warehouse_db = ${warehouse_credentials:})
    shutil.copy(PROJECT_ROOT / "conf/base/credentials.yml", root / "conf/base/credentials.yml")
    (root / "src").mkdir()  # the package itself is imported from the installed project
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(PROJECT_ROOT / ".telemetry", root / ".telemetry")
    monkeypatch.chdir(root)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    return root


@pytest.fixture(autouse=True)
def _no_mlflow_run_left_active(monkeypatch):
    """A test that fails inside a Kedro session can leave kedro-mlflow's run on MLflow's
    process-wide active-run stack; end it, so one failure does not cascade into every later
    test that starts a run ("Run with UUID … is already active")."""
    # `mlflow.set_experiment` also exports MLFLOW_EXPERIMENT_ID: restored after the test
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "0")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID")
    yield
    import mlflow

    while mlflow.active_run() is not None:
        try:
            mlflow.end_run()
        except Exception:  # noqa: BLE001 - the run's store may be gone with the test's tmp dir
            break
    # `mlflow.set_experiment` in one test leaves its experiment id active for the process: a
    # later test on another (fresh) store then fails with "No Experiment with id=1 exists".
    # MLflow has no public "unset"; tests may reset its module state.
    from mlflow.tracking import fluent

    if hasattr(fluent, "_active_experiment_id"):
        fluent._active_experiment_id = None


# ------------------------------------------------------------------ headless Chromium


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium for the browser tests: skipped where it is missing, a failure
    on CI (which must run them)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the browser test")
    pytest.skip(message)


def _chromium_command(
    chromium: str,
    url: str,
    screenshot: Path,
    profile: Path,
    window: tuple[int, int],
    budget_ms: int,
) -> list[str]:
    """Headless Chromium loading ``url`` for ``budget_ms`` of virtual time, then writing a
    ``window``-sized PNG ``screenshot`` and printing the DOM (no sandbox, GPU, network extras or
    first-run pages: it runs in containers and CI)."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        f"--virtual-time-budget={budget_ms}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        url,
    ]


def _check_screenshot(screenshot: Path, window: tuple[int, int]) -> None:
    """The screenshot is a PNG of the window's size, and not blank."""
    header = screenshot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "chromium wrote no PNG screenshot"
    size = (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big"))
    assert size == window
    assert screenshot.stat().st_size > 20_000, "the screenshot looks blank"


@pytest.fixture(scope="session")
def chromium_command(chromium):
    """``chromium_command(url, screenshot, profile, window, budget_ms) -> argv`` (see
    :func:`_chromium_command`); asks for :func:`chromium` first, so a test without Chromium is
    skipped before it starts anything."""
    return functools.partial(_chromium_command, chromium)


@pytest.fixture(scope="session")
def check_screenshot():
    """``check_screenshot(path, window)``: a PNG of the window's size, not blank."""
    return _check_screenshot
