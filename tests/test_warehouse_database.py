"""`--env local` against a PostgreSQL database that does not exist yet: created when the server
allows, otherwise one clear message (never "rolled back": no connection was made)."""

from __future__ import annotations

import json
import uuid

import mlflow
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from sqlalchemy import text

from retail_forecasting.cli import describe_failure
from retail_forecasting.warehouse.dataset import WarehouseUnavailable, ensure_postgres_database


def test_an_unreachable_server_is_one_clear_message_without_rolled_back():
    with pytest.raises(WarehouseUnavailable) as refused:
        ensure_postgres_database("postgresql+psycopg2://someone@127.0.0.1:1/retailds")
    message = str(refused.value)
    assert (
        "Cannot connect to the PostgreSQL warehouse 'retailds' at 127.0.0.1:1 as user 'someone'"
        in message
    )
    assert "DB_HOST" in message and "rolled back" not in message
    assert describe_failure(refused.value, None).startswith("\nThe run stopped on bad input")


def test_duckdb_urls_are_left_alone(tmp_path):
    assert ensure_postgres_database(f"duckdb:///{tmp_path / 'w.duckdb'}") is False
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.postgres
def test_a_missing_database_is_created_once(postgres_admin):
    name = f"rf_new_{uuid.uuid4().hex[:10]}"
    url = postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        assert ensure_postgres_database(url) is True
        assert ensure_postgres_database(url) is False  # exists now: nothing to do
        with postgres_admin.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).scalar()
                == 1
            )
    finally:
        with postgres_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.postgres
def test_a_user_who_may_not_create_it_is_told_what_to_do(postgres_admin):
    role, name = f"rf_role_{uuid.uuid4().hex[:8]}", f"rf_new_{uuid.uuid4().hex[:10]}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'pw' NOCREATEDB"))
    url = postgres_admin.url.set(username=role, password="pw", database=name)
    try:
        with pytest.raises(WarehouseUnavailable) as refused:
            ensure_postgres_database(url.render_as_string(hide_password=False))
        message = str(refused.value)
        assert f"The PostgreSQL database '{name}' does not exist" in message
        assert (
            f"user '{role}' could not create it (permission denied to create database)" in message
        )
        assert f"createdb -h {url.host} -p {url.port} -U <admin> {name}" in message
    finally:
        with postgres_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))


@pytest.mark.postgres
@pytest.mark.slow
def test_local_env_ingestion_creates_the_database_it_is_pointed_at(
    project_copy, tiny_raw_dir, postgres_admin, monkeypatch
):
    """The README's PostgreSQL path as written: DB_* variables naming a new database."""
    url, name = postgres_admin.url, f"rf_readme_{uuid.uuid4().hex[:8]}"
    for key, value in {
        "DB_HOST": url.host or "127.0.0.1",
        "DB_PORT": str(url.port or 5432),
        "DB_NAME": name,
        "DB_USER": url.username or "postgres",
        "DB_PASSWORD": url.password or "",
    }.items():
        monkeypatch.setenv(key, value)
    bootstrap_project(project_copy)
    try:
        with KedroSession.create(
            project_path=project_copy,
            env="local",
            runtime_params={"raw_data_dir": str(tiny_raw_dir)},
        ) as session:
            session.run(pipeline_name="ingestion")
        report = json.loads(
            (project_copy / "data/03_primary/prm_warehouse_load_report.json").read_text()
        )
        assert report["actual"]["fact_sales_weekly"] > 0
    finally:
        while mlflow.active_run():  # the session's run must not take later tests' logging
            mlflow.end_run()
        with postgres_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
