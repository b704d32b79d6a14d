"""Rolling origins, the backtest frame and the metrics computed from it."""

import math

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import (
    KEY_COLUMNS,
    BacktestParams,
    HorizonRefused,
    NoHonestBacktest,
    check_request,
    cross_validation,
    design_backtest,
    max_horizon,
    mlflow_metrics,
    overall,
    rolling_cutoffs,
    score,
    score_column,
)

from .conftest import hand_panel

START = pd.Timestamp("2010-02-05")


def weeks(n: int) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=n, freq="7D")


def test_cutoffs_end_the_last_window_on_the_last_week():
    cutoffs = rolling_cutoffs(weeks(104), 39, BacktestParams(n_windows=3, step_weeks=6))
    assert [c.date().isoformat() for c in cutoffs] == ["2011-02-04", "2011-03-18", "2011-04-29"]
    assert cutoffs[-1] + pd.Timedelta(weeks=39) == weeks(104)[-1]


DEFAULT = (
    BacktestParams()
)  # 3 windows, 6 weeks apart, 52 weeks of history, at least 2 windows, floor 26


@pytest.mark.parametrize(
    ("horizon", "kind", "history"),
    [
        # the real and synthetic data: 143 weeks of sales, test = the last `horizon` weeks,
        # so train + validation hold 143 - horizon weeks
        (1, "configured", (129, 135, 141)),
        (13, "configured", (105, 111, 117)),
        (26, "configured", (79, 85, 91)),
        (
            39,
            "configured",
            (53, 59, 65),
        ),  # the default horizon: the design of every earlier release
        (40, "fewer_windows", (57, 63)),  # 51, 57, 63 would start under a season of history
        (43, "shorter_history", (51, 57)),  # only one window keeps 52 weeks: two, with less
        (52, "shorter_history", (33, 39)),  # 39 weeks before the last window
    ],
)
def test_the_design_adapts_to_the_history_there_is(horizon, kind, history):
    design = design_backtest(143 - horizon, horizon, DEFAULT)
    assert (design.kind, design.history_weeks) == (kind, history)
    assert design.history_weeks[-1] + horizon == 143 - horizon, (
        "the last window ends on the last week"
    )
    assert all(
        b - a == 6 for a, b in zip(design.history_weeks, design.history_weeks[1:], strict=False)
    )
    assert design.n_windows >= 2, "two windows keep the ensemble's backtest cross-fitted"
    expected = {
        "configured": "as configured",
        "fewer_windows": "kept the last",
        "shorter_history": "min_history_floor",
    }
    assert expected[kind] in design.reason and f"{horizon}" in design.reason
    assert design == design_backtest(143 - horizon, horizon, DEFAULT), "a pure function"


def test_configured_design_is_kept_whenever_it_fits():
    for n_weeks, horizon in [(104, 39), (200, 13), (91, 1)]:
        design = design_backtest(n_weeks, horizon, DEFAULT)
        assert design.kind == "configured" and design.history_weeks[0] >= 52
        assert "as configured" in design.reason


def test_one_window_when_two_do_not_fit_above_the_floor():
    design = design_backtest(70, 40, DEFAULT)  # 30 weeks before the last window, floor 26, step 6
    assert design.kind == "shorter_history" and design.history_weeks == (30,)
    assert "in-sample" in design.reason
    assert design_backtest(70, 40, DEFAULT.model_copy(update={"step_weeks": 2})).history_weeks == (
        28,
        30,
    )


def test_no_honest_backtest_says_what_would_make_one():
    with pytest.raises(NoHonestBacktest) as error:
        design_backtest(60, 39, DEFAULT)
    message = str(error.value)
    assert "21 weeks of history" in message and "at least 65 weeks" in message
    assert "at most 34 weeks" in message
    assert design_backtest(65, 39, DEFAULT).history_weeks == (26,)


