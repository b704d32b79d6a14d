"""Rolling origins, the backtest frame and the metrics computed from it."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import (
    KEY_COLUMNS,
    BacktestParams,
    cross_validation,
    mlflow_metrics,
    overall,
    rolling_cutoffs,
    score,
)

from .conftest import hand_panel

START = pd.Timestamp("2010-02-05")


def weeks(n: int) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=n, freq="7D")


def test_cutoffs_end_the_last_window_on_the_last_week():
    cutoffs = rolling_cutoffs(weeks(104), 39, BacktestParams(n_windows=3, step_weeks=6))
    assert [c.date().isoformat() for c in cutoffs] == ["2011-02-04", "2011-03-18", "2011-04-29"]
    assert cutoffs[-1] + pd.Timedelta(weeks=39) == weeks(104)[-1]


def test_too_little_history_for_the_first_cutoff_is_an_error():
    with pytest.raises(ValueError, match="weeks of history"):
        rolling_cutoffs(weeks(100), 39, BacktestParams(n_windows=3, step_weeks=13))


def test_cross_validation_frame_has_one_row_per_series_week_and_cutoff():
    panel = hand_panel({(1, 1): {w: float(w) for w in range(20)}, (2, 1): {w: 1.0 for w in range(5, 20)}})
    cutoffs = [START + pd.Timedelta(weeks=14), START + pd.Timedelta(weeks=16)]

    def last_value(history, future):
        return history.value_at(history.series_index(future), np.full(len(future), history.origin_week))

    cv = cross_validation(panel, {"last": last_value}, 3, cutoffs)
    assert list(cv.columns) == [*KEY_COLUMNS, "last"]
    assert len(cv) == 2 * 3 + 2 * 3
    first = cv[cv["cutoff"] == cutoffs[0]]
    assert first["step"].tolist() == [1, 2, 3, 1, 2, 3]
    assert first["last"].tolist()[:3] == [14.0] * 3 and first["actual"].tolist()[:3] == [15.0, 16.0, 17.0]


def test_a_forecaster_returning_nan_is_an_error():
    panel = hand_panel({(1, 1): {w: 1.0 for w in range(10)}})
    with pytest.raises(ValueError, match="'bad'"):
        cross_validation(panel, {"bad": lambda h, f: np.full(len(f), np.nan)}, 2, [START + pd.Timedelta(weeks=5)])


def test_score_by_hand_overall_per_fold_and_by_segment():
    cv = pd.DataFrame(
        {
            "store": [1, 1, 2, 2], "dept": [1, 1, 1, 1],
            "date": pd.to_datetime(["2010-02-12", "2010-02-19", "2010-02-12", "2010-02-19"]),
            "cutoff": pd.to_datetime(["2010-02-05", "2010-02-05", "2010-02-12", "2010-02-12"]),
            "step": [1, 2, 1, 2], "is_holiday": [True, False, True, False],
            "store_type": ["A", "A", "B", "B"],
            "actual": [10.0, 20.0, 30.0, 40.0],
            "model": [12.0, 20.0, 27.0, 44.0],
        }
    )
    scores = score(cv, ["model"])
    totals = overall(scores)["model"]
    # errors 2, 0, -3, 4; holiday rows (weight 5) are rows 0 and 2
    assert totals["wmae"] == pytest.approx((5 * 2 + 0 + 5 * 3 + 4) / 12)
    assert totals["mae"] == pytest.approx(9 / 4)
    assert totals["rmse"] == pytest.approx(np.sqrt((4 + 0 + 9 + 16) / 4))
    fold = scores[(scores["cutoff"] == "2010-02-12") & (scores["segment"] == "overall")].iloc[0]
    assert fold["wmae"] == pytest.approx((5 * 3 + 4) / 6) and fold["n"] == 2
    holiday = scores[(scores["cutoff"] == "all") & (scores["segment"] == "is_holiday")]
    assert holiday.set_index("segment_value")["mae"].to_dict() == {"True": 2.5, "False": 2.0}
    step = scores[(scores["cutoff"] == "all") & (scores["segment"] == "step")].set_index("segment_value")
    assert step.loc["2", "rmse"] == pytest.approx(np.sqrt(8))


def test_mlflow_metrics_hold_the_total_and_one_step_per_fold():
    cv = pd.DataFrame(
        {
            "store": 1, "dept": 1, "date": pd.to_datetime(["2010-02-12", "2010-02-19", "2010-02-26"]),
            "cutoff": pd.to_datetime(["2010-02-05", "2010-02-12", "2010-02-19"]), "step": 1,
            "is_holiday": False, "store_type": "A", "actual": [10.0, 20.0, 30.0], "m": [11.0, 18.0, 30.0],
        }
    )
    logged = mlflow_metrics(score(cv, ["m"], segments=()))
    assert logged["backtest.m.mae"] == {"value": pytest.approx(1.0), "step": 0}
    assert [p["step"] for p in logged["backtest_fold.m.mae"]] == [1, 2, 3]
    assert [p["value"] for p in logged["backtest_fold.m.mae"]] == [1.0, 2.0, 0.0]
