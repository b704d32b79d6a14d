"""The learners' per-department work on Spark (local[2]) gives the single-process results on
synthetic data: the training sample (drawn and featurised by department with applyInPandas,
collected for the fit in the driver) is the same rows with the same features, bit for bit; the
forecasts (the fitted model shipped to each department, features built there) equal the
single-process ones within 1e-9 relative. Tolerance: a tree model's forecast of a row is a sum
over its trees in a fixed order, the same in any batch of rows; ridge's is a dot product, which
BLAS may sum in another order for a batch of another size (a few ULP)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting import partitioned
from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.features import (
    FeatureParams,
    feature_columns,
    forecast_frame,
    make_features,
    origin_before,
    training_frame,
)
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.learners import (
    LearnerForecaster,
    LearnerParams,
    fit_learner,
    learner_training_frame,
    predict_frame,
    subsample,
    tune,
)
from retail_forecasting.spark.engine import SparkLearners, department_history
from retail_forecasting.spark.hooks import SparkHooks

HORIZON = 39
RTOL = 1e-9
FEATURES = FeatureParams()
OBSERVED = FEATURES.covariates.observed
KINDS = ("ridge", "lightgbm", "catboost", "xgboost")


def params(kind: str, **changes) -> LearnerParams:
    settings = {
        "kind": kind,
        "rounds": 25,
        "train_fraction": 0.25,
        "max_train_rows": None,
        "seed": 42,
        "target": "sales" if kind == "ridge" else "residual",
        **changes,
    }
    return LearnerParams(**settings)


class Spy:
    """The Spark engine, counting what it is asked to do."""

    def __init__(self, spark) -> None:
        self.engine = SparkLearners(spark)
        self.calls: list[str] = []

    def training_frame(self, *args):
        self.calls.append("sample")
        return self.engine.training_frame(*args)

    def scorer(self, *args):
        score = self.engine.scorer(*args)

        def counted(model):
            self.calls.append("score")
            return score(model)

        return counted

    def predict(self, *args):
        self.calls.append("predict")
        return self.engine.predict(*args)


@pytest.fixture
def on_spark(spark):
    spy = Spy(spark)
    previous = partitioned.use_learners(spy)
    yield spy
    partitioned.use_learners(previous)


def history_at(panel: pd.DataFrame, cutoff: pd.Timestamp) -> History:
    return History.from_panel(panel, cutoff, observed=OBSERVED, start=panel["date"].min())


def late_department(panel: pd.DataFrame, cutoffs) -> pd.DataFrame:
    """The panel with one department's rows up to the second cutoff removed: at the first two
    cutoffs it has rows to forecast and no history (every one of its series unseen)."""
    dept = sorted(panel["dept"].unique())[3]
    drop = (panel["dept"] == dept) & (panel["date"] <= cutoffs[1])
    return panel.loc[~drop].reset_index(drop=True)


@pytest.mark.parametrize(
    ("changes", "features"),
    [
        ({}, FEATURES),
        # the cap lowers every department's fraction by the whole sample's count
        ({"train_fraction": 0.5, "max_train_rows": 1000}, FEATURES),
        # two pseudo-origins per row: the sample keeps the single-process order of the passes
        ({"train_fraction": 0.3}, FeatureParams(steps_per_row=2)),
    ],
)
def test_the_training_sample_is_the_same_rows_and_features(
    on_spark, panel, cutoffs, changes, features
):
    learner = params("lightgbm", **changes)
    history = history_at(panel, cutoffs[-1])
    got = learner_training_frame(history, panel, features, HORIZON, learner)
    partitioned.use_learners(None)
    single = learner_training_frame(history, panel, features, HORIZON, learner)
    partitioned.use_learners(on_spark)
    full = training_frame(history, panel, features, HORIZON)
    assert on_spark.calls == ["sample"]
    pd.testing.assert_frame_equal(got, single, check_exact=True)
    # the single-process sample is the full frame's sample: features only for those rows
    pd.testing.assert_frame_equal(
        single, subsample(full, learner).reset_index(drop=True), check_exact=True
    )
    assert 0 < len(got) < len(full)


def test_a_sample_drawn_at_random_over_all_departments_stays_in_the_driver(
    on_spark, panel, cutoffs
):
    learner = params("ridge", train_fraction=None, max_train_rows=1000)
    history = history_at(panel, cutoffs[-1])
    frame = learner_training_frame(history, panel, FEATURES, HORIZON, learner)
    assert on_spark.calls == [] and len(frame) == 1000


def test_the_backtest_forecasts_are_the_single_process_ones(on_spark, panel, cutoffs):
    data = late_department(panel, cutoffs)

    def backtest():
        learners = {
            kind: LearnerForecaster(FEATURES, params(kind), HORIZON).with_panel(data)
            for kind in KINDS
        }
        return cross_validation(data, learners, HORIZON, cutoffs, observed=OBSERVED)

    on_spark_cv = backtest()
    assert on_spark.calls.count("sample") == on_spark.calls.count("score") == 3 * len(KINDS)
    partitioned.use_learners(None)
    single = backtest()
    partitioned.use_learners(on_spark)
    keys = [c for c in single.columns if c not in KINDS]
    pd.testing.assert_frame_equal(on_spark_cv[keys], single[keys], check_exact=True)
    for kind in KINDS:
        np.testing.assert_allclose(on_spark_cv[kind], single[kind], rtol=RTOL, err_msg=kind)
    # the late department was forecast from the first cutoff, without any history of its own
    late = sorted(panel["dept"].unique())[3]
    assert (single.loc[single["cutoff"] == cutoffs[0], "dept"] == late).any()


def test_tuning_chooses_the_same_candidate_with_the_same_scores(on_spark, panel, cutoffs):
    learner = params(
        "lightgbm", search_space={"num_leaves": [7, 31], "learning_rate": [0.1]}, rounds=40
    )
    on_spark_tuning = tune(panel, cutoffs[-1], HORIZON, FEATURES, learner)
    assert on_spark.calls == ["sample", "score", "score"]
    partitioned.use_learners(None)
    single = tune(panel, cutoffs[-1], HORIZON, FEATURES, learner)
    partitioned.use_learners(on_spark)
    for key in ("hyperparameters", "rounds", "cutoff"):
        assert on_spark_tuning[key] == single[key]
    np.testing.assert_allclose(
        [c["wmae"] for c in on_spark_tuning["candidates"]],
        [c["wmae"] for c in single["candidates"]],
        rtol=RTOL,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_test_window_forecast_is_the_single_process_one(on_spark, panel, kind):
    data = panel.assign(
        split=np.where(
            panel["date"] > panel["date"].max() - pd.Timedelta(weeks=HORIZON), "test", "train"
        )
    )
    cutoff = origin_before(data, "test")
    history = history_at(data, cutoff)
    learner = params(kind)
    partitioned.use_learners(None)
    rows = learner_training_frame(history, data, FEATURES, HORIZON, learner)
    model = fit_learner(rows, feature_columns(FEATURES), learner)
    frame = forecast_frame(history, data[data["split"] == "test"], FEATURES, HORIZON)
    single = model.predict(frame)
    partitioned.use_learners(on_spark)
    got = predict_frame(model, frame)
    assert on_spark.calls == ["predict"]
    assert got.dtype == single.dtype
    np.testing.assert_allclose(got, single, rtol=RTOL)


def test_a_department_needs_the_whole_panels_covariates(panel, cutoffs):
    """Why each department's history carries the whole panel's observed covariates: a store's
    covariate at a week its series in a department has no row (a gap, or before the series
    started) is read from the store's other departments. With each department's rows alone the
    features differ on this panel; with the panel's covariates they are the same, bit for bit."""
    cutoff = cutoffs[-1]
    whole = history_at(panel, cutoff)
    past = panel[panel["date"] <= cutoff].reset_index(drop=True)
    week = whole.week_index(past["date"])
    rows, origin = past[week >= 1], week[week >= 1] - 1  # every row, its origin a week before
    expected = make_features(whole, rows, origin, FEATURES, HORIZON)
    alone, shipped = [], []
    for dept in sorted(past["dept"].unique()):
        mine = (rows["dept"] == dept).to_numpy()
        department = past[past["dept"] == dept]
        own = History.from_panel(department, cutoff, observed=OBSERVED, start=whole.start)
        alone.append(make_features(own, rows[mine], origin[mine], FEATURES, HORIZON))
        given = department_history(department, cutoff, whole.start, whole.stores, whole.covariates)
        shipped.append(make_features(given, rows[mine], origin[mine], FEATURES, HORIZON))
    pd.testing.assert_frame_equal(
        pd.concat(shipped).loc[expected.index], expected, check_exact=True
    )
    assert not pd.concat(alone).loc[expected.index].equals(expected)


