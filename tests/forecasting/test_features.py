"""Feature values worked out by hand, and the training frame's pseudo-origins."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.features import FeatureParams, forecast_frame, training_frame
from retail_forecasting.forecasting.history import History

from .conftest import hand_panel

START = pd.Timestamp("2010-02-05")
PARAMS = FeatureParams(seasonal_lags=[52], origin_windows=[4], growth_window=4)


@pytest.fixture
def panel():
    return hand_panel(
        {(1, 1): {w: 100.0 + w for w in range(120)}, (2, 1): {w: 5.0 for w in range(80, 120)}}
    )


def test_forecast_features_by_hand(panel):
    cutoff = START + pd.Timedelta(weeks=100)
    history = History.from_panel(panel, cutoff, observed=PARAMS.covariates.observed)
    future = panel[panel["date"] > cutoff]
    frame = forecast_frame(history, future, PARAMS, 19).assign(
        week=lambda f: (f["date"] - START).dt.days // 7
    )
    row = frame[(frame["store"] == 1) & (frame["week"] == 110)].iloc[0]
    assert row["step"] == 10 and row["lag_52"] == 158 and row["last_value"] == 200
    assert row["level_4"] == pytest.approx(198.5)
    assert row["growth"] == pytest.approx(198.5 / 146.5)  # weeks 97..100 vs 45..48
    assert row["lag_52_window"] == pytest.approx(158)  # mean of weeks 57..59
    assert row["age_weeks"] == 100 and row["store_type_code"] == 0
    late = frame[(frame["store"] == 2) & (frame["week"] == 110)].iloc[0]
    assert np.isnan(late["lag_52"]) and late["age_weeks"] == 20 and late["level_4"] == 5


def test_training_rows_use_pseudo_origins_within_the_horizon(panel):
    cutoff = START + pd.Timedelta(weeks=100)
    with pytest.raises(ValueError, match="without the observed covariates"):
        training_frame(History.from_panel(panel, cutoff), panel, PARAMS, 13)
    history = History.from_panel(panel, cutoff, observed=PARAMS.covariates.observed)
    frame = training_frame(history, panel, PARAMS, 13)
    assert frame["date"].max() == cutoff, "no training row after the cutoff"
    assert frame["step"].between(1, 13).all() and frame["step"].nunique() == 13
    week = (frame["date"] - START).dt.days // 7
    series_1 = frame[frame["store"] == 1]
    # series 1 is 100 + week: the last value at the pseudo-origin is 100 + week - step
    np.testing.assert_allclose(
        series_1["last_value"], 100 + week[series_1.index] - series_1["step"]
    )
    np.testing.assert_allclose(
        frame["weekly_sales"], np.where(frame["store"] == 1, 100 + week, 5.0)
    )