def test_rolling_cutoffs_are_the_design_on_dates_and_the_record_names_them():
    cutoffs = rolling_cutoffs(weeks(100), 39, BacktestParams(n_windows=3, step_weeks=13))
    # 61 weeks before the last window: only one window 13 weeks apart keeps 52, so two with less
    assert [c.date().isoformat() for c in cutoffs] == ["2010-12-31", "2011-04-01"]
    design = design_backtest(100, 39, BacktestParams(n_windows=3, step_weeks=13))
    record = design.as_dict(weeks(100))
    assert record["cutoffs"] == ["2010-12-31", "2011-04-01"] and record["kind"] == "shorter_history"
    assert record["history_weeks"] == [48, 61] and record["train_validation_weeks"] == 100
    with pytest.raises(ValueError, match="design is for 100 weeks"):
        design.cutoffs(weeks(99))


def test_the_longest_horizon_and_a_refused_request():
    assert max_horizon(143, 39 + 52, DEFAULT, longest=52) == 52
    assert (
        max_horizon(143, 0, DEFAULT, longest=200) == 58
    )  # (143 - 26) / 2: the backtest's own limit
    plan = check_request(143, 52, 39, 52, DEFAULT, longest=52)
    assert plan["max_horizon_weeks"] == 52 and plan["backtest_design"]["kind"] == "shorter_history"
    with pytest.raises(HorizonRefused) as error:
        check_request(143, 53, 39, 52, DEFAULT, longest=52)
    assert "1 to 52 weeks" in str(error.value)
    with pytest.raises(HorizonRefused) as error:
        check_request(100, 20, 39, 52, DEFAULT, longest=52)
    message = str(error.value)
    assert "1 to 9 weeks" in message and "The limit is the split" in message
    assert "ingestion.validation_weeks" in message


def test_cross_validation_frame_has_one_row_per_series_week_and_cutoff():
    panel = hand_panel(
        {(1, 1): {w: float(w) for w in range(20)}, (2, 1): {w: 1.0 for w in range(5, 20)}}
    )
    cutoffs = [START + pd.Timedelta(weeks=14), START + pd.Timedelta(weeks=16)]

    def last_value(history, future):
        return history.value_at(
            history.series_index(future), np.full(len(future), history.origin_week)
        )

    cv = cross_validation(panel, {"last": last_value}, 3, cutoffs)
    assert list(cv.columns) == [*KEY_COLUMNS, "last"]
    assert len(cv) == 2 * 3 + 2 * 3
    first = cv[cv["cutoff"] == cutoffs[0]]
    assert first["step"].tolist() == [1, 2, 3, 1, 2, 3]
    assert first["last"].tolist()[:3] == [14.0] * 3 and first["actual"].tolist()[:3] == [
        15.0,
        16.0,
        17.0,
    ]


def test_a_forecaster_returning_nan_is_an_error():
    panel = hand_panel({(1, 1): {w: 1.0 for w in range(10)}})
    with pytest.raises(ValueError, match="'bad'"):
        cross_validation(
            panel, {"bad": lambda h, f: np.full(len(f), np.nan)}, 2, [START + pd.Timedelta(weeks=5)]
        )


