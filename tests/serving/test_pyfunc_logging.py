"""The champion as ``rpt_champion_model`` logs it (ChampionModelDataset): signature, input
example and code, so that ``mlflow models serve`` (MLflow's scoring server) accepts requests."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from retail_forecasting.datasets import ChampionModelDataset
from retail_forecasting.model_registry import ChampionPyfunc

from . import model_factory

PROJECT = Path(__file__).resolve().parents[2]


def test_the_catalog_logs_the_champion_with_the_dataset():
    entry = yaml.safe_load((PROJECT / "conf/base/catalog_08_reporting.yml").read_text())[
        "rpt_champion_model"
    ]
    assert entry["type"] == "retail_forecasting.datasets.ChampionModelDataset"


@pytest.fixture
def tracking(registry):
    """The session's registry as MLflow's global store for one test, restored afterwards."""
    with model_factory.mlflow_uris_kept():
        mlflow.set_tracking_uri(registry.uri)
        mlflow.set_registry_uri(registry.uri)
        yield registry
        while mlflow.active_run():
            mlflow.end_run()


def test_logged_champion_has_signature_example_and_code_and_the_scoring_server_accepts_it(
    tracking, tmp_path
):
    dataset = ChampionModelDataset(
        flavor="mlflow.pyfunc",
        pyfunc_workflow="python_model",
        save_args={
            "name": "champion",
            "registered_model_name": "with_signature",
            "pip_requirements": ["pandas"],
        },
    )
    with mlflow.start_run(experiment_id=mlflow.get_experiment_by_name("serving").experiment_id):
        dataset.save(ChampionPyfunc(model_factory.forecaster()))
    uri = dataset.model_info.model_uri
    assert "signature" not in dataset._save_args  # computed per save, not kept
    info = mlflow.models.get_model_info(uri)
    assert info.signature.inputs.input_names() == [
        "Store",
        "Dept",
        "Date",
        "IsHoliday",
        *[f"MarkDown{i}" for i in range(1, 6)],
    ]
    assert not any(col.required for col in info.signature.inputs.inputs[4:])
    assert "Weekly_Sales" in info.signature.outputs.input_names()
    local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path)))
    example = json.loads((local / "serving_input_example.json").read_text())
    first = model_factory.forecaster().forecast_weeks()[0].date().isoformat()
    assert example["dataframe_split"]["columns"] == ["Store", "Dept", "Date", "IsHoliday"]
    assert {row[2] for row in example["dataframe_split"]["data"]} == {first}
    assert (local / "code" / "retail_forecasting" / "registry.py").is_file()
    # MLflow's scoring server path (what `mlflow models serve` runs for POST /invocations)
    answer = mlflow.models.validate_serving_input(uri, json.dumps(example))
    assert len(answer) == 3 and answer["Weekly_Sales"].notna().all()
    with_markdown = {
        "dataframe_split": {
            "columns": ["Store", "Dept", "Date", "IsHoliday", "MarkDown1"],
            "data": [[1, 1, first, False, 1500.0]],
        }
    }
    answer = mlflow.models.validate_serving_input(uri, json.dumps(with_markdown))
    expected = model_factory.forecaster().forecast(
        pd.DataFrame(
            {
                "Store": [1],
                "Dept": [1],
                "Date": [first],
                "IsHoliday": [False],
                "MarkDown1": [1500.0],
            }
        )
    )
    assert answer["Weekly_Sales"].iloc[0] == expected["Weekly_Sales"].iloc[0]
