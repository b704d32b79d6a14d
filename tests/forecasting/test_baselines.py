"""Each baseline against values worked out by hand on a small panel."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines

from .conftest import hand_panel

START = pd.Timestamp("2010-02-05")
CUTOFF = START + pd.Timedelta(weeks=100)
# (1, 1): 100 + w for weeks 0..119. (2, 1): 10 w from week 60 on, no row in week 64 (no
# sales). (3, 1) and (1, 2) appear only after the cutoff (weeks 101..119).
SERIES = {
    (1, 1): {w: 100 + w for w in range(120)},
    (2, 1): {w: 10 * w for w in range(60, 120) if w != 64},
    (3, 1): {w: 7 for w in range(101, 120)},
    (1, 2): {w: 9 for w in range(101, 120)},
}
PARAMS = BaselineParams(
    moving_average_window=4,
    seasonal_average_years=3,
    fallback_window=52,
    hybrid_weights={"seasonal_naive": 3, "moving_average": 1},
)


@pytest.fixture(scope="module")
def forecasts() -> pd.DataFrame:
    cv = cross_validation(hand_panel(SERIES), make_baselines(PARAMS), 19, [CUTOFF])
    week = (cv["date"] - START).dt.days // 7
    return cv.assign(week=week).set_index(["store", "dept", "week"])


LEVEL_1 = np.mean([100 + w for w in range(49, 101)])  # (1, 1) over weeks 49..100
LEVEL_2 = (sum(10 * w for w in range(60, 101)) - 640) / 41  # (2, 1): weeks 60..100, 64 is 0


def test_naive_is_the_value_at_the_origin(forecasts):
    assert forecasts.loc[(1, 1, 110), "naive"] == 200
    assert forecasts.loc[(2, 1, 101), "naive"] == 1000


def test_seasonal_naive_is_52_weeks_back_with_gaps_as_zero(forecasts):
    assert forecasts.loc[(1, 1, 105), "seasonal_naive"] == 153
    assert forecasts.loc[(2, 1, 112), "seasonal_naive"] == 600
    assert forecasts.loc[(2, 1, 116), "seasonal_naive"] == 0  # week 64: no row, no sales
    # week 58 is before (2, 1) started: the series' 52-week level at the origin
    assert forecasts.loc[(2, 1, 110), "seasonal_naive"] == pytest.approx(LEVEL_2)


def test_moving_average_of_the_last_weeks(forecasts):
    assert forecasts.loc[(1, 1, 119), "moving_average"] == pytest.approx(
        (197 + 198 + 199 + 200) / 4
    )
    assert forecasts.loc[(2, 1, 101), "moving_average"] == pytest.approx(985)


def test_seasonal_average_over_the_years_available(forecasts):
    # week 110: weeks 58 (158) and 6 (106); week 160 - 156 would be before the data
    assert forecasts.loc[(1, 1, 110), "seasonal_average"] == pytest.approx((158 + 106) / 2)
    assert forecasts.loc[(1, 1, 103), "seasonal_average"] == 151  # week -1 does not exist


def test_hybrid_is_the_normalised_blend(forecasts):
    row = forecasts.loc[(1, 1, 105)]
    assert row["hybrid"] == pytest.approx(0.75 * 153 + 0.25 * 198.5)


def test_series_new_after_the_origin_use_the_department_level(forecasts):
    dept_1 = (LEVEL_1 + LEVEL_2) / 2
    for model in ("naive", "seasonal_naive", "moving_average", "seasonal_average", "hybrid"):
        assert forecasts.loc[(3, 1, 105), model] == pytest.approx(dept_1), model
        assert forecasts.loc[(1, 2, 105), model] == 0, model  # a department never seen


def test_holiday_aligned_seasonal_naive_follows_thanksgiving():
    start = pd.Timestamp("2012-01-06")
    weeks = {w: float(w) for w in range(110)}  # value = week index
    panel = hand_panel({(1, 1): weeks}, start=str(start.date()))
    thanksgiving_2013 = pd.Timestamp("2013-11-29")
    target = (thanksgiving_2013 - start).days // 7
    cutoff = start + pd.Timedelta(weeks=target - 3)
    cv = cross_validation(panel, make_baselines(BaselineParams()), 5, [cutoff])
    row = cv[cv["date"] == thanksgiving_2013].iloc[0]
    assert row["holiday_aligned_seasonal_naive"] == target - 53  # Thanksgiving 2012
    assert row["seasonal_naive"] == target - 52
    two_before = cv[cv["date"] == thanksgiving_2013 - pd.Timedelta(weeks=2)].iloc[0]
    assert two_before["holiday_aligned_seasonal_naive"] == target - 2 - 53


def test_unknown_hybrid_component_is_rejected():
    with pytest.raises(ValueError, match="unknown baselines"):
        BaselineParams(hybrid_weights={"prophet": 1.0})
