"""The quality gate before the registry: ``ChallengerAliasHook`` moves the alias ``challenger``
only to a version whose run passes ``check_registration``, on a real SQLite MLflow registry.

Each test registers versions with kedro-mlflow's ``MlflowModelTrackingDataset`` (the dataset
of ``rpt_champion_model``) and drives the hook as a Kedro session does: catalog created,
pipeline started, ``rpt_metrics`` and the champion saved, pipeline finished (or failed).
"""

from __future__ import annotations

import copy
import logging
import os
import uuid
from pathlib import Path

import mlflow
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro_mlflow.io.models import MlflowModelTrackingDataset

from retail_forecasting.hooks import ALIAS, CHAMPION_DATASET, METRICS_DATASET, ChallengerAliasHook
from retail_forecasting.metrics import to_mlflow_metrics
from retail_forecasting.pipelines.evaluation.nodes import EvaluationParams, QualityGateParams

BASELINES = (
    "naive",
    "seasonal_naive",
    "holiday_aligned_seasonal_naive",
    "moving_average",
    "seasonal_average",
    "hybrid",
)


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


@pytest.fixture(scope="module")
def tracking_db(tmp_path_factory):
    """One SQLite tracking and registry store for the module (creating one takes seconds);
    each test registers its own model name."""
    root = tmp_path_factory.mktemp("gate_tracking")
    previous, cwd = mlflow.get_tracking_uri(), Path.cwd()
    os.chdir(root)  # a new store makes ./mlruns for its default experiment: not in the checkout
    try:
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        experiment = mlflow.create_experiment(
            "gate", artifact_location=(root / "artifacts").as_uri()
        )
    finally:
        os.chdir(cwd)
    yield experiment
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def registry(tracking_db):
    """``(model name, client)`` for a test of its own."""
    mlflow.set_experiment(experiment_id=tracking_db)
    yield f"champion_{uuid.uuid4().hex[:8]}", mlflow.MlflowClient()
    while mlflow.active_run():
        mlflow.end_run()


def metrics(champion: str = "ensemble", wmae: float = 1500.0, **scores: float) -> dict:
    """A metrics.json: every baseline at WMAE 1800..1850, the champion at ``wmae``."""
    models = {
        b: {"wmae": 1800.0 + 10 * i, "mae": 1700.0, "rmse": 3500.0} for i, b in enumerate(BASELINES)
    }
    models.setdefault(champion, {"wmae": wmae, "mae": 1400.0, "rmse": 3000.0})
    models[champion] = {**models[champion], "wmae": wmae, **scores}
    models["champion"] = dict(models[champion])
    return {
        "horizon_weeks": 39,
        "test_start": "2012-02-03",
        "test_end": "2012-10-26",
        "champion": champion,
        "models": models,
    }


def make_catalog(name: str, params: EvaluationParams | None = None) -> DataCatalog:
    catalog = DataCatalog(
        {
            CHAMPION_DATASET: MlflowModelTrackingDataset(
                flavor="mlflow.pyfunc",
                pyfunc_workflow="python_model",
                save_args={
                    "name": "champion",
                    "registered_model_name": name,
                    "pip_requirements": ["mlflow"],
                },
            ),
            METRICS_DATASET: MemoryDataset(),
        }
    )
    catalog["params:evaluation"] = params or EvaluationParams()
    return catalog


def run(
    name: str,
    run_metrics: dict | None,
    *,
    params: EvaluationParams | None = None,
    fail: Exception | None = None,
    hook: ChallengerAliasHook | None = None,
) -> str:
    """One `kedro run` of the evaluation as the hook sees it; returns the new version."""
    hook = hook or ChallengerAliasHook()
    catalog = make_catalog(name, params)
    hook.after_catalog_created(
        catalog, {CHAMPION_DATASET: {"save_args": {"registered_model_name": name}}}
    )
    hook.before_pipeline_run()
    with mlflow.start_run():
        if run_metrics is not None:
            # what kedro-mlflow logs from rpt_test_mlflow_metrics, then metrics.json
            finite = {
                k: v
                for k, v in run_metrics["models"].items()
                if all(isinstance(x, float) and abs(x) < float("inf") for x in v.values())
            }
            for key, value in to_mlflow_metrics({"test": finite}).items():
                mlflow.log_metric(key, value["value"], step=value["step"])
            catalog.save(METRICS_DATASET, run_metrics)
            hook.after_dataset_saved(METRICS_DATASET, copy.deepcopy(run_metrics), None)
        catalog.save(CHAMPION_DATASET, Echo())
        hook.after_dataset_saved(CHAMPION_DATASET, None, None)
    if fail is None:
        hook.after_pipeline_run()
    else:
        hook.on_pipeline_error(fail)
    return str(catalog.get(CHAMPION_DATASET).model_info.registered_model_version)


def challenger(client, name: str) -> str | None:
    version = client.get_registered_model(name).aliases.get(ALIAS)
    return None if version is None else str(version)


def run_tags(client, name: str, version: str) -> dict:
    return client.get_run(client.get_model_version(name, version).run_id).data.tags


def test_first_version_that_passes_becomes_challenger(registry):
    name, client = registry
    version = run(name, metrics(wmae=1500.0))
    assert challenger(client, name) == version
    tags = run_tags(client, name, version)
    assert tags["quality_gate"] == "passed" and tags["quality_gate_reasons"] == "none"
    assert tags["quality_gate_previous_challenger"] == "none"
    assert "no previous challenger" in tags["quality_gate_notes"]
    assert client.get_model_version(name, version).tags["quality_gate"] == "passed"


