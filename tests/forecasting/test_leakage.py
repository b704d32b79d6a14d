"""A forecast never sees the weeks it predicts.

For a cutoff T, rewrite every target after T (and every observed covariate after T): no
feature of the rows to forecast and no forecast of any baseline or learner may change. The
controls show the check has teeth: rewriting targets *before* T does change them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines
from retail_forecasting.forecasting.contract import MARKDOWNS
from retail_forecasting.forecasting.decomposition import DecompositionParams, make_forecaster
from retail_forecasting.forecasting.ensemble import EnsembleParams, fit_weights
from retail_forecasting.forecasting.features import FeatureParams, forecast_frame
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.intervals import (
    IntervalParams,
    apply_frame,
    attach_scales,
    calibrate_frame,
)
from retail_forecasting.forecasting.learners import MODELS, LearnerForecaster, LearnerParams

HORIZON = 39
PARAMS = FeatureParams()
FAMILIES = {
    "calendar": ["week_of_year", "month", "year", "day_of_year", "pre_christmas_days"],
    "holiday_position": [
        "weeks_to_super_bowl",
        "weeks_to_labor_day",
        "weeks_to_thanksgiving",
        "weeks_to_christmas",
    ],
    "statics": ["store", "dept", "store_type_code", "store_size"],
    "known_covariates": ["is_holiday", *MARKDOWNS, "markdown_total"],
    "seasonal_lags": ["lag_52", "lag_104", "lag_aligned", "lag_52_window", "seasonal_mean"],
    "decomposition": ["seasonal_effect_52", "seasonal_effect_104", "decomposition_base"],
    "origin_levels": [
        "step",
        "last_value",
        "level_4",
        "level_13",
        "level_52",
        "growth",
        "age_weeks",
    ],
    "observed_covariates": [
        "temperature_at_origin",
        "fuel_price_at_origin",
        "cpi_at_origin",
        "unemployment_at_origin",
    ],
}
OBSERVED = ["temperature", "fuel_price", "cpi", "unemployment"]


def cutoff_of(panel: pd.DataFrame, horizon: int = HORIZON) -> pd.Timestamp:
    weeks = np.sort(panel["date"].unique())
    return pd.Timestamp(weeks[-horizon - 1])


def tamper(
    panel: pd.DataFrame, after: pd.Timestamp | None = None, before: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Rewrite targets and observed covariates after (or before) a date; drop some rows too."""
    rng = np.random.default_rng(0)
    changed = panel.copy()
    mask = changed["date"] > after if after is not None else changed["date"] <= before
    changed.loc[mask, "weekly_sales"] = rng.normal(1e6, 1e5, mask.sum())
    if after is not None:
        changed.loc[mask, OBSERVED] = rng.normal(0, 1, (mask.sum(), len(OBSERVED)))
        return changed
    return changed


@pytest.mark.parametrize("horizon", [1, HORIZON, 52])
def test_every_feature_family_ignores_the_future(synthetic_panel, horizon):
    cutoff = cutoff_of(synthetic_panel, horizon)
    future = synthetic_panel[synthetic_panel["date"] > cutoff]

    def features(panel):
        history = History.from_panel(panel, cutoff, observed=OBSERVED)
        return forecast_frame(history, panel.loc[future.index], PARAMS, horizon)

    clean = features(synthetic_panel)
    assert set().union(*FAMILIES.values()) == set(clean.columns) - {"date"}
    leaked = features(tamper(synthetic_panel, after=cutoff))
    for family, columns in FAMILIES.items():
        pd.testing.assert_frame_equal(leaked[columns], clean[columns], obj=family)
    # control: the target-based families do react to the past
    past = features(tamper(synthetic_panel, before=cutoff))
    for family in ("seasonal_lags", "decomposition", "origin_levels"):
        assert not past[FAMILIES[family]].equals(clean[FAMILIES[family]]), family


# every learner of the zoo, with tiny hyperparameters for speed
TINY = {
    "ridge": LearnerParams(kind="ridge"),
    "lightgbm": LearnerParams(
        kind="lightgbm", rounds=20, threads=1, hyperparameters={"num_leaves": 15}
    ),
    "catboost": LearnerParams(kind="catboost", rounds=20, threads=1, hyperparameters={"depth": 4}),
    "xgboost": LearnerParams(
        kind="xgboost", rounds=20, threads=1, hyperparameters={"max_depth": 4}
    ),
}
assert set(TINY) == set(MODELS)


class Ensemble:
    """The ensemble as a forecaster: weights fit on the members' forecasts of an earlier window
    (an inner backtest whose targets are all at or before the cutoff), applied to their
    forecasts from the cutoff."""

    def __init__(self, panel: pd.DataFrame) -> None:
        self.panel = panel

    def __call__(self, history: History, future: pd.DataFrame) -> np.ndarray:
        inner_cutoff = history.cutoff - pd.Timedelta(weeks=HORIZON)
        seen = self.panel[self.panel["date"] <= history.cutoff]
        members = {
            m: LearnerForecaster(PARAMS, p, HORIZON).with_panel(seen) for m, p in TINY.items()
        }
        inner = cross_validation(seen, members, HORIZON, [inner_cutoff], observed=OBSERVED)
        weights = fit_weights(inner, list(TINY), EnsembleParams())
        forecasts = {m: f.with_panel(self.panel)(history, future) for m, f in members.items()}
        return sum(weights[m] * forecasts[m] for m in TINY)


