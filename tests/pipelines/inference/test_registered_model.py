"""The registered champion as inference reads it (``mdl_registered_champion``): the project's
``RegisteredModelDataset`` on a real SQLite MLflow registry in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from kedro.io import DatasetError

from retail_forecasting.cli import find_input_error
from retail_forecasting.datasets import RegisteredModelDataset
from retail_forecasting.model_registry import ChampionPyfunc, forecaster_of

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """One SQLite tracking store and registry for the module (creating one takes seconds)."""
    db = tmp_path_factory.mktemp("registry") / "mlflow.db"
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    mlflow.set_registry_uri(f"sqlite:///{db}")
    # artifacts beside the store, not in ./mlruns of the checkout (a SQLite store's default root)
    experiment = mlflow.create_experiment(
        "registered_model", artifact_location=(db.parent / "artifacts").as_uri()
    )
    mlflow.set_experiment(experiment_id=experiment)
    yield mlflow.MlflowClient()
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


def versions(client: mlflow.MlflowClient, name: str, n: int, aliases: dict[str, int]) -> None:
    """``n`` versions of ``name`` (registry entries only: these tests never load them)."""
    client.create_registered_model(name)
    for _ in range(n):
        client.create_model_version(name, source="file:///nowhere", run_id=None)
    for alias, version in aliases.items():
        client.set_registered_model_alias(name, alias, str(version))


def test_the_catalog_entry_uses_the_dataset():
    entry = yaml.safe_load((PROJECT / "conf/base/catalog_06_models.yml").read_text())[
        "mdl_registered_champion"
    ]
    assert entry["type"] == "retail_forecasting.datasets.RegisteredModelDataset"
    assert entry["model_name"] == "retail_forecasting_champion"


def test_no_registered_model_says_run_kedro_run_first(registry):
    dataset = RegisteredModelDataset(model_name="retail_forecasting_champion", alias="champion")
    with pytest.raises(DatasetError) as caught:
        dataset.load()
    message = str(caught.value)
    assert message.startswith(
        "No model is registered as retail_forecasting_champion in the MLflow registry sqlite:///"
    )
    assert "run `kedro run` first" in message
    assert "Registered Model with name" not in message  # not MLflow's own words


def test_missing_alias_names_what_exists_and_what_to_do(registry):
    versions(registry, "alias_missing", 3, {"challenger": 3})
    dataset = RegisteredModelDataset(model_name="alias_missing", alias="champion")
    with pytest.raises(DatasetError) as caught:
        dataset.load()
    expected = (
        "No version of alias_missing has the alias 'champion' (versions: 1, 2, 3; aliases present: "
        "challenger -> version 3). Promote a reviewed version with "
        "`python -m retail_forecasting.model_registry "
        "promote --version N`, or run with `--params model_alias=challenger`."
    )
    assert str(caught.value) == expected
    # what `kedro run` prints, without a traceback: the input error in the chain
    assert str(find_input_error(caught.value)) == expected


def test_missing_other_alias_names_it_in_the_promote_command(registry):
    versions(registry, "other_alias", 2, {"champion": 1})
    with pytest.raises(
        DatasetError,
        match=r"aliases present: champion -> version 1\)\. Promote a reviewed "
        r"version with `python -m retail_forecasting\.model_registry promote "
        r"--version N --alias challenger`, or run with "
        r"`--params model_alias=champion`\.$",
    ):
        RegisteredModelDataset(model_name="other_alias", alias="challenger").load()


def test_no_alias_at_all_says_promote(registry):
    versions(registry, "no_alias", 2, {})
    with pytest.raises(
        DatasetError,
        match=r"\(versions: 1, 2; aliases present: none\)\. Promote a reviewed "
        r"version with `python -m retail_forecasting\.model_registry promote "
        r"--version N`\.$",
    ):
        RegisteredModelDataset(model_name="no_alias", alias="champion").load()


def test_an_existing_alias_loads_the_champion(registry, seasonal_naive_champion, horizon_weeks):
    forecaster = seasonal_naive_champion
    experiment = mlflow.get_experiment_by_name("registered_model").experiment_id
    with mlflow.start_run(experiment_id=experiment):
        mlflow.pyfunc.log_model(
            name="champion",
            python_model=ChampionPyfunc(forecaster),
            registered_model_name="loads",
            pip_requirements=["pandas"],
        )
    mlflow.MlflowClient().set_registered_model_alias("loads", "champion", "1")
    model = RegisteredModelDataset(model_name="loads", alias="champion").load()
    loaded = forecaster_of(model)  # what the inference checks read
    assert loaded.origin == forecaster.origin and loaded.horizon == horizon_weeks
    week = forecaster.forecast_weeks()[0]
    forecast = model.predict(
        pd.DataFrame({"Store": [1], "Dept": [1], "Date": [week], "IsHoliday": [False]})
    )
    assert (
        forecast["Weekly_Sales"].iloc[0]
        == forecaster.forecast(
            pd.DataFrame({"Store": [1], "Dept": [1], "Date": [week], "IsHoliday": [False]})
        )["Weekly_Sales"].iloc[0]
    )
