"""The model zoo: every registered learner fits and predicts deterministically, tuning ranks
every candidate on the fold's window (the time budget stops the run, never skips), subsampling is
seeded."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting import learners
from retail_forecasting.forecasting.features import (
    FeatureParams,
    feature_columns,
    forecast_frame,
    training_frame,
)
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.learners import (
    MODELS,
    LearnerParams,
    TuningTimeout,
    fit_learner,
    residual_base,
    subsample,
    tune,
)

HORIZON = 39
FEATURES = FeatureParams()
OBSERVED = FEATURES.covariates.observed
TINY = {
    "ridge": {},
    "lightgbm": {"num_leaves": 15},
    "catboost": {"depth": 4},
    "xgboost": {"max_depth": 4},
}


@pytest.fixture(scope="module")
def frames(synthetic_panel):
    weeks = np.sort(synthetic_panel["date"].unique())
    cutoff = pd.Timestamp(weeks[-HORIZON - 1])
    history = History.from_panel(synthetic_panel, cutoff, observed=OBSERVED)
    future = synthetic_panel[synthetic_panel["date"] > cutoff]
    return (
        training_frame(history, synthetic_panel, FEATURES, HORIZON),
        forecast_frame(history, future, FEATURES, HORIZON),
        future,
    )


@pytest.mark.parametrize("kind", MODELS)
def test_every_learner_fits_predicts_and_is_deterministic(frames, kind):
    train, scoring, future = frames
    params = LearnerParams(kind=kind, rounds=25, threads=1, hyperparameters=TINY[kind])
    first = fit_learner(train, feature_columns(FEATURES), params)
    again = fit_learner(train, feature_columns(FEATURES), params)
    forecast = first.predict(scoring)
    assert forecast.shape == (len(future),) and np.isfinite(forecast).all()
    np.testing.assert_array_equal(forecast, again.predict(scoring))
    # better than a constant guess on the synthetic series
    actual = future["weekly_sales"].to_numpy()
    assert np.abs(forecast - actual).mean() < np.abs(actual - actual.mean()).mean()
    importance = first.feature_importance()
    assert len(importance) >= len(feature_columns(FEATURES)) - 1 and (importance >= 0).all()


def test_a_residual_learner_predicts_the_base_plus_its_correction(frames):
    train, scoring, future = frames
    params = LearnerParams(
        kind="lightgbm",
        rounds=25,
        threads=1,
        target="residual",
        hyperparameters={"num_leaves": 15, "objective": "regression_l1"},
    )
    model = fit_learner(train, feature_columns(FEATURES), params)
    correction = model.model.predict(
        scoring[feature_columns(FEATURES)].astype(float), num_iteration=model.rounds
    )
    base = residual_base(scoring)
    np.testing.assert_allclose(model.predict(scoring), base + correction)
    assert np.isfinite(base).all() and not np.allclose(correction, 0)
    # the base: decomposition_base where known, else the 52-week level, else 0
    known = scoring["decomposition_base"].notna()
    np.testing.assert_allclose(base[known.to_numpy()], scoring.loc[known, "decomposition_base"])
    actual = future["weekly_sales"].to_numpy()
    assert np.abs(model.predict(scoring) - actual).mean() < np.abs(base - actual).mean() * 1.05


def test_a_nan_target_is_refused(frames):
    train = frames[0].copy()
    train.loc[train.index[:3], "weekly_sales"] = np.nan
    with pytest.raises(ValueError, match="3 NaN targets"):
        fit_learner(train, feature_columns(FEATURES), LearnerParams(kind="ridge"))


def test_early_stopping_keeps_the_best_round_and_fixed_rounds_are_honoured(frames):
    train, _, _ = frames
    params = LearnerParams(
        kind="lightgbm",
        rounds=400,
        early_stopping_rounds=5,
        threads=1,
        hyperparameters={"learning_rate": 0.5, "num_leaves": 31},
    )
    inner = train["date"] > train["date"].max() - pd.Timedelta(weeks=8)
    stopped = fit_learner(train[~inner], feature_columns(FEATURES), params, valid=train[inner])
    assert 1 <= stopped.rounds < 400
    fixed = fit_learner(train, feature_columns(FEATURES), params, rounds=7)
    assert fixed.rounds == 7 and fixed.model.num_trees() == 7


def test_tuning_picks_the_lowest_fold_error_and_tries_every_candidate(synthetic_panel):
    panel, cutoff = _tuning_fold(synthetic_panel)
    params = LearnerParams(kind="ridge", search_space={"alpha": [1e6, 1.0]})
    result = tune(panel, cutoff, HORIZON, FEATURES, params)
    errors = {c["alpha"]: c["wmae"] for c in result["candidates"]}
    assert errors[1.0] < errors[1e6]  # a huge penalty flattens the model
    assert result["hyperparameters"] == {"alpha": 1.0} and len(result["candidates"]) == 2
    assert "skipped" not in result


class _Clock:
    """A stand-in for the ``time`` module whose ``perf_counter`` jumps ``tick`` seconds per call:
    a very busy (or very slow) machine, as seen by the tuning."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def perf_counter(self) -> float:
        self.now += self.tick
        return self.now