def test_the_spark_hook_registers_the_learners_engine_for_the_run_only(spark):
    hooks = SparkHooks()
    context = SimpleNamespace(
        config_loader={"spark": {"spark.master": "local[2]"}}, project_path=Path("project")
    )
    before = partitioned.runner(), partitioned.learners()
    hooks.after_context_created(context)
    try:
        assert isinstance(partitioned.learners(), SparkLearners)
        assert partitioned.runner() is not None
    finally:
        hooks.after_pipeline_run()
    assert (partitioned.runner(), partitioned.learners()) == before
    SparkHooks().after_context_created(SimpleNamespace(config_loader={}, project_path=Path("p")))
    assert partitioned.learners() is None  # no Spark settings: nothing registered


def test_the_panel_is_handed_to_spark_once_per_panel_object(spark, panel, cutoffs):
    engine = SparkLearners(spark)
    first, local = engine.panel_frame(panel)
    assert local is None  # no registered panel: `_row` is the position in `panel`
    assert engine.panel_frame(panel)[0] is first  # a node's calls share it
    other = panel.copy()
    assert engine.panel_frame(other)[0] is not first  # another panel: handed over again
    assert engine.panel_frame(other)[0].count() == len(panel)


def test_the_scorer_refuses_rows_that_are_not_the_panels(spark, panel, cutoffs):
    cutoff = cutoffs[-1]
    history = history_at(panel, cutoff)
    window = panel[panel["date"] > cutoff]
    shifted = window.assign(date=window["date"] + pd.Timedelta(weeks=1))
    with pytest.raises(ValueError, match="not rows of the panel"):
        SparkLearners(spark).scorer(history, panel, shifted, FEATURES, HORIZON)


def test_the_cached_panel_is_released_after_each_node(spark, panel):
    hooks = SparkHooks()
    context = SimpleNamespace(
        config_loader={"spark": {"spark.master": "local[2]"}}, project_path=Path("project")
    )
    hooks.after_context_created(context)
    try:
        engine = partitioned.learners()
        frame, _ = engine.panel_frame(panel)
        frame.count()
        assert frame.storageLevel.useMemory or frame.storageLevel.useDisk  # cached
        hooks.after_node_run()
        assert not (frame.storageLevel.useMemory or frame.storageLevel.useDisk)  # released
        assert engine.panel_frame(panel)[0] is not frame  # the next node hands its panel again
    finally:
        hooks.after_pipeline_run()
