"""The guard against mixed settings (retail_forecasting.provenance) and the MLflow run names
(retail_forecasting.run_names): unit tests of the comparison and the message, and real Kedro
sessions on the tiny synthetic panel in a copy of the project (feature_engineering and baselines
only, to stay fast)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mlflow
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

import retail_forecasting
from retail_forecasting.cli import describe_failure
from retail_forecasting.errors import InputError
from retail_forecasting.provenance import (
    MixedSettingsError,
    describe_refusal,
    find_conflicts,
    flatten_leaves,
    kedro_command,
    read_stamp,
    write_stamp,
)
from retail_forecasting.run_names import describe_run, run_scope


def stamp(params: dict, data: dict | None = None, command: str = "kedro run") -> dict:
    return {
        "version": 1,
        "params": flatten_leaves("", params),
        "data": data,
        "command": command,
        "written_at": "2026-12-01 21:00 UTC",
    }


SYNTHETIC = {"kind": "synthetic", "location": '{"seed": 42}', "files": {"train.csv": "a" * 64}}


# ------------------------------------------------------------------------ comparison (unit)


def test_an_input_made_under_another_horizon_than_the_run_is_a_conflict():
    current = flatten_leaves("", {"horizon_weeks": 39, "backtest": {"folds": 3}})
    conflicts = find_conflicts(
        [("feat_panel", stamp({"horizon_weeks": 13, "backtest": {"folds": 3}}))], current, None
    )
    assert conflicts == [
        {
            "dataset": "feat_panel",
            "setting": "horizon_weeks",
            "made": "13",
            "now": "39",
            "other": None,
        }
    ]


def test_inputs_that_differ_from_each_other_are_a_conflict_even_when_the_run_has_no_value():
    inputs = [("a", stamp({"x": {"y": [1, 2]}})), ("b", stamp({"x": {"y": [1, 3]}}))]
    conflicts = find_conflicts(inputs, {}, None)
    assert [(c["dataset"], c["setting"], c["other"]) for c in conflicts] == [("b", "x.y", "a")]


def test_same_settings_whole_floats_and_exempt_parameters_are_not_conflicts():
    current = flatten_leaves(
        "",
        {
            "horizon_weeks": 39,
            "ingestion": {"cap": 10000, "load": {"mode": "mirror"}},
            "modelling": {"ridge": {"time_budget_seconds": 600}},
        },
    )
    made = stamp(
        {
            "horizon_weeks": 39,
            "ingestion": {"cap": 10000.0, "load": {"mode": "incremental"}},
            "modelling": {"ridge": {"time_budget_seconds": 60}},
        }
    )
    assert find_conflicts([("prm_train", made), ("prm_test", made)], current, None) == []


def test_data_source_and_raw_file_fingerprints_are_compared():
    real = {"kind": "real", "location": "/data/walmart", "files": {"train.csv": "b" * 64}}
    current = {"kind": "synthetic", "location": '{"seed": 42}'}
    # made from real data, this run configured for synthetic data
    [conflict] = find_conflicts([("feat_panel", stamp({}, real))], {}, current)
    assert conflict["setting"] == "data" and conflict["made"] == "real data in /data/walmart"
    assert conflict["now"] == "synthetic data (seed=42)"
    # two inputs from the same source but different train.csv contents
    other = {**SYNTHETIC, "files": {"train.csv": "c" * 64}}
    [conflict] = find_conflicts([("a", stamp({}, SYNTHETIC)), ("b", stamp({}, other))], {}, current)
    assert conflict["setting"] == "sha256 of train.csv" and conflict["other"] == "a"


def test_the_refusal_names_dataset_values_origin_and_both_ways_out():
    made = stamp({"horizon_weeks": 13}, command="kedro run --params horizon_weeks=13")
    conflicts = find_conflicts([("feat_panel", made)], {"horizon_weeks": "39"}, None)
    run_params = {
        "env": "local",
        "pipeline_names": ["__default__"],
        "namespaces": ["lightgbm"],
        "runtime_params": {"raw_data_dir": "/data/w"},
    }
    message = describe_refusal("lightgbm.tune_model", conflicts, {"feat_panel": made}, run_params)
    assert "Node 'lightgbm.tune_model' would mix settings" in message
    assert "horizon_weeks: 13 in feat_panel; 39 in this run" in message
    assert "written by `kedro run --params horizon_weeks=13` at 2026-12-01 21:00 UTC" in message
    assert (
        "Rebuild it with this run's settings: kedro run --env local --to-outputs feat_panel "
        "--params raw_data_dir=/data/w"
    ) in message
    assert "or run with the settings they were made under: --params horizon_weeks=13" in message
    # kedro run prints it as the one short block of an InputError
    block = describe_failure(MixedSettingsError(message), None)
    assert block.startswith("\nThe run stopped on bad input") and "Traceback" not in block


def test_kedro_command_round_trips_the_options_a_user_typed():
    assert (
        kedro_command(
            {
                "pipeline_names": ["modelling", "evaluation"],
                "namespaces": ["ridge"],
                "runtime_params": {"horizon_weeks": 13, "modelling": {"ridge": {"seed": 1}}},
            }
        )
        == "kedro run --pipelines modelling,evaluation --namespaces ridge "
        "--params horizon_weeks=13,modelling.ridge.seed=1"
    )
    assert kedro_command({"pipeline_names": ["__default__"], "env": None}) == "kedro run"


def test_stamps_are_written_whole(tmp_path):
    path = tmp_path / "data" / ".provenance" / "feat_panel.json"
    write_stamp(path, stamp({"horizon_weeks": 39}))
    assert read_stamp(path)["params"] == {"horizon_weeks": "39"}
    assert [p.name for p in path.parent.iterdir()] == ["feat_panel.json"]  # no temp file left
    path.write_text("{cut", encoding="utf-8")
    assert read_stamp(path) is None  # unreadable: treated as no stamp


def test_run_names_say_scope_source_horizon_and_commit():
    params = {"pipeline_names": ["__default__"], "namespaces": ["lightgbm"], "tags": None}
    name, tags = describe_run(params, "/data/walmart", 13, "0123456789abcdef", True)
    assert name == "__default__[lightgbm] · real · h13 · 0123456+"
    assert tags["data_source"] == "real" and tags["horizon_weeks"] == "13"
    assert tags["git_commit"] == tags["mlflow.source.git.commit"] == "0123456789abcdef"
    name, tags = describe_run({"pipeline_names": ["ingestion"]}, "", 39, None, False)
    assert name == "ingestion · synthetic · h39" and tags["git_commit"] == "unknown"
    assert (
        run_scope({"pipeline_names": ["modelling"], "from_nodes": ["x"]}) == "modelling (partial)"
    )


# ------------------------------------------------------------------------ real sessions


def run(project: Path, pipelines: list[str], **runtime_params):
    bootstrap_project(project)
    try:
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            return session.run(pipeline_names=pipelines)
    finally:
        while mlflow.active_run():  # a failed run must not take later sessions' logging
            mlflow.end_run()


@pytest.mark.slow
def test_stale_features_are_refused_and_consistent_partial_runs_pass(project_copy, tiny_config):
    tiny = {
        "synthetic_seed": tiny_config["seed"],
        "synthetic_stores": tiny_config["n_stores"],
        "synthetic_depts": tiny_config["n_depts"],
    }
    # 1. features made with a 13-week horizon
    run(project_copy, ["ingestion", "feature_engineering"], horizon_weeks=13, **tiny)
    stamps = project_copy / "data" / ".provenance"
    feat = json.loads((stamps / "feat_panel.json").read_text(encoding="utf-8"))
    assert feat["params"]["horizon_weeks"] == "13"
    assert feat["data"]["kind"] == "synthetic" and set(feat["data"]["files"]) >= {"train.csv"}
    assert "--params horizon_weeks=13" in feat["command"]
    backtest = project_copy / "data" / "07_model_output" / "mo_baseline_backtest.parquet"

    # 2. the stale mix: baselines with the default 39-week horizon on those features -> refused
    with pytest.raises(Exception) as refused:
        run(project_copy, ["baselines"], **tiny)
    error = refused.value
    while not isinstance(error, InputError) and (error.__cause__ or error.__context__):
        error = error.__cause__ or error.__context__
    assert isinstance(error, MixedSettingsError), refused.value
    message = str(error)
    assert "horizon_weeks: 13 in feat_panel; 39 in this run" in message
    assert "kedro run --to-outputs feat_panel --params synthetic_seed=7" in message
    assert "--params horizon_weeks=13" in message
    assert not backtest.exists(), "nothing may be written by a refused node"

    # 3. the same partial run with the settings the features were made under passes
    run(project_copy, ["baselines"], horizon_weeks=13, **tiny)
    assert backtest.is_file()
    assert (
        json.loads((stamps / "mo_baseline_backtest.json").read_text())["params"]["horizon_weeks"]
        == "13"
    )

    # the MLflow runs are named and tagged by what they are (the refused one included)
    mlflow.set_tracking_uri(f"sqlite:///{project_copy / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["retail_forecasting"], order_by=["start_time ASC"])
    names = [name.rsplit(" · ", 1) for name in runs["tags.mlflow.runName"]]
    assert [scope for scope, _ in names] == [
        "ingestion+feature_engineering · synthetic · h13",
        "baselines · synthetic · h39",
        "baselines · synthetic · h13",
    ]
    # the checkout's commit (others may commit while the test runs: each run names its own)
    for (_, commit), full, dirty in zip(
        names, runs["tags.git_commit"], runs["tags.git_dirty"], strict=True
    ):
        assert commit == full[:7] + ("+" if dirty == "true" else "")
    source = Path(retail_forecasting.__file__).parent
    for sha in set(runs["tags.git_commit"]):  # a real commit of this checkout, HEAD or before it
        assert (
            subprocess.run(
                ["git", "-C", str(source), "merge-base", "--is-ancestor", sha, "HEAD"], check=False
            ).returncode
            == 0
        ), sha
    last = runs.iloc[-1]
    assert last["tags.data_source"] == "synthetic" and last["tags.horizon_weeks"] == "13"
    assert last["tags.run_scope"] == "baselines"
