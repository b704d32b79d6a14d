"""ChampionForecaster.update: the history refreshed from newer actuals, the fitted models kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import FeatureParams, feature_columns, training_frame
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.learners import LearnerParams, fit_learner

HORIZON = 39
FEATURES = FeatureParams()
CUT = 8  # weeks held back from the first model


def future_rows(panel: pd.DataFrame, origin: pd.Timestamp, weeks=(1, 2, 13, 39)) -> pd.DataFrame:
    series = panel.loc[panel["date"] == origin, ["store", "dept"]].drop_duplicates()
    return pd.DataFrame(
        [
            {
                "Store": s,
                "Dept": d,
                "Date": f"{origin + pd.Timedelta(weeks=k):%Y-%m-%d}",
                "IsHoliday": "FALSE",
            }
            for s, d in series.itertuples(index=False)
            for k in weeks
        ]
    )


@pytest.fixture(scope="module")
def split(synthetic_panel):
    weeks = np.sort(synthetic_panel["date"].unique())
    cut = pd.Timestamp(weeks[-CUT - 1])
    return synthetic_panel[synthetic_panel["date"] <= cut], synthetic_panel[
        synthetic_panel["date"] > cut
    ]


@pytest.fixture(scope="module")
def ridge(split):
    early, _ = split
    history = History.from_panel(early, early["date"].max(), observed=FEATURES.covariates.observed)
    train = training_frame(history, early, FEATURES, HORIZON)
    return fit_learner(
        train, feature_columns(FEATURES), LearnerParams(kind="ridge"), {"alpha": 1.0}
    )


@pytest.mark.parametrize("family", ["learner", "statistical", "ensemble"])
def test_update_equals_a_model_packaged_at_the_newer_week_with_the_same_fit(
    synthetic_panel, split, ridge, family
):
    early, late = split
    models = {
        "learner": {"ridge": ridge},
        "statistical": {"svd_decomposition": DecompositionParams(svd_rank=5)},
        "ensemble": {"ridge": ridge, "svd_decomposition": DecompositionParams(svd_rank=5)},
    }[family]
    weights = {"ensemble": {"ridge": 0.4, "svd_decomposition": 0.6}}.get(family)
    old = ChampionForecaster.from_panel(early, "m", family, HORIZON, FEATURES, models, weights)
    updated = old.update(late)
    fresh = ChampionForecaster.from_panel(
        synthetic_panel, "m", family, HORIZON, FEATURES, models, weights
    )

    assert updated.origin == synthetic_panel["date"].max() > old.origin
    assert old.origin == early["date"].max()  # the original is untouched
    assert updated.models is old.models or updated.models == old.models  # no refit
    raw = future_rows(synthetic_panel, updated.origin)
    np.testing.assert_allclose(
        updated.forecast(raw)["Weekly_Sales"], fresh.forecast(raw)["Weekly_Sales"]
    )
    np.testing.assert_array_equal(updated.history.y, fresh.history.y)
    # the forecast really moved: the old model cannot forecast past its horizon from its origin
    with pytest.raises(ValueError, match="forecasts the 39 weeks after"):
        old.forecast(future_rows(synthetic_panel, updated.origin, weeks=(39,)))


def _svd_champion(panel: pd.DataFrame) -> ChampionForecaster:
    """The statistical model (SVD rank 5) as the champion, fitted on ``panel``."""
    return ChampionForecaster.from_panel(
        panel,
        "svd",
        "statistical",
        HORIZON,
        FEATURES,
        {"svd_decomposition": DecompositionParams(svd_rank=5)},
    )


def test_update_one_week_at_a_time_matches_one_update(synthetic_panel, split):
    early, late = split
    model = _svd_champion(early)
    stepwise = model
    for week in sorted(late["date"].unique()):
        stepwise = stepwise.update(late[late["date"] == week])
    at_once = model.update(late)
    np.testing.assert_array_equal(stepwise.history.y, at_once.history.y)
    for name, matrix in at_once.history.covariates.items():
        np.testing.assert_array_equal(stepwise.history.covariates[name], matrix)


def test_update_applies_corrections_and_adds_new_stores(synthetic_panel, split):
    early, late = split
    model = _svd_champion(early)
    last = early[early["date"] == early["date"].max()].head(1).assign(weekly_sales=123.0)
    newcomer = late.head(1).assign(store=99, store_type="C", store_size=1234)
    updated = model.update(pd.concat([last, newcomer]))
    row = updated.history.series_index(last)[0]
    assert updated.history.y[row, updated.history.week_index(last["date"])[0]] == 123.0
    assert 99 in set(updated.stores["store"]) and 99 not in set(model.stores["store"])
    with pytest.raises(ValueError, match="missing"):
        model.update(late.drop(columns="weekly_sales"))
    with pytest.raises(ValueError, match="weekly grid"):
        model.update(late.head(1).assign(date=late["date"].iloc[0] + pd.Timedelta(days=1)))


def test_an_interval_model_pickled_before_store_type_factors_still_forecasts():
    """A champion registered before ``IntervalModel.type_ratio`` existed (3d9e8df) unpickles
    without it; the weekly re-forecast of such a registered model must keep working, with the
    intervals it was calibrated with (no store-type factors)."""
    import pickle

    from retail_forecasting.forecasting.intervals import IntervalParams, calibrate

    rng = np.random.default_rng(0)
    steps = rng.integers(1, 14, 2000)
    model = calibrate(
        rng.normal(0, 1, 2000),
        np.ones(2000),
        steps,
        np.zeros(2000, bool),
        IntervalParams(min_bucket_rows=10),
        13,
    )
    point, scale, step = np.full(3, 100.0), np.ones(3), np.array([1, 5, 13])
    expected = model.apply(point, scale, step)  # no store-type factors
    del model.__dict__["type_ratio"]  # the state of an object pickled before the field existed
    restored = pickle.loads(pickle.dumps(model))
    assert restored.type_ratio == {}
    np.testing.assert_allclose(
        restored.apply(point, scale, step, store_type=np.array(["A", "B", "C"])), expected
    )
