"""Fixtures of the inference tests."""

from __future__ import annotations

import pytest

from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.features import FeatureParams


@pytest.fixture
def seasonal_naive_champion(feat_panel, horizon_weeks) -> ChampionForecaster:
    """A champion that is the seasonal naive baseline, fitted on the whole feature panel."""
    return ChampionForecaster.from_panel(
        feat_panel,
        "seasonal_naive",
        "baseline",
        horizon_weeks,
        FeatureParams(),
        baselines=BaselineParams(),
    )
