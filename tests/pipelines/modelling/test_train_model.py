"""The final fit of a learner (``train_model``): its sample of train + validation, with features
built for the sampled rows only, is the sample of the whole training frame (issue #17)."""

import numpy as np
import pytest

from retail_forecasting.forecasting import features as feature_module
from retail_forecasting.forecasting.features import (
    FeatureParams,
    feature_columns,
    forecast_frame,
    origin_before,
    training_frame,
)
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.learners import LearnerParams, fit_learner, subsample
from retail_forecasting.pipelines.modelling.nodes import train_model


@pytest.mark.parametrize(
    "model",
    [
        LearnerParams(kind="ridge", train_fraction=0.3, max_train_rows=None, seed=3),
        LearnerParams(
            kind="lightgbm",
            rounds=20,
            threads=1,
            train_fraction=0.5,
            max_train_rows=None,
            hyperparameters={"num_leaves": 7, "min_data_in_leaf": 5},
        ),
    ],
    ids=lambda m: m.kind,
)
def test_the_final_fit_trains_on_the_sample_of_the_whole_training_frame(
    feat_panel, horizon_weeks, model, monkeypatch
):
    features = FeatureParams()
    tuning = {"hyperparameters": {}, "rounds": model.rounds}
    built = []  # rows each make_features call built features for

    def counted(history, rows, *args, **kwargs):
        built.append(len(rows))
        return make_features(history, rows, *args, **kwargs)

    make_features = feature_module.make_features
    monkeypatch.setattr(feature_module, "make_features", counted)
    fitted = train_model(feat_panel, horizon_weeks, features, model, tuning)
    monkeypatch.undo()

    # the former path: features for every training row, then the sample
    cutoff = origin_before(feat_panel, "test")
    history = History.from_panel(feat_panel, cutoff, observed=features.covariates.observed)
    whole = training_frame(history, feat_panel, features, horizon_weeks)
    rows = subsample(whole, model)
    assert 0 < len(rows) < len(whole)
    assert built == [len(rows)]  # features for the sampled rows only
    expected = fit_learner(
        rows, feature_columns(features), model, tuning["hyperparameters"], tuning["rounds"]
    )
    test = forecast_frame(
        history, feat_panel[feat_panel["split"] == "test"], features, horizon_weeks
    )
    np.testing.assert_array_equal(fitted.predict(test), expected.predict(test))
