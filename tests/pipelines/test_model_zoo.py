"""The model zoo is listed once (forecasting.zoo: the statistical model, then learners.REGISTRY):
the pipelines, the evaluation, the champion's pip requirements and the parameters check follow
a new registry entry without any other edit, and parameters_modelling.yml must agree with it."""

from __future__ import annotations

import dataclasses
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset

from retail_forecasting.errors import InputError
from retail_forecasting.forecasting import learners, zoo
from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LearnerParams
from retail_forecasting.hooks import ModelZooHook
from retail_forecasting.pipelines import evaluation, modelling
from retail_forecasting.pipelines.feature_engineering.nodes import build_model_input
from retail_forecasting.pipelines.modelling.pipeline import create_model_pipeline

PROJECT = Path(__file__).resolve().parents[2]
NEW = "ridge_twin"


def modelling_parameters() -> dict:
    """``modelling`` of conf/base/parameters_modelling.yml (YAML merge keys resolved)."""
    text = (PROJECT / zoo.PARAMETERS_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)["modelling"]


@pytest.fixture
def new_learner(monkeypatch):
    """A learner added the documented way: one REGISTRY entry (ridge's functions, a tree model
    needing one more distribution), nothing else."""
    entry = dataclasses.replace(
        learners.REGISTRY["ridge"], requires=("scikit-learn", "threadpoolctl"), tree=True
    )
    monkeypatch.setitem(learners.REGISTRY, NEW, entry)
    return NEW


def test_the_zoo_is_the_statistical_model_then_the_registry():
    assert zoo.names() == ("svd_decomposition", "ridge", "lightgbm", "catboost", "xgboost")
    assert zoo.names() == ("svd_decomposition", *learners.REGISTRY)
    assert zoo.names("statistical") == ("svd_decomposition",)
    assert zoo.tree_models() == ("lightgbm", "catboost", "xgboost")
    assert zoo.family("ridge") == "learner"
    with pytest.raises(ValueError, match="'prophet' is no model of the zoo"):
        zoo.family("prophet")


def test_the_parameters_file_agrees_with_the_zoo_and_each_entry_validates():
    modelling = modelling_parameters()
    zoo.check_parameters(modelling)
    for name in zoo.names():
        typed = DecompositionParams if zoo.family(name) == "statistical" else LearnerParams
        assert typed.model_validate(modelling[name]).kind == name


def test_a_disagreement_is_a_short_error_naming_the_file_and_the_model():
    modelling = modelling_parameters()
    without = {k: v for k, v in modelling.items() if k != "catboost"}
    with pytest.raises(InputError, match=r"^conf/base/parameters_modelling.yml: no entry for .*"):
        zoo.check_parameters(without)
    with pytest.raises(ValueError, match=r"'catboost'"):
        zoo.check_parameters(without)
    with pytest.raises(ValueError, match=r"modelling.prophet: no such model in the zoo"):
        zoo.check_parameters({**modelling, "prophet": {"kind": "prophet"}})
    with pytest.raises(
        ValueError, match=r"modelling.xgboost.kind is 'lightgbm', must be 'xgboost'"
    ):
        zoo.check_parameters({**modelling, "xgboost": {**modelling["xgboost"], "kind": "lightgbm"}})
    with pytest.raises(ValueError, match=r"unknown learner 'prophet'; forecasting.learners"):
        LearnerParams(kind="prophet")


def test_the_champion_requirements_are_the_zoo_pinned_to_the_installed_versions():
    requirements = zoo.pip_requirements()
    assert requirements[: len(zoo.CORE_REQUIREMENTS)] == [
        f"{d}=={metadata.version(d)}" for d in zoo.CORE_REQUIREMENTS
    ]
    assert requirements[len(zoo.CORE_REQUIREMENTS) :] == [
        f"{d}=={metadata.version(d)}" for d in ("lightgbm", "catboost", "xgboost-cpu")
    ]  # scikit-learn (ridge) is a core requirement already: listed once


def test_a_new_registry_entry_is_enough(new_learner, feat_panel, run_pipeline, horizon_weeks):
    # the pipelines: its own namespace, in the ensemble, the evaluation and the importance figure
    pipeline = modelling.create_pipeline()
    assert f"params:modelling.{new_learner}" in pipeline.inputs()
    assert f"{new_learner}.mo_backtest" in {d for n in pipeline.nodes for d in n.inputs}
    ensemble = next(n for n in pipeline.nodes if n.name == "ensemble.fit_ensemble")
    assert f"{new_learner}.mo_backtest" in ensemble.inputs
    figure = next(
        n for n in evaluation.create_pipeline().nodes if n.name == "plot_feature_importance"
    )
    assert f"{new_learner}.mdl_model" in figure.inputs
    # its requirement, pinned, in the champion's
    assert f"threadpoolctl=={metadata.version('threadpoolctl')}" in zoo.pip_requirements()
    # the parameters: the file must gain its entry (the check names the file) and that is all
    modelling_params = modelling_parameters()
    with pytest.raises(ValueError, match=rf"parameters_modelling.yml: no entry for \['{NEW}'\]"):
        zoo.check_parameters(modelling_params)
    params = LearnerParams(kind=new_learner, search_space={"alpha": [1.0, 10.0]})
    zoo.check_parameters({**modelling_params, new_learner: params})
    # and its pipeline runs: tuned, backtested, fitted, forecasting the test window
    features = FeatureParams()
    forecast = build_model_input(feat_panel, horizon_weeks, features)
    catalog = run_pipeline(
        create_model_pipeline(new_learner),
        {
            "feat_panel": feat_panel,
            "mi_forecast_frame": forecast,
            "params:horizon_weeks": horizon_weeks,
            "params:backtest": BacktestParams(n_windows=2, step_weeks=10),
            "params:feature_engineering": features,
            f"params:modelling.{new_learner}": params,
        },
    )
    forecasts = catalog.load(f"{new_learner}.mo_test_forecasts")
    assert len(forecasts) == (feat_panel["split"] == "test").sum()
    assert forecasts[new_learner].notna().all()


def test_the_hook_stops_a_run_whose_parameters_miss_a_model(new_learner):
    catalog = DataCatalog({"params:modelling": MemoryDataset(modelling_parameters())})
    with pytest.raises(ValueError, match=rf"parameters_modelling.yml: no entry for \['{NEW}'\]"):
        ModelZooHook().before_pipeline_run(modelling.create_pipeline(), catalog)
    # a run that reads no model's parameters is not concerned
    ModelZooHook().before_pipeline_run(evaluation.create_pipeline(), catalog)