def test_score_by_hand_overall_per_fold_and_by_segment():
    cv = pd.DataFrame(
        {
            "store": [1, 1, 2, 2],
            "dept": [1, 1, 1, 1],
            "date": pd.to_datetime(["2010-02-12", "2010-02-19", "2010-02-12", "2010-02-19"]),
            "cutoff": pd.to_datetime(["2010-02-05", "2010-02-05", "2010-02-12", "2010-02-12"]),
            "step": [1, 2, 1, 2],
            "is_holiday": [True, False, True, False],
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
    step = scores[(scores["cutoff"] == "all") & (scores["segment"] == "step")].set_index(
        "segment_value"
    )
    assert step.loc["2", "rmse"] == pytest.approx(np.sqrt(8))


def test_mlflow_metrics_hold_the_total_and_one_step_per_fold():
    cv = pd.DataFrame(
        {
            "store": 1,
            "dept": 1,
            "date": pd.to_datetime(["2010-02-12", "2010-02-19", "2010-02-26"]),
            "cutoff": pd.to_datetime(["2010-02-05", "2010-02-12", "2010-02-19"]),
            "step": 1,
            "is_holiday": False,
            "store_type": "A",
            "actual": [10.0, 20.0, 30.0],
            "m": [11.0, 18.0, 30.0],
        }
    )
    logged = mlflow_metrics(score(cv, ["m"], segments=()))
    assert logged["backtest.m.mae"] == {"value": pytest.approx(1.0), "step": 0}
    assert [p["step"] for p in logged["backtest_fold.m.mae"]] == [1, 2, 3]
    assert [p["value"] for p in logged["backtest_fold.m.mae"]] == [1.0, 2.0, 0.0]


# errors |y - yhat| = [2, 0, 3]
Y_TRUE = [10.0, 20.0, 30.0]
Y_PRED = [12.0, 20.0, 27.0]


def test_score_column_returns_the_three_metrics_as_floats():
    frame = pd.DataFrame({"actual": Y_TRUE, "forecast": Y_PRED, "holiday": [False, True, False]})
    result = score_column(frame, "forecast", actual_col="actual", holiday_col="holiday")
    assert result == pytest.approx({"wmae": 5 / 7, "mae": 5 / 3, "rmse": math.sqrt(13 / 3)})
    assert all(type(value) is float for value in result.values())
    doubled = score_column(frame, "forecast", "actual", "holiday", holiday_weight=1.0)
    assert doubled["wmae"] == pytest.approx(5 / 3)


def test_score_column_names_the_column_with_nan_predictions():
    frame = pd.DataFrame(
        {"weekly_sales": Y_TRUE, "lightgbm": [1.0, np.nan, 3.0], "is_holiday": False}
    )
    with pytest.raises(ValueError, match="column 'lightgbm' has 1 NaN"):
        score_column(frame, "lightgbm")


def test_score_column_rejects_empty_frame_and_missing_column():
    empty = pd.DataFrame({"weekly_sales": [], "prediction": [], "is_holiday": []})
    with pytest.raises(ValueError, match="empty"):
        score_column(empty, "prediction")
    with pytest.raises(ValueError, match="missing column"):
        score_column(empty.drop(columns="prediction"), "prediction")


def test_side_by_side_puts_backtests_together_and_refuses_different_rows():
    from retail_forecasting.forecasting.backtest import side_by_side

    keys = {
        "store": [1, 1, 2],
        "dept": [1, 1, 1],
        "date": pd.to_datetime(["2012-01-06", "2012-01-13", "2012-01-06"]),
        "cutoff": pd.to_datetime(["2011-12-30"] * 3),
    }
    first = pd.DataFrame({**keys, "actual": [1.0, 2.0, 3.0], "a": [1.5, 2.5, 3.5]})
    second = pd.DataFrame({**keys, "actual": [9.0, 9.0, 9.0], "b": [0.5, 1.5, 2.5]})
    together = side_by_side([first, second], lambda f: [c for c in f if c in ("a", "b")])
    assert list(together.columns) == [*keys, "actual", "a", "b"]
    assert together["actual"].tolist() == [1.0, 2.0, 3.0]  # the first frame's
    assert together["b"].tolist() == [0.5, 1.5, 2.5]
    with pytest.raises(ValueError, match="do not cover the same rows"):
        side_by_side([first, second.iloc[:2]], lambda f: [c for c in f if c in ("a", "b")])
    # rows in another order are matched on their keys, not their positions; in the same order
    # (taken without a merge) the result is the merge's
    shuffled = second.iloc[[2, 0, 1]]
    again = side_by_side([first, shuffled], lambda f: [c for c in f if c in ("a", "b")])
    pd.testing.assert_frame_equal(again, together)
    merged = first.merge(second[[*keys, "b"]], on=list(keys), validate="one_to_one")
    pd.testing.assert_frame_equal(together, merged)
    # repeated keys are refused, whether the rows line up (no merge needed) or not
    doubled = pd.concat([first, first.iloc[[0]]], ignore_index=True)
    lined_up = pd.concat([second, second.iloc[[0]]], ignore_index=True)
    for other in (lined_up, second):
        with pytest.raises(ValueError, match="repeats a row's keys"):
            side_by_side([doubled, other], lambda f: [c for c in f if c in ("a", "b")])
