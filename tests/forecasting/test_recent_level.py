"""The statistical model's recent-level correction (forecasting.recent_level, issue #11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.calendar import calendar_sensitive
from retail_forecasting.forecasting import decomposition, recent_level
from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.decomposition import DecompositionParams, make_forecaster
from retail_forecasting.forecasting.history import History

from .conftest import hand_panel

WEEKS = 104
START = pd.Timestamp("2010-02-05")
CUTOFF = START + pd.Timedelta(weeks=WEEKS - 1)
SEASON = np.sin(2 * np.pi * np.arange(52) / 52) * 300


def rows(history: History, series: list[tuple[int, int]], steps=range(1, 14)) -> pd.DataFrame:
    dates = [history.cutoff + pd.Timedelta(weeks=k) for k in steps]
    return pd.DataFrame([{"store": s, "dept": d, "date": t} for s, d in series for t in dates])


def zero(frame: pd.DataFrame) -> np.ndarray:
    """A base forecast of 0 everywhere: the correction is then the recent mean itself."""
    return np.zeros(len(frame))


def corrected(history: History, future: pd.DataFrame, base=zero, weeks=26, alpha=0.1):
    return recent_level.corrected(history, future, base, weeks, alpha, 0.95, 52)


def test_a_steady_miss_is_added_in_full_at_step_one_then_damped():
    history = History.from_panel(hand_panel({(1, 1): dict.fromkeys(range(WEEKS), 10.0)}), CUTOFF)
    future = rows(history, [(1, 1)])
    np.testing.assert_allclose(corrected(history, future), 10.0 * 0.95 ** np.arange(13))


def test_off_is_the_base_forecast_and_the_base_is_called_once():
    history = History.from_panel(hand_panel({(1, 1): dict.fromkeys(range(WEEKS), 10.0)}), CUTOFF)
    future = rows(history, [(1, 1)])
    calls = []

    def base(frame: pd.DataFrame) -> np.ndarray:
        calls.append(len(frame))
        return np.full(len(frame), 3.0)

    np.testing.assert_array_equal(corrected(history, future, base, weeks=0), 3.0)
    corrected(history, future, base)
    assert calls == [13, 13 + 26]  # off: the future only; on: future and recent weeks together


def test_recent_weeks_count_exponentially_more():
    values = dict.fromkeys(range(WEEKS), 0.0) | {WEEKS - 1: 100.0}  # only the last week missed
    history = History.from_panel(hand_panel({(1, 1): values}), CUTOFF)
    weeks = recent_level.recent_weeks(history, 26)
    dates = pd.DatetimeIndex([START + pd.Timedelta(weeks=int(w)) for w in weeks])
    weight = 0.9 ** np.arange(25, -1, -1) * ~calendar_sensitive(dates)
    assert weight[-1] == 1.0  # the last week (late January) is no holiday week
    step_one = corrected(history, rows(history, [(1, 1)], steps=[1]))
    np.testing.assert_allclose(step_one, 100.0 / weight.sum())


def test_holiday_weeks_and_weeks_without_a_seasonal_source_do_not_count():
    history_dates = pd.DatetimeIndex([START + pd.Timedelta(weeks=w) for w in range(WEEKS)])
    sensitive = calendar_sensitive(history_dates)
    spiky = {w: 5000.0 if sensitive[w] else 10.0 for w in range(WEEKS)}
    young = {w: 10.0 for w in range(WEEKS - 40, WEEKS)}  # no week of it has a source 52 back
    history = History.from_panel(hand_panel({(1, 1): spiky, (2, 1): young}), CUTOFF)
    assert sensitive[WEEKS - 26 :].any()  # the holiday weeks are inside the recent window
    out = corrected(history, rows(history, [(1, 1), (2, 1), (3, 7)], steps=[1]))
    np.testing.assert_allclose(out, [10.0, 0.0, 0.0])  # an unseen series: no correction either


def test_the_statistical_model_follows_a_recent_level_move():
    """A level + season series that steps up by 200 for its last 26 weeks: the year-long level
    is 100 short; with the correction the first step is within a few units of the truth."""
    shift = {w: 200.0 if w >= WEEKS - 26 else 0.0 for w in range(WEEKS)}
    values = {w: 1000.0 + SEASON[w % 52] + shift[w] for w in range(WEEKS)}
    history = History.from_panel(hand_panel({(1, 1): values}), CUTOFF)
    future = rows(history, [(1, 1)])
    truth = np.array([1200.0 + SEASON[w % 52] for w in range(WEEKS, WEEKS + 13)])
    plain = decomposition.forecast(history, future, DecompositionParams(svd_rank=0))
    recent = decomposition.forecast(
        history, future, DecompositionParams(svd_rank=0, recent_weeks=26)
    )
    assert np.abs(plain - truth)[0] > 50
    assert np.abs(recent - truth)[0] < 0.2 * np.abs(plain - truth)[0]
    assert (np.abs(recent - truth) < np.abs(plain - truth)).all()


@pytest.mark.parametrize("rewrite_before", [False, True])
def test_no_leakage_from_the_weeks_it_forecasts(synthetic_panel, rewrite_before):
    """Rewriting every target after the cutoff leaves the forecast alone; the control (rewriting
    the weeks before it) changes it, so the check has teeth."""
    weeks = np.sort(synthetic_panel["date"].unique())
    cutoff = pd.Timestamp(weeks[-14])
    model = {"svd": make_forecaster(DecompositionParams(svd_rank=2, recent_weeks=26))}
    before = cross_validation(synthetic_panel, model, 13, [cutoff])
    changed = synthetic_panel.copy()
    rewrite = (changed["date"] <= cutoff) & (changed["date"] > cutoff - pd.Timedelta(weeks=8))
    rewrite = rewrite if rewrite_before else changed["date"] > cutoff
    changed.loc[rewrite, "weekly_sales"] *= 3.0
    after = cross_validation(changed, model, 13, [cutoff])
    moved = not np.allclose(before["svd"], after["svd"])
    assert moved == rewrite_before
