"""The packaged champion forecasts raw Kaggle-shaped rows with the engine's feature path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting import decomposition
from retail_forecasting.forecasting.champion import ChampionForecaster, tidy_rows
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import (
    FeatureParams,
    feature_columns,
    forecast_frame,
    training_frame,
)
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.learners import LearnerParams, fit_learner

HORIZON = 39
FEATURES = FeatureParams()


@pytest.fixture(scope="module")
def fitted(synthetic_panel):
    history = History.from_panel(
        synthetic_panel, synthetic_panel["date"].max(), observed=FEATURES.covariates.observed
    )
    train = training_frame(history, synthetic_panel, FEATURES, HORIZON)
    return {
        alpha: fit_learner(
            train, feature_columns(FEATURES), LearnerParams(kind="ridge"), {"alpha": alpha}
        )
        for alpha in (1.0, 1000.0)
    }


def raw_rows(panel: pd.DataFrame, weeks=(1, 5, 39)) -> pd.DataFrame:
    last = panel["date"].max()
    series = panel[["store", "dept"]].drop_duplicates().head(4)
    return pd.DataFrame(
        [
            {
                "Store": s,
                "Dept": d,
                "Date": f"{last + pd.Timedelta(weeks=k):%Y-%m-%d}",
                "IsHoliday": "FALSE",
            }
            for s, d in series.itertuples(index=False)
            for k in weeks
        ]
    )


def test_a_learner_champion_matches_the_engine(synthetic_panel, fitted):
    model = fitted[1.0]
    champion = ChampionForecaster.from_panel(
        synthetic_panel, "ridge", "learner", HORIZON, FEATURES, {"ridge": model}
    )
    raw = raw_rows(synthetic_panel)
    out = champion.forecast(raw)
    assert list(out.columns) == ["Store", "Dept", "Date", "Weekly_Sales"] and len(out) == len(raw)
    rows = tidy_rows(raw).merge(
        synthetic_panel.drop_duplicates("store")[["store", "store_type", "store_size"]],
        on="store",
        how="left",
    )
    expected = model.predict(forecast_frame(champion.history, rows, FEATURES, HORIZON))
    np.testing.assert_allclose(out["Weekly_Sales"], expected)


def test_an_ensemble_champion_is_the_weighted_sum(synthetic_panel, fitted):
    models = {"a": fitted[1.0], "b": fitted[1000.0]}
    raw = raw_rows(synthetic_panel)
    parts = {
        m: ChampionForecaster.from_panel(
            synthetic_panel, m, "learner", HORIZON, FEATURES, {m: f}
        ).forecast(raw)
        for m, f in models.items()
    }
    ensemble = ChampionForecaster.from_panel(
        synthetic_panel,
        "ensemble",
        "ensemble",
        HORIZON,
        FEATURES,
        models,
        weights={"a": 0.25, "b": 0.75},
    ).forecast(raw)
    np.testing.assert_allclose(
        ensemble["Weekly_Sales"],
        0.25 * parts["a"]["Weekly_Sales"] + 0.75 * parts["b"]["Weekly_Sales"],
    )


def test_a_statistical_member_reads_the_history(synthetic_panel, fitted):
    settings = DecompositionParams(svd_rank=2)
    raw = raw_rows(synthetic_panel)
    alone = ChampionForecaster.from_panel(
        synthetic_panel,
        "svd_decomposition",
        "statistical",
        HORIZON,
        FEATURES,
        {"svd_decomposition": settings},
    )
    out = alone.forecast(raw)
    np.testing.assert_allclose(
        out["Weekly_Sales"], decomposition.forecast(alone.history, tidy_rows(raw), settings)
    )
    mixed = ChampionForecaster.from_panel(
        synthetic_panel,
        "ensemble",
        "ensemble",
        HORIZON,
        FEATURES,
        {"svd_decomposition": settings, "ridge": fitted[1.0]},
        weights={"svd_decomposition": 0.6, "ridge": 0.4},
    ).forecast(raw)
    ridge = ChampionForecaster.from_panel(
        synthetic_panel, "ridge", "learner", HORIZON, FEATURES, {"ridge": fitted[1.0]}
    ).forecast(raw)
    np.testing.assert_allclose(
        mixed["Weekly_Sales"], 0.6 * out["Weekly_Sales"] + 0.4 * ridge["Weekly_Sales"]
    )


def test_weeks_outside_the_horizon_and_bad_input_are_refused(synthetic_panel, fitted):
    champion = ChampionForecaster.from_panel(
        synthetic_panel, "ridge", "learner", HORIZON, FEATURES, {"ridge": fitted[1.0]}
    )
    with pytest.raises(ValueError, match="forecasts the 39 weeks after"):
        champion.forecast(raw_rows(synthetic_panel, weeks=(40,)))
    with pytest.raises(ValueError, match="forecasts the 39 weeks after"):
        champion.forecast(raw_rows(synthetic_panel, weeks=(0,)))
    with pytest.raises(ValueError, match="lacks column"):
        champion.forecast(raw_rows(synthetic_panel).drop(columns="IsHoliday"))
    with pytest.raises(ValueError, match="no fitted model"):
        ChampionForecaster.from_panel(synthetic_panel, "ridge", "learner", HORIZON, FEATURES)


def test_with_an_interval_model_the_pyfunc_returns_non_crossing_quantile_columns(synthetic_panel):
    from retail_forecasting.forecasting.intervals import IntervalParams, calibrate
    from retail_forecasting.model_registry import ChampionPyfunc

    params = IntervalParams(min_bucket_rows=10)
    rng = np.random.default_rng(0)
    n = 5000  # residuals of a model whose errors double over the horizon, in scale units
    steps = rng.integers(1, HORIZON + 1, n)
    intervals = calibrate(
        rng.normal(0, 1, n) * (1 + steps / HORIZON),
        np.ones(n),
        steps,
        np.zeros(n, bool),
        params,
        HORIZON,
    )
    champion = ChampionForecaster.from_panel(
        synthetic_panel,
        "svd_decomposition",
        "statistical",
        HORIZON,
        FEATURES,
        {"svd_decomposition": DecompositionParams()},
    )
    raw = raw_rows(synthetic_panel, weeks=(1, 20, 39))
    point = ChampionPyfunc(champion).predict(None, raw)
    champion.intervals = intervals
    out = ChampionPyfunc(champion).predict(None, raw)
    columns = [
        "Weekly_Sales_q0.025",
        "Weekly_Sales_q0.1",
        "Weekly_Sales_q0.5",
        "Weekly_Sales_q0.9",
        "Weekly_Sales_q0.975",
    ]
    assert (
        list(out.columns)
        == ["Store", "Dept", "Date", "Weekly_Sales", *columns]
        == [*point.columns, *champion.quantile_columns()]
    )
    pd.testing.assert_frame_equal(out[point.columns], point)  # the point forecast is unchanged
    values = out[columns].to_numpy()
    assert np.isfinite(values).all() and (np.diff(values, axis=1) >= 0).all()
    floor = np.minimum(0, synthetic_panel["weekly_sales"].min())
    assert (values >= floor).all()
    assert (out["Weekly_Sales"] > 0).all()
    assert (values[:, 0] < out["Weekly_Sales"]).all() and (
        values[:, -1] > out["Weekly_Sales"]
    ).all()
    width = (out["Weekly_Sales_q0.975"] - out["Weekly_Sales_q0.025"]).to_numpy().reshape(-1, 3)
    assert (width[:, 2] > width[:, 0]).all()  # wider at step 39 than at step 1, series by series
