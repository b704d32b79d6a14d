"""Configuration plumbing: warehouse credentials from DB_* variables, the project-root resolver."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from retail_forecasting.context import postgres_credentials_from_env
from retail_forecasting.resolvers import find_project_root


def test_db_variables_build_the_postgres_url():
    env = {"DB_HOST": "db.example", "DB_PORT": "6543", "DB_NAME": "retailds",
           "DB_USER": "etl", "DB_PASSWORD": "p@ss:word"}
    url = make_url(postgres_credentials_from_env(env)["con"])
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg2", "db.example", 6543, "retailds")
    assert (url.username, url.password) == ("etl", "p@ss:word")  # special characters escaped


def test_unset_db_variables_take_local_defaults():
    url = make_url(postgres_credentials_from_env({})["con"])
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "127.0.0.1", 5432, "retailds", "postgres", None)


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