def _tuning_fold(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.Timestamp]:
    weeks = np.sort(panel["date"].unique())
    return panel[panel["date"] <= weeks[-HORIZON - 1]], pd.Timestamp(weeks[-2 * HORIZON - 1])


def test_the_time_budget_stops_the_run_with_a_clear_error_instead_of_skipping(
    synthetic_panel, monkeypatch
):
    panel, cutoff = _tuning_fold(synthetic_panel)
    params = LearnerParams(
        kind="ridge", search_space={"alpha": [1e6, 1.0, 10.0]}, time_budget_seconds=50
    )
    fitted = []
    real_fit = learners.fit_learner
    monkeypatch.setattr(
        learners, "fit_learner", lambda *a, **k: fitted.append(1) or real_fit(*a, **k)
    )
    monkeypatch.setattr(
        learners, "time", _Clock(tick=100.0)
    )  # the first candidate already "takes" 300 s
    with pytest.raises(TuningTimeout) as error:
        tune(panel, cutoff, HORIZON, FEATURES, params)
    message = str(error.value)
    assert len(fitted) == 1, "the run stops at the first candidate past the budget"
    assert "Tuning ridge" in message and "1 of 3 candidates" in message
    assert "modelling.ridge.time_budget_seconds" in message and "--params" in message


def test_the_clock_never_changes_the_tuning_result(synthetic_panel, monkeypatch):
    """A busy machine (every clock reading hours apart, within a large budget) tries the same
    candidates and picks the same model as an idle one: only the informative seconds differ."""
    panel, cutoff = _tuning_fold(synthetic_panel)
    params = LearnerParams(
        kind="lightgbm",
        rounds=20,
        threads=2,
        target="residual",
        hyperparameters={"min_data_in_leaf": 5},
        search_space={"num_leaves": [7, 15, 31], "learning_rate": [0.3, 0.1]},
        max_candidates=4,
        time_budget_seconds=1e9,
    )
    idle = tune(panel, cutoff, HORIZON, FEATURES, params)
    monkeypatch.setattr(learners, "time", _Clock(tick=3600.0))
    busy = tune(panel, cutoff, HORIZON, FEATURES, params)

    def without_seconds(result):
        return {
            **result,
            "candidates": [
                {k: v for k, v in c.items() if k != "seconds"} for c in result["candidates"]
            ],
        }

    assert len(idle["candidates"]) == len(busy["candidates"]) == 4
    assert without_seconds(idle) == without_seconds(busy)
    assert {c["seconds"] for c in busy["candidates"]} == {3600.0}  # the fake clock was in force


def test_subsample_is_seeded_and_bounded():
    frame = pd.DataFrame({"x": np.arange(5000)})
    params = LearnerParams(kind="ridge", max_train_rows=1000)
    rows = subsample(frame, params)
    assert (
        len(rows) == 1000
        and rows.equals(subsample(frame, params))
        and rows["x"].is_monotonic_increasing
    )
    assert len(subsample(frame, params.model_copy(update={"max_train_rows": None}))) == 5000


