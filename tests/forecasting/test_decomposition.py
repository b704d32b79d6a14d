"""The statistical model: SVD denoising, centred level, seasonal effect, trend, fallback, tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.calendar import calendar_sensitive
from retail_forecasting.forecasting import decomposition
from retail_forecasting.forecasting.decomposition import DecompositionParams, centred_level, denoise
from retail_forecasting.forecasting.history import History

from .conftest import hand_panel

WEEKS = 104
SEASON = np.sin(2 * np.pi * np.arange(52) / 52) * 300 + np.where(np.arange(52) == 42, 900, 0)


def seasonal(
    level: float, slope: float = 0.0, weeks: int = WEEKS, start: int = 0
) -> dict[int, float]:
    return {w: level + slope * w + SEASON[w % 52] for w in range(start, weeks)}


def future_rows(
    history: History, series: list[tuple[int, int]], steps=range(1, 40)
) -> pd.DataFrame:
    dates = [history.cutoff + pd.Timedelta(weeks=k) for k in steps]
    return pd.DataFrame([{"store": s, "dept": d, "date": t} for s, d in series for t in dates])


def test_denoise_keeps_the_shared_pattern_and_drops_store_noise():
    rng = np.random.default_rng(0)
    shared = {
        (s, 1): {w: (1 + s) * (1000 + SEASON[w % 52]) + rng.normal(0, 50) for w in range(WEEKS)}
        for s in range(1, 7)
    }
    history = History.from_panel(
        hand_panel(shared), pd.Timestamp("2010-02-05") + pd.Timedelta(weeks=WEEKS - 1)
    )
    clean = np.array(
        [[(1 + s) * (1000 + SEASON[w % 52]) for w in range(WEEKS)] for s in range(1, 7)]
    )
    assert np.abs(denoise(history, 1) - clean).mean() < 0.5 * np.abs(history.y - clean).mean()
    np.testing.assert_array_equal(denoise(history, 0), history.y)  # rank 0: untouched
    np.testing.assert_array_equal(denoise(history, 6), history.y)  # no more stores than the rank


def test_denoise_keeps_the_weeks_before_a_series_starts_unknown():
    late = {(1, 1): seasonal(500.0), (2, 1): seasonal(800.0, start=30), (3, 1): seasonal(900.0)}
    history = History.from_panel(
        hand_panel(late), pd.Timestamp("2010-02-05") + pd.Timedelta(weeks=WEEKS - 1)
    )
    z = denoise(history, 1)
    row = history.series.get_loc((2, 1))
    assert np.isnan(z[row, :30]).all() and not np.isnan(z[row, 30:]).any()


def test_centred_level_is_the_yearly_mean_and_stays_inside_the_series():
    z = np.array([[float(w % 52) for w in range(WEEKS)]])
    level = centred_level(z, np.array([0]), 52)
    np.testing.assert_allclose(level, 25.5)  # every 52-week window holds each week once
    short = centred_level(np.array([[np.nan] * 10 + [1.0] * 20]), np.array([10]), 52)
    np.testing.assert_allclose(short[0, 10:], 1.0)  # a series shorter than the window: its mean


def test_a_level_plus_season_series_is_forecast_exactly():
    history = History.from_panel(
        hand_panel({(1, 1): seasonal(1000.0)}),
        pd.Timestamp("2010-02-05") + pd.Timedelta(weeks=WEEKS - 1),
    )
    rows = future_rows(history, [(1, 1)])
    forecast = decomposition.forecast(history, rows, DecompositionParams(svd_rank=0))
    expected = [1000.0 + SEASON[w % 52] for w in range(WEEKS, WEEKS + 39)]
    np.testing.assert_allclose(forecast, expected)


def test_the_trend_setting_extrapolates_a_growing_level():
    history = History.from_panel(
        hand_panel({(1, 1): seasonal(1000.0, slope=5.0)}),
        pd.Timestamp("2010-02-05") + pd.Timedelta(weeks=WEEKS - 1),
    )
    rows = future_rows(history, [(1, 1)])
    truth = np.array([1000.0 + 5.0 * w + SEASON[w % 52] for w in range(WEEKS, WEEKS + 39)])
    flat = decomposition.forecast(history, rows, DecompositionParams(svd_rank=0, trend=0.0))
    trended = decomposition.forecast(history, rows, DecompositionParams(svd_rank=0, trend=1.0))
    assert np.abs(trended - truth).mean() < 0.25 * np.abs(flat - truth).mean()
    assert (flat < truth).all()  # a flat level lags a growing series


def test_rows_without_a_seasonal_source_take_the_fallback_chain():
    panel = hand_panel(
        {(1, 1): seasonal(1000.0), (2, 1): {w: 40.0 for w in range(WEEKS - 20, WEEKS)}}
    )
    history = History.from_panel(panel, pd.Timestamp("2010-02-05") + pd.Timedelta(weeks=WEEKS - 1))
    rows = future_rows(history, [(2, 1), (3, 1), (1, 99)], steps=[1])
    forecast = decomposition.forecast(history, rows, DecompositionParams(svd_rank=0))
    # young series: its level; unseen store of a known dept: the dept's mean level; unknown dept: 0
    level_1 = np.mean([1000.0 + SEASON[w % 52] for w in range(WEEKS - 52, WEEKS)])
    np.testing.assert_allclose(forecast, [40.0, (level_1 + 40.0) / 2, 0.0])


def test_tuning_tries_every_grid_point_and_keeps_the_best(synthetic_panel):
    history = synthetic_panel[synthetic_panel["date"] <= synthetic_panel["date"].unique()[-40]]
    cutoff = pd.Timestamp(history["date"].unique()[-40])
    params = DecompositionParams(search_space={"svd_rank": [3, 0], "max_years": [1, 2]})
    tuning = decomposition.tune(history, cutoff, 39, params)
    assert [(c["svd_rank"], c["max_years"]) for c in tuning["candidates"]] == [
        (3, 1),
        (3, 2),
        (0, 1),
        (0, 2),
    ]
    best = min(tuning["candidates"], key=lambda c: c["wmae"])
    assert tuning["hyperparameters"] == {
        "svd_rank": best["svd_rank"],
        "max_years": best["max_years"],
    }
    with pytest.raises(ValueError):
        params.with_values({"svd_rank": -1})


def test_easter_weeks_take_last_easters_week_as_their_source():
    dates = pd.DatetimeIndex(["2012-04-06", "2012-03-30", "2012-04-20", "2011-04-22", "2012-07-06"])
    back = decomposition.seasonal_lag(dates, 1, 52, easter_window=1)
    sources = dates - pd.to_timedelta(back * 7, unit="D")
    # Good Friday 2012-04-06 <- Good Friday 2011-04-22; the week before <- the week before;
    # 2012-04-20 (plain source 2011-04-22 is Easter 2011) <- 2 weeks after Easter 2011;
    # 2011's Easter week <- Good Friday 2010-04-02; a July week <- 52 weeks back
    assert list(sources.strftime("%Y-%m-%d")) == [
        "2011-04-22",
        "2011-04-15",
        "2011-05-06",
        "2010-04-02",
        "2011-07-08",
    ]
    np.testing.assert_array_equal(decomposition.seasonal_lag(dates, 2, 52, easter_window=-1), 104)


def test_smoothing_leaves_holiday_and_christmas_weeks_alone():
    dates = pd.DatetimeIndex(
        ["2012-02-10", "2012-02-17", "2012-03-09", "2011-12-16", "2012-01-06", "2012-01-13"]
    )
    # Super Bowl week, the week after it, a plain March week, mid-December, early January,
    # mid-January
    assert calendar_sensitive(dates).tolist() == [True, True, False, True, True, False]


def test_refinements_change_the_forecast_only_where_they_apply(synthetic_panel):
    cutoff = pd.Timestamp(np.sort(synthetic_panel["date"].unique())[-40])
    history = History.from_panel(synthetic_panel, cutoff)
    future = synthetic_panel[synthetic_panel["date"] > cutoff]
    plain = decomposition.forecast(history, future, DecompositionParams(svd_rank=2))
    for change in ({"smooth": 0.15}, {"dept_shrink": 0.25}):
        refined = decomposition.forecast(history, future, DecompositionParams(svd_rank=2, **change))
        assert not np.allclose(refined, plain), change
        assert np.isfinite(refined).all()
    easter = decomposition.forecast(
        history, future, DecompositionParams(svd_rank=2, easter_window=1)
    )
    lag = decomposition.seasonal_lag(pd.DatetimeIndex(future["date"]), 1, 52, 1)
    moved = (lag != 52) | (
        decomposition.seasonal_lag(pd.DatetimeIndex(future["date"]), 2, 52, 1) != 104
    )
    assert moved.any() and not moved.all()
    np.testing.assert_allclose(easter[~moved], plain[~moved])


def test_the_christmas_shift_lines_the_days_before_christmas_up_by_date():
    start = pd.Timestamp("2010-02-05")
    spike = (pd.Timestamp("2010-12-24") - start).days // 7  # the week ending Friday 2010-12-24
    panel = hand_panel({(1, 1): {w: 1000.0 if w == spike else 100.0 for w in range(95)}})
    history = History.from_panel(panel, start + pd.Timedelta(weeks=94))
    rows = future_rows(history, [(1, 1)], steps=range(1, 8))  # 2011-12-02 .. 2012-01-13
    plain = decomposition.forecast(history, rows, DecompositionParams(svd_rank=0, max_years=1))
    shifted = decomposition.forecast(
        history, rows, DecompositionParams(svd_rank=0, max_years=1, christmas_shift=True)
    )
    # the week ending 2011-12-23 starts one calendar day earlier in the year than its source
    # (2010-12-24): 1/7 of its effect comes from the week before (no spike there)
    moved = rows["date"].isin(pd.to_datetime(["2011-12-23", "2011-12-30"])).to_numpy()
    np.testing.assert_allclose(
        shifted[moved] - plain[moved], [-(1000.0 - 100.0) / 7, (1000.0 - 100.0) / 7]
    )
    np.testing.assert_allclose(
        shifted[~moved], plain[~moved]
    )  # Dec 2, 9 (outside) and the rest unchanged
