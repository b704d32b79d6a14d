"""Configuration plumbing: warehouse credentials from DB_* variables, the project-root resolver."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from retail_forecasting.resolvers import find_project_root
from retail_forecasting.warehouse.credentials import postgres_credentials_from_env


def test_db_variables_build_the_postgres_url():
    env = {
        "DB_HOST": "db.example",
        "DB_PORT": "6543",
        "DB_NAME": "retailds",
        "DB_USER": "etl",
        "DB_PASSWORD": "p@ss:word",
    }
    url = make_url(postgres_credentials_from_env(env)["con"])
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg2",
        "db.example",
        6543,
        "retailds",
    )
    assert (url.username, url.password) == ("etl", "p@ss:word")  # special characters escaped


def test_unset_db_variables_take_local_defaults():
    url = make_url(postgres_credentials_from_env({})["con"])
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "127.0.0.1",
        5432,
        "retailds",
        "postgres",
        None,
    )


def test_bad_port_is_a_clear_error():
    with pytest.raises(ValueError, match="DB_PORT must be an integer, got 'abc'"):
        postgres_credentials_from_env({"DB_PORT": "abc"})


def test_project_root_is_found_from_a_subfolder(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.kedro]\npackage_name = 'x'\n")
    notebooks = tmp_path / "notebooks" / "deep"
    notebooks.mkdir(parents=True)
    assert find_project_root(notebooks) == tmp_path.resolve()
    other = tmp_path.parent / "elsewhere"
    other.mkdir()
    assert find_project_root(other) == other.resolve()  # no project: the start folder


def test_typed_parameters_are_flattened_for_mlflow():
    from retail_forecasting.forecasting.baselines import BaselineParams
    from retail_forecasting.hooks import flatten_params

    flat = flatten_params("baselines", BaselineParams(moving_average_window=4))
    assert flat["baselines.moving_average_window"] == 4
    assert flat["baselines.hybrid_weights.seasonal_average"] == 0.5
    assert flatten_params("x", {"a": {"b": [1, 2]}}) == {"x.a.b": [1, 2]}


def test_warehouse_credentials_come_from_the_resolver_unless_an_environment_defines_them(
    tmp_path, monkeypatch
):
    import shutil

    from kedro.config import OmegaConfigLoader

    from retail_forecasting.resolvers import CUSTOM_RESOLVERS, find_project_root

    conf = tmp_path / "conf"
    (conf / "local").mkdir(parents=True)
    shutil.copytree(find_project_root(Path(__file__).parent) / "conf/base", conf / "base")
    monkeypatch.delenv("RDS_SECRET_NAME", raising=False)
    monkeypatch.setenv("DB_HOST", "from-env")

    def credentials() -> dict:
        return OmegaConfigLoader(
            str(conf),
            env="local",
            base_env="base",
            default_run_env="base",
            custom_resolvers=CUSTOM_RESOLVERS,
        )["credentials"]

    assert make_url(credentials()["warehouse_db"]["con"]).host == "from-env"
    (conf / "local/credentials.yml").write_text(
        "warehouse_db:\n  con: postgresql+psycopg2://u:p@from-file:5432/retailds\n"
    )
    assert make_url(credentials()["warehouse_db"]["con"]).host == "from-file"