def test_a_fractional_sample_is_stratified_by_department_and_grows_with_the_data():
    depts = np.repeat([1, 2, 3], [5000, 3000, 2000])
    frame = pd.DataFrame({"dept": depts, "x": np.arange(len(depts))})
    params = LearnerParams(kind="ridge", train_fraction=0.1, max_train_rows=None)
    rows = subsample(frame, params)
    assert rows["dept"].value_counts().to_dict() == {1: 500, 2: 300, 3: 200}  # each dept its share
    assert rows.equals(subsample(frame, params)) and rows["x"].is_monotonic_increasing
    # twice the data, twice the sample; a department's draw does not depend on the others
    double = pd.concat([frame, frame.assign(dept=frame["dept"] + 10)], ignore_index=True)
    assert len(subsample(double, params)) == 2 * len(rows)
    alone = subsample(frame[frame["dept"] == 2].reset_index(drop=True), params)
    np.testing.assert_array_equal(alone["x"], rows.loc[rows["dept"] == 2, "x"])
    # max_train_rows caps the total by lowering the fraction, still per department
    capped = subsample(frame, params.model_copy(update={"max_train_rows": 1000}))
    assert capped["dept"].value_counts().to_dict() == {1: 500, 2: 300, 3: 200}
    capped = subsample(frame, params.model_copy(update={"max_train_rows": 1500}))
    assert capped["dept"].value_counts().to_dict() == {1: 500, 2: 300, 3: 200}
    capped = subsample(
        frame, params.model_copy(update={"train_fraction": 0.5, "max_train_rows": 2000})
    )
    assert capped["dept"].value_counts().to_dict() == {1: 1000, 2: 600, 3: 400}


@pytest.mark.parametrize(
    "sampling", [{"max_train_rows": 1000}, {"train_fraction": 0.2, "max_train_rows": None}]
)
def test_features_are_built_for_the_sampled_rows_only_and_equal_the_full_frames(
    synthetic_panel, sampling
):
    weeks = np.sort(synthetic_panel["date"].unique())
    history = History.from_panel(
        synthetic_panel, pd.Timestamp(weeks[-HORIZON - 1]), observed=OBSERVED
    )
    params = LearnerParams(kind="ridge", **sampling)
    full = training_frame(history, synthetic_panel, FEATURES, HORIZON)
    sampled = learners.learner_training_frame(history, synthetic_panel, FEATURES, HORIZON, params)
    assert 0 < len(sampled) < len(full)
    pd.testing.assert_frame_equal(sampled, subsample(full, params).reset_index(drop=True))
    assert (sampled[feature_columns(FEATURES)].dtypes != np.float64).all()  # float32 features


def _ridge_and_rows(frames, copies: int):
    train, scoring, _ = frames
    model = fit_learner(train, feature_columns(FEATURES), LearnerParams(kind="ridge"))
    repeat = -(-copies // len(scoring))
    return model, pd.concat([scoring] * repeat, ignore_index=True).iloc[:copies]


def test_ridge_predicts_in_chunks_with_the_forecasts_of_one_pass(frames, monkeypatch):
    model, rows = _ridge_and_rows(frames, 5_003)
    chunked = model.predict(rows)
    whole = model.model.predict(rows[model.features].astype(float))  # the pipeline in one pass
    np.testing.assert_array_equal(chunked, whole)
    monkeypatch.setitem(
        learners.REGISTRY,
        "ridge",
        dataclasses.replace(learners.REGISTRY["ridge"], predict_chunk_rows=1_000),
    )
    np.testing.assert_array_equal(model.predict(rows), whole)  # 6 chunks, the last one short


def test_ridge_prediction_memory_does_not_grow_with_the_rows(frames):
    """Ridge's one-hot + imputer + scaler transform is several times its input; predicting
    chunk by chunk keeps the transient memory of predict at one chunk's transform, whatever the
    number of rows (docs/scale.md: at 450 stores it took gigabytes per tuning candidate)."""
    chunk = learners.RIDGE_PREDICT_CHUNK_ROWS
    model, rows = _ridge_and_rows(frames, 4 * chunk)

    def peak_bytes(frame: pd.DataFrame) -> int:
        tracemalloc.start()
        try:
            model.predict(frame)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    one_chunk, four_chunks = peak_bytes(rows.iloc[:chunk]), peak_bytes(rows)
    # one pass over 4 chunks' rows would need about 4x one chunk's transient memory
    assert four_chunks < 1.5 * one_chunk, (one_chunk, four_chunks)