def test_poisoned_run_leaves_the_alias_on_the_previous_version(registry, caplog):
    """The issue's case: one Weekly_Sales of 1e15 gave a champion with test WMAE 7.2e9."""
    name, client = registry
    good = run(name, metrics(wmae=1500.0))
    # a poisoned input inflates the baselines too: the champion still "beats" them
    poisoned = metrics(wmae=7.2e9)
    for model in BASELINES:
        poisoned["models"][model]["wmae"] = 9e9
    with caplog.at_level(logging.WARNING, logger="retail_forecasting.hooks"):
        bad = run(name, poisoned)
    assert bad != good
    assert challenger(client, name) == good, "the alias stays on the previous challenger"
    assert client.get_model_version(name, bad).status == "READY", "the model is still registered"
    tags = run_tags(client, name, bad)
    assert tags["quality_gate"] == "failed"
    assert "test wmae=7.2e+09" in tags["quality_gate_reasons"]
    assert "max_ratio_to_previous=1.5" in tags["quality_gate_reasons"]
    assert tags["quality_gate_previous_challenger"] == good
    assert client.get_model_version(name, bad).tags["quality_gate"] == "failed"
    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "retail_forecasting.hooks"
    ]
    assert f"Quality gate FAILED for {name} version {bad}" in warning
    assert f"stays on version {good}" in warning
    assert "wmae=7.2e+09" in warning and "wmae=1500" in warning and "1.5" in warning
    assert (
        f"python -m retail_forecasting.model_registry promote --version {bad} --alias challenger"
        in warning
    )


def test_passing_run_moves_the_alias_within_the_ratio(registry):
    name, client = registry
    first = run(name, metrics(wmae=1000.0))
    second = run(name, metrics(wmae=1000.0 * 1.5))  # exactly the ratio: allowed
    assert challenger(client, name) == second != first
    assert run_tags(client, name, second)["quality_gate_previous_challenger"] == first
    third = run(name, metrics(wmae=1000.0 * 1.5 * 1.01 + 1.0))  # just above 1.5 x the first
    assert challenger(client, name) == third, "the ratio is to the current challenger"


def test_ratio_is_configurable_and_can_be_switched_off(registry):
    name, client = registry
    strict = EvaluationParams(quality_gate=QualityGateParams(max_ratio_to_previous=1.1))
    first = run(name, metrics(wmae=1500.0), params=strict)
    run(name, metrics(wmae=1700.0), params=strict)  # 1.13 x: refused at 1.1
    assert challenger(client, name) == first
    off = EvaluationParams(quality_gate=QualityGateParams(max_ratio_to_previous=None))
    third = run(name, metrics(wmae=1790.0), params=off)  # still beats every baseline
    assert challenger(client, name) == third


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0])
def test_non_finite_test_metrics_fail(registry, bad):
    name, client = registry
    first = run(name, metrics(wmae=1500.0))
    version = run(name, metrics(wmae=1500.0, rmse=bad))
    assert challenger(client, name) == first
    reasons = run_tags(client, name, version)["quality_gate_reasons"]
    assert f"test rmse={bad!r} is not a finite, non-negative number" in reasons


def test_champion_that_does_not_beat_the_baselines_does_not_move_the_alias(registry):
    name, client = registry
    first = run(name, metrics(wmae=1500.0))
    baseline_champion = run(name, metrics(champion="seasonal_naive", wmae=1810.0))
    worse_learner = run(name, metrics(wmae=1805.0))  # naive has 1800
    assert challenger(client, name) == first
    assert "is a baseline" in run_tags(client, name, baseline_champion)["quality_gate_reasons"]
    assert (
        "is not below naive wmae=1800"
        in run_tags(client, name, worse_learner)["quality_gate_reasons"]
    )


def test_without_metrics_of_this_run_or_after_a_failure_the_alias_stays(registry):
    name, client = registry
    first = run(name, metrics(wmae=1500.0))
    no_metrics = run(name, None)
    failed = run(name, metrics(wmae=1400.0), fail=RuntimeError("node exploded"))
    assert challenger(client, name) == first
    assert (
        "was not produced by this run" in run_tags(client, name, no_metrics)["quality_gate_reasons"]
    )
    tags = run_tags(client, name, failed)
    assert tags["quality_gate"] == "failed" and "node exploded" in tags["quality_gate_reasons"]


def test_one_hook_across_runs_does_not_carry_metrics_over(registry):
    """A session reuses the hook object (settings.HOOKS): the metrics of one run never judge
    the next one's model."""
    name, client = registry
    hook = ChallengerAliasHook()
    first = run(name, metrics(wmae=1500.0), hook=hook)
    run(name, None, hook=hook)
    assert challenger(client, name) == first


def test_gate_parameters_come_from_the_typed_evaluation_parameters():
    """conf/base/parameters_evaluation.yml names every baseline the evaluation scores."""
    import yaml

    from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines

    conf = Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_evaluation.yml"
    params = EvaluationParams(**yaml.safe_load(conf.read_text())["evaluation"])
    config = params.quality_gate.gate_config()
    assert set(config.baselines) == set(make_baselines(BaselineParams())) == set(BASELINES)
    assert config.max_ratio_to_previous == 1.5 and config.metrics == ("wmae",)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        QualityGateParams(max_ratio_to_previous=0.5)