def forecasters(panel: pd.DataFrame) -> dict:
    learners = {
        name: LearnerForecaster(PARAMS, params, HORIZON).with_panel(panel)
        for name, params in TINY.items()
    }
    statistical = {"svd_decomposition": make_forecaster(DecompositionParams(svd_rank=2, trend=1.0))}
    return {
        **make_baselines(BaselineParams()),
        **statistical,
        **learners,
        "ensemble": Ensemble(panel),
    }


def test_no_baseline_or_learner_forecast_changes_with_the_future(synthetic_panel):
    cutoff = cutoff_of(synthetic_panel)
    clean = cross_validation(
        synthetic_panel, forecasters(synthetic_panel), HORIZON, [cutoff], observed=OBSERVED
    )
    tampered = tamper(synthetic_panel, after=cutoff)
    leaked = cross_validation(tampered, forecasters(tampered), HORIZON, [cutoff], observed=OBSERVED)
    models = [*make_baselines(BaselineParams()), "svd_decomposition", *MODELS, "ensemble"]
    assert len(models) == 12
    for model in models:
        pd.testing.assert_series_equal(leaked[model], clean[model], obj=model)
    assert not leaked["actual"].equals(clean["actual"]), "the tampering did change the future"

    past = tamper(synthetic_panel, before=cutoff)
    moved = cross_validation(past, forecasters(past), HORIZON, [cutoff], observed=OBSERVED)
    for model in models:
        assert not np.allclose(moved[model], clean[model]), f"{model} ignores its history"


def test_a_lag_shorter_than_the_horizon_is_refused(synthetic_panel):
    cutoff = cutoff_of(synthetic_panel)
    history = History.from_panel(synthetic_panel, cutoff)
    future = synthetic_panel[synthetic_panel["date"] > cutoff]
    with pytest.raises(ValueError, match="leakage"):
        forecast_frame(history, future, FeatureParams(seasonal_lags=[26, 52]), HORIZON)
    with pytest.raises(ValueError, match="leakage"):
        forecast_frame(history, future, PARAMS, 53)  # lag_52 is 52 weeks back


def test_at_a_52_week_horizon_the_window_around_lag_52_is_cut_to_lookups_of_52_weeks_or_more(
    synthetic_panel,
):
    cutoff = cutoff_of(synthetic_panel, 52)
    history = History.from_panel(synthetic_panel, cutoff, observed=OBSERVED)
    future = synthetic_panel[synthetic_panel["date"] > cutoff]
    assert PARAMS.window_reach(39) == (51, 3) and PARAMS.window_reach(52) == (52, 2)
    frame = forecast_frame(history, future, PARAMS, 52)
    series, week = history.series_index(future), history.week_index(future["date"])
    expected = np.nanmean(
        np.vstack([history.value_at(series, week - 52), history.value_at(series, week - 53)]),
        axis=0,
    )
    known = ~np.isnan(expected)
    assert known.sum() > len(future) / 2
    np.testing.assert_allclose(frame["lag_52_window"].to_numpy()[known], expected[known])


def test_interval_columns_ignore_the_future(synthetic_panel):
    """The quantile forecasts past a cutoff (forecasting/intervals.py) read nothing after it: the
    scale and floor of each series come from the History at the cutoff, the calibration from
    backtest windows that end at or before it; rewriting the past does move them."""
    cutoff = cutoff_of(synthetic_panel)
    params = IntervalParams(min_bucket_rows=20)
    forecaster = {"seasonal_naive": make_baselines(BaselineParams())["seasonal_naive"]}

    def quantiles(panel: pd.DataFrame) -> pd.DataFrame:
        seen = panel[panel["date"] <= cutoff]
        inner = [
            cutoff - pd.Timedelta(weeks=HORIZON + k) for k in (12, 6, 0)
        ]  # windows ending by the cutoff
        backtest = attach_scales(seen, cross_validation(seen, forecaster, HORIZON, inner), params)
        model = calibrate_frame(backtest, "seasonal_naive", params, HORIZON)
        test = attach_scales(panel, cross_validation(panel, forecaster, HORIZON, [cutoff]), params)
        return apply_frame(model, test, "seasonal_naive")

    clean = quantiles(synthetic_panel)
    assert list(clean.columns) == ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
    pd.testing.assert_frame_equal(quantiles(tamper(synthetic_panel, after=cutoff)), clean)
    assert not np.allclose(quantiles(tamper(synthetic_panel, before=cutoff)), clean)
