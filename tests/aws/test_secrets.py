"""Warehouse credentials from AWS Secrets Manager (moto server), and the DB_* fallback."""

from __future__ import annotations

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from sqlalchemy.engine import make_url

from retail_forecasting.aws.secrets import SecretError, fetch_secret
from retail_forecasting.warehouse.credentials import warehouse_credentials


def env_with(aws, **values) -> dict:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    return {**base, **values}


def test_rds_console_secret_gives_the_whole_url(aws):
    aws.create_secret(
        "retail/rds",
        {
            "engine": "postgres",
            "host": "db.internal",
            "port": 6543,
            "dbname": "retailds",
            "username": "etl",
            "password": "p@ss:w/rd",
        },
    )
    url = make_url(warehouse_credentials(env_with(aws, RDS_SECRET_NAME="retail/rds"))["con"])
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg2",
        "db.internal",
        6543,
        "retailds",
    )
    assert (url.username, url.password) == ("etl", "p@ss:w/rd")


def test_rds_managed_secret_is_completed_by_db_variables(aws):
    # an RDS-managed master secret holds only the user and the password
    aws.create_secret("rds!db-123", {"username": "master", "password": "s3cret"})
    env = env_with(
        aws,
        RDS_SECRET_NAME="rds!db-123",
        DB_HOST="rds.example",
        DB_NAME="retailds",
        DB_USER="ignored",
        DB_PASSWORD="ignored",
    )
    url = make_url(warehouse_credentials(env)["con"])
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "rds.example",
        5432,
        "retailds",
        "master",
        "s3cret",
    )


def test_project_variable_names_in_a_secret_are_understood(aws):
    aws.create_secret("retail/env-style", {"DB_HOST": "h", "DB_USER": "u", "DB_PASSWORD": "p"})
    url = make_url(warehouse_credentials(env_with(aws, RDS_SECRET_NAME="retail/env-style"))["con"])
    assert (url.host, url.username, url.password) == ("h", "u", "p")


def test_without_secret_name_the_db_variables_are_used(aws):
    url = make_url(warehouse_credentials(env_with(aws, DB_HOST="from-env"))["con"])
    assert url.host == "from-env"


def test_missing_secret_is_an_error_naming_it(aws):
    with pytest.raises(SecretError, match="Cannot read secret 'retail/none'.*ResourceNotFound"):
        warehouse_credentials(env_with(aws, RDS_SECRET_NAME="retail/none"))


def test_secret_that_is_not_a_connection_is_an_error(aws):
    aws.create_secret("retail/text", {"token": "x"})
    with pytest.raises(SecretError, match="none of the expected keys"):
        warehouse_credentials(env_with(aws, RDS_SECRET_NAME="retail/text"))
    aws.client("secretsmanager").create_secret(Name="retail/plain", SecretString="not json")
    with pytest.raises(SecretError, match="is not JSON"):
        fetch_secret("retail/plain", aws.region)


def test_context_reads_the_secret_for_the_warehouse(aws, project_copy, monkeypatch):
    aws.create_secret(
        "retail/ctx",
        {"host": "ctx-host", "dbname": "retailds", "username": "ctx", "password": "pw"},
    )
    monkeypatch.setenv("RDS_SECRET_NAME", "retail/ctx")
    monkeypatch.setenv("RETAIL_S3_PREFIX", f"s3://{aws.bucket}/retail")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project_copy}/mlflow.db")
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="sagemaker") as session:
        credentials = session.load_context().config_loader["credentials"]
    url = make_url(credentials["warehouse_db"]["con"])
    assert (url.host, url.username, url.password) == ("ctx-host", "ctx", "pw")
