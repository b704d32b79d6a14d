"""The history matrix: missing-week policy, and nothing past the cutoff."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.history import History

from .conftest import hand_panel

START = pd.Timestamp("2010-02-05")


def week(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(weeks=i)


def test_gaps_are_zero_and_weeks_before_the_first_row_unknown():
    panel = hand_panel({(1, 1): {0: 5, 1: 6, 3: 8}, (2, 1): {2: 40, 3: 41}})
    history = History.from_panel(panel, week(3))
    np.testing.assert_array_equal(history.y[0], [5, 6, 0, 8])  # week 2 missing: no sales
    assert np.isnan(history.y[1, :2]).all() and history.y[1, 2:].tolist() == [40, 41]
    assert history.first_week.tolist() == [0, 2]


def test_lookups_past_the_cutoff_or_unknown_series_are_nan():
    panel = hand_panel({(1, 1): {w: 100 + w for w in range(10)}})
    history = History.from_panel(panel, week(5))
    assert history.y.shape == (1, 6), "rows after the cutoff are not in the history at all"
    assert history.value_at(np.array([0, 0, -1]), np.array([5, 6, 2])).tolist()[0] == 105
    assert np.isnan(history.value_at(np.array([0, -1]), np.array([6, 2]))).all()


def test_window_mean_by_hand():
    panel = hand_panel({(1, 1): {0: 1, 1: 2, 2: 3, 4: 5}, (1, 2): {3: 10, 4: 20}})
    history = History.from_panel(panel, week(4))
    rows, end = np.array([0, 0, 1, 1]), np.array([4, 1, 4, 4])
    means = history.window_mean(rows, end, 3)
    assert means[0] == pytest.approx((3 + 0 + 5) / 3)  # weeks 2..4, week 3 a gap
    assert means[1] == pytest.approx(1.5)  # weeks 0..1 (the window is cut at week 0)
    assert means[2] == pytest.approx(15)  # weeks 2..4, week 2 before the series started
    assert history.window_mean(np.array([1]), np.array([4]), 1)[0] == 20


def test_observed_covariates_are_forward_filled_up_to_the_cutoff():
    panel = hand_panel({(1, 1): {0: 1, 1: 1, 3: 1}})
    panel["temperature"] = [10.0, 11.0, 13.0]
    history = History.from_panel(panel, week(3), observed=["temperature"])
    values = history.covariate_at("temperature", np.array([1, 1, 1, 9]), np.array([1, 2, 4, 1]))
    assert values[:2].tolist() == [11.0, 11.0] and np.isnan(values[2:]).all()


def test_history_needs_rows_before_the_cutoff():
    panel = hand_panel({(1, 1): {5: 1}})
    with pytest.raises(ValueError, match="no history"):
        History.from_panel(panel, week(2))


def test_a_history_without_series_sees_every_row_as_unseen():
    stores = pd.Index([1, 2], name="store")
    temperature = np.arange(8.0).reshape(2, 4)
    history = History.without_series(
        pd.Timestamp("2010-02-26"), pd.Timestamp("2010-02-05"), stores, {"temperature": temperature}
    )
    assert history.origin_week == 3
    assert history.series.get_indexer(pd.MultiIndex.from_tuples([(1, 1)])).tolist() == [-1]
    assert np.isnan(history.y).all() and history.first_week.tolist() == [4]
    assert history.covariates["temperature"] is temperature and history.stores is stores
