"""Prediction intervals (forecasting/intervals.py): calibrated on a backtest, they cover what
they claim on windows they never saw, widen where the errors grow, never cross, respect the
floor, and the scores are the textbook ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.contract import PANEL_COLUMNS
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.intervals import (
    CalibrationRows,
    IntervalModel,
    IntervalParams,
    apply_frame,
    apply_rows,
    attach_scales,
    calibrate,
    calibrate_frame,
    calibrate_rows,
    change_features,
    cross_fitted,
    cross_fitted_rows,
    interval_score,
    last_fold_fitted,
    last_fold_mask,
    last_year_known,
    pinball,
    quantile_columns,
    quantile_levels,
    row_groups,
    score_intervals,
    series_scale,
)

N_SERIES, N_WEEKS, HORIZON = 240, 230, 26


@pytest.fixture(scope="module")
def noisy_panel() -> pd.DataFrame:
    """Series of levels spread over three orders of magnitude, each level + N(0, (0.1 level)^2)
    iid noise: the noise scale is known exactly, proportional to the level."""
    rng = np.random.default_rng(5)
    level = np.exp(rng.uniform(np.log(100), np.log(100_000), N_SERIES))
    noise = rng.normal(0, 1, (N_SERIES, N_WEEKS)) * 0.1 * level[:, None]
    dates = pd.date_range("2010-02-05", periods=N_WEEKS, freq="7D")
    frame = pd.DataFrame(
        {
            "store": np.repeat(np.arange(N_SERIES) % 12 + 1, N_WEEKS),
            "dept": np.repeat(np.arange(N_SERIES) // 12 + 1, N_WEEKS),
            "date": np.tile(dates, N_SERIES),
            "weekly_sales": (level[:, None] + noise).ravel(),
        }
    )
    frame["date"] = frame["date"].astype("datetime64[ns]")
    frame["is_holiday"] = frame["date"].dt.isocalendar().week.isin([6, 36, 47, 52]).to_numpy()
    frame["store_type"] = np.where(frame["store"] <= 6, "A", "B")
    frame["store_size"] = 100_000
    for column in PANEL_COLUMNS[7:]:
        if column not in frame:
            frame[column] = np.nan
    return frame[PANEL_COLUMNS]


def drifting(history: History, future: pd.DataFrame) -> np.ndarray:
    """The series' 26-week mean, plus an error that grows with the step (sd 0.1 level x
    step / 10) drawn from a generator seeded by the cutoff: a forecaster whose errors widen."""
    rows = history.series_index(future)
    level = history.window_mean(rows, np.full(len(rows), history.origin_week), 26)
    step = history.week_index(future["date"]) - history.origin_week
    rng = np.random.default_rng(int(history.cutoff.value // 10**9) % 2**32)
    return level + rng.normal(0, 1, len(rows)) * 0.1 * level * step / 10


def backtest(panel: pd.DataFrame, cutoffs, params: IntervalParams) -> pd.DataFrame:
    cv = cross_validation(panel, {"model": drifting}, HORIZON, cutoffs)
    return attach_scales(panel, cv, params)


def test_quantile_levels_and_names():
    assert quantile_levels([80, 95]) == (0.025, 0.1, 0.5, 0.9, 0.975)
    assert quantile_columns((0.025, 0.1, 0.5)) == ["q0.025", "q0.1", "q0.5"]
    assert quantile_columns((0.9,), prefix="Weekly_Sales_q") == ["Weekly_Sales_q0.9"]
    with pytest.raises(ValueError):
        IntervalParams(levels=(0, 80))


def test_coverage_on_unseen_windows_lands_near_nominal(noisy_panel):
    params = IntervalParams(step_bucket_weeks=4, min_bucket_rows=100)
    weeks = np.sort(noisy_panel["date"].unique())
    calibration = backtest(
        noisy_panel, [pd.Timestamp(weeks[i]) for i in (60, 75, 90, 105, 120)], params
    )
    model = calibrate_frame(calibration, "model", params, HORIZON)
    # a window after every calibration week, never seen by the calibration
    test = backtest(noisy_panel, [pd.Timestamp(weeks[-HORIZON - 1])], params)
    values = apply_frame(model, test, "model")
    totals, table = score_intervals(test, values.to_numpy(), params.quantiles, params.levels)
    assert abs(totals["80"]["coverage"] - 0.80) < 0.02, totals
    assert abs(totals["95"]["coverage"] - 0.95) < 0.015, totals
    # per step bucket, too: the errors grow with the step and the intervals follow them
    per_step = table[(table["segment"] == "step") & (table["level"] == "80")].copy()
    per_step["bucket"] = (per_step["segment_value"].astype(int) - 1) // 4
    by_bucket = per_step.groupby("bucket")[["coverage", "width"]].mean()
    assert (by_bucket["coverage"].between(0.72, 0.88)).all(), by_bucket
    assert by_bucket["width"].iloc[-1] > 1.5 * by_bucket["width"].iloc[0]
    # the upper quantile never decreases with the step, the lower never increases
    upper, lower = model.table[0, :, -1], model.table[0, :, 0]
    assert (np.diff(upper) >= -1e-12).all() and (np.diff(lower) <= 1e-12).all()
    # without the per-series scale the intervals are the same width for a series of 100 and
    # one of 100,000: the score is much worse
    flat = IntervalParams(scale="none", scale_fit=False, step_bucket_weeks=4, min_bucket_rows=100)
    flat_model = calibrate_frame(
        attach_scales(noisy_panel, calibration, flat), "model", flat, HORIZON
    )
    flat_values = apply_frame(flat_model, attach_scales(noisy_panel, test, flat), "model")
    flat_totals, _ = score_intervals(test, flat_values.to_numpy(), flat.quantiles, flat.levels)
    assert flat_totals["80"]["interval_score"] > 1.5 * totals["80"]["interval_score"]


def test_cross_fitted_backtest_intervals_use_only_the_other_folds(noisy_panel):
    params = IntervalParams(min_bucket_rows=50)
    weeks = np.sort(noisy_panel["date"].unique())
    frame = backtest(noisy_panel, [pd.Timestamp(weeks[i]) for i in (80, 100, 120)], params)
    out = cross_fitted(frame, "model", params, HORIZON)
    assert list(out.columns) == quantile_columns(params.quantiles) and out.index.equals(frame.index)
    first = frame["cutoff"] == frame["cutoff"].min()
    own = apply_frame(
        calibrate_frame(frame.loc[~first], "model", params, HORIZON), frame.loc[first], "model"
    )
    pd.testing.assert_frame_equal(out.loc[first], own)
    # changing the first fold's actuals changes the other folds' intervals, not its own
    moved = frame.assign(actual=np.where(first, frame["actual"] * 3, frame["actual"]))
    again = cross_fitted(moved, "model", params, HORIZON)
    pd.testing.assert_frame_equal(again.loc[first], out.loc[first])
    assert not np.allclose(again.loc[~first].to_numpy(), out.loc[~first].to_numpy())


def test_the_last_fold_is_calibrated_on_the_earlier_folds_only(noisy_panel):
    params = IntervalParams(min_bucket_rows=50, scale_fit=True)
    weeks = np.sort(noisy_panel["date"].unique())
    frame = backtest(noisy_panel, [pd.Timestamp(weeks[i]) for i in (80, 100, 120)], params)
    last = frame["cutoff"] == frame["cutoff"].max()
    out = last_fold_fitted(frame, "model", params, HORIZON)
    assert out.index.equals(frame.index[last])
    own = apply_frame(
        calibrate_frame(frame.loc[~last], "model", params, HORIZON), frame.loc[last], "model"
    )
    pd.testing.assert_frame_equal(out, own)
    # its own actuals (and anything later) do not move it; the earlier folds' do
    moved = frame.assign(actual=np.where(last, frame["actual"] * 3, frame["actual"]))
    pd.testing.assert_frame_equal(last_fold_fitted(moved, "model", params, HORIZON), out)
    earlier = frame.assign(actual=np.where(last, frame["actual"], frame["actual"] * 3))
    assert not np.allclose(last_fold_fitted(earlier, "model", params, HORIZON).to_numpy(), out)
    assert last_fold_fitted(frame.loc[last], "model", params, HORIZON) is None


def test_the_last_folds_cross_fitted_intervals_are_its_nested_ones(noisy_panel):
    """The pipeline scores the nested validation on the cross-fitted intervals of the last fold
    (every other fold is an earlier one) instead of calibrating them a second time."""
    params = IntervalParams(min_bucket_rows=50, scale_fit=True)
    weeks = np.sort(noisy_panel["date"].unique())
    frame = backtest(noisy_panel, [pd.Timestamp(weeks[i]) for i in (80, 100, 120)], params)
    rows = CalibrationRows.from_frame(frame, params)
    values = cross_fitted_rows(rows, frame["model"].to_numpy(), HORIZON)
    last = last_fold_mask(rows)
    np.testing.assert_array_equal(last, (frame["cutoff"] == frame["cutoff"].max()).to_numpy())
    np.testing.assert_array_equal(
        values[last], last_fold_fitted(frame, "model", params, HORIZON).to_numpy()
    )
    np.testing.assert_array_equal(values, cross_fitted(frame, "model", params, HORIZON).to_numpy())
    assert last_fold_mask(rows.take(last)) is None
    # the last fold is the latest cutoff's wherever its rows stand
    reverse = CalibrationRows.from_frame(frame.iloc[::-1], params)
    np.testing.assert_array_equal(last_fold_mask(reverse), last[::-1])
    # one fold: in-sample, every row calibrated and forecast at once
    one = rows.take(last)
    forecast = frame["model"].to_numpy()[last]
    np.testing.assert_array_equal(
        cross_fitted_rows(one, forecast, HORIZON),
        apply_rows(calibrate_rows(one, forecast, HORIZON), one, forecast),
    )
    # rows read with other calibration groups than the model's are refused, not misapplied
    model = calibrate_frame(frame, "model", params, HORIZON)
    other = CalibrationRows.from_frame(frame, params.model_copy(update={"peak_season": None}))
    with pytest.raises(ValueError, match="calibration groups"):
        apply_rows(model, other, frame["model"].to_numpy())


def test_quantiles_never_cross_and_respect_the_floor():
    params = IntervalParams(monotone=False, by_holiday=False)
    rng = np.random.default_rng(0)
    # a deliberately crossing table: the stored quantiles out of order in some buckets
    table = rng.normal(0, 2, (1, 5, 5))
    model = IntervalModel(params.quantiles, 4, table, np.ones((1, 5)), params)
    n = 1000
    point = rng.uniform(-50, 500, n)
    floor = np.where(rng.uniform(size=n) < 0.5, 0.0, -20.0)
    values = model.apply(point, rng.uniform(1, 100, n), rng.integers(1, 30, n), floor=floor)
    assert values.shape == (n, 5)
    assert (np.diff(values, axis=1) >= 0).all()
    assert (values >= floor[:, None]).all()


def test_scale_and_floor_come_from_the_history_at_the_cutoff():
    dates = pd.date_range("2011-01-07", periods=6, freq="7D")
    panel = pd.DataFrame(
        {
            "store": 1,
            "dept": [1] * 6 + [2] * 6,
            "date": list(dates) * 2,
            "weekly_sales": [10, 20, 10, 20, 10, 1000, 5, -3, 5, 5, 5, 5],
        }
    )
    history = History.from_panel(panel, dates[4])  # the 1000 is after the cutoff
    rows = pd.DataFrame({"store": [1, 1, 2, 2], "dept": [1, 2, 2, 3]})
    params = IntervalParams(scale_window=52)
    scale, floor = series_scale(history, rows, params)
    assert scale[0] == pytest.approx(10.0)  # |diffs| 10, 10, 10, 10
    assert scale[1] == pytest.approx((8 + 8 + 0 + 0) / 4)
    assert scale[2] == pytest.approx(4.0)  # a series unseen at the cutoff: its department's median
    assert scale[3] == pytest.approx(7.0)  # an unseen department: the median of all series
    np.testing.assert_array_equal(floor, [0.0, -3.0, 0.0, 0.0])
    assert series_scale(history, rows, params.model_copy(update={"scale": "mean_abs"}))[0][
        0
    ] == pytest.approx(14.0)


def test_holiday_weeks_and_the_peak_season_get_their_own_spread():
    dates = pd.Series(pd.date_range("2010-02-05", periods=156, freq="7D"))
    holiday = (
        dates.dt.strftime("%m-%d")
        .isin(["02-12", "09-10", "11-26", "12-31", "02-11", "09-09"])
        .to_numpy()
    )
    params = IntervalParams(step_bucket_weeks=39)
    group = row_groups(dates, holiday, params)
    assert group[dates.dt.strftime("%m-%d") == "02-12"].tolist() == [1]  # Super Bowl week
    assert set(group[(dates.dt.month == 12)]) == {2} and group[dates == "2010-11-26"].tolist() == [
        2
    ]
    assert group[dates == "2010-11-19"].tolist() == [0]  # before Thanksgiving's week
    assert set(
        row_groups(
            dates, holiday, params.model_copy(update={"peak_season": None, "by_holiday": False})
        )
    ) == {0}

    rng = np.random.default_rng(1)
    n = 60_000
    group = rng.choice(3, n, p=[0.8, 0.1, 0.1])
    steps = rng.integers(1, 40, n)
    residual = rng.normal(0, 1, n) * np.array([1.0, 3.0, 2.0])[group]
    model = calibrate(residual, np.ones(n), steps, group, params)
    np.testing.assert_allclose(model.table[1, 0, [0, -1]], 3 * model.table[0, 0, [0, -1]], rtol=0.1)
    np.testing.assert_allclose(model.table[2, 0, [0, -1]], 2 * model.table[0, 0, [0, -1]], rtol=0.1)
    # a group without rows in a bucket: the bucket's pooled quantiles x the group's relative spread
    late = (group == 2) & (steps <= 20)
    sparse = calibrate(
        residual[~late],
        np.ones((~late).sum()),
        steps[~late],
        group[~late],
        params.model_copy(update={"step_bucket_weeks": 20}),
        39,
    )
    assert sparse.counts[2, 0] == 0 and sparse.counts[2, 1] > 0
    pooled = np.quantile(residual[~late][steps[~late] <= 20], params.quantiles)
    assert sparse.table[2, 0, -1] > 1.3 * pooled[-1]  # wider than the pooled rows'
    assert (
        sparse.table[2, 0, -1] <= sparse.table[2, 1, -1] + 1e-9
    )  # and never wider than at later steps
    assert IntervalModel.from_dict(model.as_dict()).table.tolist() == model.table.tolist()


def test_scores_are_the_textbook_formulas():
    actual = np.array([0.0, 10.0, 25.0])
    lower, upper = np.array([5.0, 5.0, 5.0]), np.array([15.0, 15.0, 15.0])
    # alpha 0.2: width 10 plus 2/0.2 = 10 x the miss
    np.testing.assert_allclose(interval_score(actual, lower, upper, 80), [10 + 50, 10, 10 + 100])
    np.testing.assert_allclose(pinball(actual, np.full(3, 10.0), 0.9), [0.1 * 10, 0, 0.9 * 15])
    frame = pd.DataFrame(
        {
            "actual": actual,
            "is_holiday": [True, False, False],
            "step": [1, 1, 2],
            "store_type": ["A", "A", "B"],
        }
    )
    values = np.column_stack([lower - 1, lower, (lower + upper) / 2, upper, upper + 1])
    totals, table = score_intervals(frame, values, (0.025, 0.1, 0.5, 0.9, 0.975), (80, 95))
    assert totals["80"]["coverage"] == pytest.approx(1 / 3)
    assert totals["80"]["interval_score"] == pytest.approx((60 + 10 + 110) / 3)
    assert totals["80"]["interval_score_weighted"] == pytest.approx((5 * 60 + 10 + 110) / 7)
    assert totals["80"]["below"] == pytest.approx(1 / 3) and totals["80"]["above"] == pytest.approx(
        1 / 3
    )
    assert set(table["segment"]) == {"overall", "step", "is_holiday", "store_type"}


def test_each_segments_scores_are_those_of_its_rows_alone():
    """score_intervals groups each segment's rows in one pass: every value's figures are
    exactly those of scoring its rows on their own, in order of appearance."""
    rng = np.random.default_rng(3)
    n = 500
    frame = pd.DataFrame(
        {
            "actual": rng.normal(0, 10, n),
            "is_holiday": rng.random(n) < 0.1,
            "step": rng.integers(1, 9, n),
            "store_type": rng.choice(["A", "B", "C"], n),
        }
    )
    quantiles, levels = (0.025, 0.1, 0.5, 0.9, 0.975), (80, 95)
    values = np.sort(rng.normal(0, 10, (n, 5)), axis=1)
    _, table = score_intervals(frame, values, quantiles, levels)
    for segment in ("step", "is_holiday", "store_type"):
        rows = table[table["segment"] == segment]
        keys = frame[segment].to_numpy()
        assert list(dict.fromkeys(rows["segment_value"])) == [str(v) for v in pd.unique(keys)]
        for value in pd.unique(keys):
            mask = keys == value
            alone, _ = score_intervals(frame[mask], values[mask], quantiles, levels, ())
            mine = rows[rows["segment_value"] == str(value)].set_index("level")
            assert mine.loc["80", "n"] == mask.sum()
            for level in ("80", "95"):
                for key in ("coverage", "width", "interval_score", "interval_score_weighted"):
                    assert mine.loc[level, key] == alone[level][key]
            assert mine.loc["pinball", "interval_score"] == alone["pinball"]


def test_each_store_type_gets_its_own_spread_and_covers_near_nominal():
    """Type C's errors twice type A's, B's like the pool: pooled quantiles over-cover A and
    under-cover C; with by_store_type every type lands near nominal, on rows it never saw."""
    rng = np.random.default_rng(3)
    n = 90_000
    types = rng.choice(np.array(["A", "B", "C"]), n, p=[0.5, 0.3, 0.2])
    sd = np.select([types == "A", types == "C"], [1.0, 2.0], 1.4)
    steps = rng.integers(1, 14, n)
    residual = rng.normal(0, 1, n) * sd
    fit, check = np.arange(n) < n // 2, np.arange(n) >= n // 2
    on, off = (
        IntervalParams(step_bucket_weeks=13),
        IntervalParams(step_bucket_weeks=13, by_store_type=False),
    )
    coverage = {}
    for name, params in (("on", on), ("off", off)):
        model = calibrate(
            residual[fit],
            np.ones(fit.sum()),
            steps[fit],
            np.zeros(fit.sum(), dtype=int),
            params,
            13,
            store_type=types[fit],
        )
        assert bool(model.type_ratio) is (name == "on")
        values = model.apply(
            np.zeros(check.sum()), np.ones(check.sum()), steps[check], store_type=types[check]
        )
        assert (np.diff(values, axis=1) >= 0).all()
        inside = (residual[check, None] >= values[:, [0, 1]]) & (
            residual[check, None] <= values[:, [4, 3]]
        )
        coverage[name] = {
            t: inside[types[check] == t].mean(axis=0) for t in ("A", "B", "C")
        }  # (95 %, 80 %)
        if name == "on":
            assert (
                IntervalModel.from_dict(model.as_dict()).type_ratio.keys()
                == model.type_ratio.keys()
            )
            unseen = model.apply(np.zeros(1), np.ones(1), np.array([1]), store_type=np.array(["D"]))
            np.testing.assert_allclose(unseen, model.apply(np.zeros(1), np.ones(1), np.array([1])))
    for t in ("A", "B", "C"):
        np.testing.assert_allclose(coverage["on"][t], [0.95, 0.80], atol=0.015)
    assert coverage["off"]["A"][1] > 0.85 and coverage["off"]["C"][1] < 0.70


def _one_step_model(**kwargs) -> IntervalModel:
    """A model calibrated on 500 residuals spread over [-1, 1], one step, scale 1."""
    return calibrate(
        np.linspace(-1, 1, 500),
        np.ones(500),
        np.ones(500, dtype=int),
        np.zeros(500, dtype=int),
        IntervalParams(step_bucket_weeks=1),
        1,
        **kwargs,
    )


def test_a_model_pickled_before_the_store_type_factor_still_applies():
    model = _one_step_model(store_type=np.array(["A", "B"] * 250))
    old = IntervalModel.__new__(IntervalModel)
    old.__dict__.update(
        {k: v for k, v in model.__dict__.items() if k != "type_ratio"}
    )  # as unpickled
    np.testing.assert_allclose(
        old.apply(np.zeros(2), np.ones(2), np.ones(2), store_type=np.array(["A", "B"])),
        model.apply(np.zeros(2), np.ones(2), np.ones(2)),
    )


def test_the_off_peak_scale_leaves_out_the_changes_around_the_peak_season():
    dates = pd.date_range("2010-11-05", periods=12, freq="7D")  # Nov 5 .. Jan 21
    sales = [10, 20, 10, 20, 300, 500, 900, 200, 10, 20, 10, 20]  # peak weeks: Nov 26 .. Dec 31
    panel = pd.DataFrame({"store": 1, "dept": 1, "date": dates, "weekly_sales": sales})
    history = History.from_panel(panel, dates[-1])
    rows = pd.DataFrame({"store": [1], "dept": [1]})
    off_peak = series_scale(history, rows, IntervalParams(scale="abs_diff_off_peak"))[0][0]
    every = series_scale(history, rows, IntervalParams(scale="abs_diff"))[0][0]
    assert IntervalParams().scale == "abs_diff_off_peak"
    # kept: Nov 5->12->19 and Jan 7->14->21 (every |change| 10); Nov 19->26 into the peak and
    # Dec 31->Jan 7 out of it are left out with the changes within
    assert off_peak == pytest.approx(10.0)
    assert every == pytest.approx(np.abs(np.diff(sales)).mean())
    no_peak = IntervalParams(scale="abs_diff_off_peak", peak_season=None)
    assert series_scale(history, rows, no_peak)[0][0] == pytest.approx(every)


def test_last_year_known_reads_the_history_at_the_cutoff_only():
    dates = pd.date_range("2010-02-05", periods=60, freq="7D")
    panel = pd.DataFrame(
        {
            "store": 1,
            "dept": [1] * 60 + [2] * 10,
            "date": list(dates) + list(dates[50:]),  # dept 2 is born at week 50
            "weekly_sales": 1.0,
        }
    )
    history = History.from_panel(panel, dates[55])
    future = pd.date_range(dates[55] + pd.Timedelta(weeks=1), periods=52, freq="7D")
    rows = pd.DataFrame(
        {"store": 1, "dept": [1] * 52 + [2] * 52 + [3] * 52, "date": list(future) * 3}
    )
    known = last_year_known(history, rows)
    # dept 1: every last-year week (weeks 4..55) is in its life and by the cutoff
    assert known[:52].all()
    # dept 2 (born at week 50): step h's last-year week is 55 + h - 52 = h + 3 >= 50 from h = 47
    assert not known[52 : 52 + 46].any() and known[52 + 46 : 104].all()
    assert not known[104:].any()  # a series unseen at the cutoff


def _calibration_rows(rng, n, young_spread):
    step = rng.integers(1, 27, n)
    last_year = rng.uniform(size=n) < 0.7
    residual = rng.normal(0, 1, n) * np.where(last_year, 1.0, young_spread)
    return residual, step, last_year


def test_rows_without_last_years_week_are_calibrated_apart():
    rng = np.random.default_rng(3)
    params = IntervalParams(by_last_year=True, step_bucket_weeks=26, peak_season=None)
    residual, step, last_year = _calibration_rows(rng, 40_000, 4.0)
    zeros = np.zeros(len(step), dtype=int)
    model = calibrate(residual, np.ones(len(step)), step, zeros, params, 26, None, last_year)
    assert model.young is not None
    # the young rows' errors are 4 times wider: so are their quantiles
    np.testing.assert_allclose(
        model.young.table[0, 0, [0, -1]], 4 * model.table[0, 0, [0, -1]], rtol=0.1
    )
    # fresh rows: each kind covers near nominal; one model for all over-covers the rows that
    # have last year's week (what a test origin with a longer history has) and under-covers
    # the others
    residual, step, last_year = _calibration_rows(rng, 40_000, 4.0)
    pooled = calibrate(
        residual,
        np.ones(len(step)),
        step,
        zeros,
        params.model_copy(update={"by_last_year": False}),
        26,
    )
    for fitted, wanted in ((model, (0.80, 0.80)), (pooled, None)):
        values = fitted.apply(np.zeros(len(step)), np.ones(len(step)), step, last_year=last_year)
        inside = (residual >= values[:, 1]) & (residual <= values[:, 3])
        known, young = inside[last_year].mean(), inside[~last_year].mean()
        if wanted:
            assert abs(known - 0.80) < 0.02 and abs(young - 0.80) < 0.02, (known, young)
        else:
            assert known > 0.90 and young < 0.60, (known, young)
    # without last_year the rows take the model's own quantiles (what an old caller gets)
    np.testing.assert_array_equal(
        model.apply(np.zeros(3), np.ones(3), np.ones(3)),
        model.apply(np.zeros(3), np.ones(3), np.ones(3), last_year=np.ones(3, dtype=bool)),
    )
    # too few rows of one kind: one model
    few = last_year | (np.arange(len(step)) > 100)
    assert calibrate(residual, np.ones(len(step)), step, zeros, params, 26, None, few).young is None
    # round trip through the JSON of mdl_interval_models
    again = IntervalModel.from_dict(model.as_dict())
    np.testing.assert_allclose(
        again.apply(np.zeros(4), np.ones(4), np.ones(4), last_year=np.array([1, 0, 1, 0], bool)),
        model.apply(np.zeros(4), np.ones(4), np.ones(4), last_year=np.array([1, 0, 1, 0], bool)),
    )


def test_change_features_read_last_years_weeks_and_the_recent_weeks_up_to_the_cutoff():
    dates = pd.date_range("2010-02-05", periods=70, freq="7D")
    sales = np.where(np.arange(70) % 2 == 0, 100.0, 110.0)  # |change| 10 every week
    sales[10:13] = [100.0, 150.0, 100.0]  # weeks 10..12: |changes| into 11, 12 and 13 are 50
    sales[60:70] = 1000.0  # after the cutoff: must not be read
    panel = pd.DataFrame({"store": 1, "dept": 1, "date": dates, "weekly_sales": sales})
    history = History.from_panel(panel, dates[59])
    rows = pd.DataFrame({"store": 1, "dept": [1, 1, 9], "date": dates[[63, 64, 63]]})
    features = change_features(history, rows, IntervalParams(recent_weeks=5))
    # week 63: last year's week 11, window 9..13: changes into 9..13 = 10, 50, 50, 10, 10... (into
    # 11: |150-110|? no: week 10 is 100, 11 is 150 -> 50; 12 is 100 -> 50; 13 is 110 -> 10)
    expected = np.mean(np.abs(np.diff(sales[8:14])))
    assert features["change_last_year"][0] == pytest.approx(expected)
    assert features["change_last_year"][1] == pytest.approx(np.mean(np.abs(np.diff(sales[9:15]))))
    assert np.isnan(features["change_last_year"][2]) and np.isnan(features["change_recent"][2])
    assert features["change_recent"][0] == pytest.approx(10.0)  # weeks 55..59 only
    # a forecast week 51 or 52 weeks ahead: the window reaches past the cutoff, where nothing is
    late = pd.DataFrame({"store": 1, "dept": [1], "date": [dates[59] + pd.Timedelta(weeks=52)]})
    assert change_features(history, late, IntervalParams())["change_last_year"][0] == pytest.approx(
        np.mean(np.abs(np.diff(sales[56:60])))
    )


def test_a_fitted_scale_follows_what_the_series_scale_misses():
    """Errors proportional to the series' recent weekly change, which its 52-week scale does not
    see: with scale_fit each half (calm, volatile) covers near nominal and the interval score
    falls; with the series' scale alone the calm rows over-cover and the volatile ones under."""
    rng = np.random.default_rng(11)

    def rows(n):
        scale = np.exp(rng.uniform(np.log(10), np.log(10_000), n))
        recent = scale * np.exp(rng.normal(0, 0.7, n))
        frame = pd.DataFrame(
            {
                "actual": 0.0,
                "model": rng.normal(0, 1, n) * recent,
                "scale": scale,
                "floor": -np.inf,
                "step": rng.integers(1, 14, n),
                "date": pd.Timestamp("2011-06-03"),
                "is_holiday": False,
                "last_year": True,
                "change_last_year": np.nan,
                "change_recent": recent,
            }
        )
        return frame, recent / scale

    calibration, _ = rows(30_000)
    test, ratio = rows(30_000)
    volatile = ratio > 1
    scores = {}
    for fit in (True, False):
        params = IntervalParams(scale_fit=fit, step_bucket_weeks=13)
        model = calibrate_frame(calibration, "model", params, 13)
        assert (model.scale_coef is not None) == fit
        values = apply_frame(model, test, "model").to_numpy()
        inside = (test["actual"] >= values[:, 1]) & (test["actual"] <= values[:, 3])
        scores[fit] = score_intervals(test, values, params.quantiles, params.levels, ())[0]
        calm, wild = inside[~volatile].mean(), inside[volatile].mean()
        if fit:
            assert abs(calm - 0.8) < 0.03 and abs(wild - 0.8) < 0.03, (calm, wild)
            # the regression found the recent change's elasticity (about 1)
            assert model.scale_coef[4] == pytest.approx(1.0, abs=0.1)
            again = IntervalModel.from_dict(model.as_dict())
            np.testing.assert_allclose(apply_frame(again, test, "model").to_numpy(), values)
        else:
            assert calm > 0.9 and wild < 0.7, (calm, wild)
    assert scores[True]["80"]["interval_score"] < 0.85 * scores[False]["80"]["interval_score"]
    # the rows need the features a fitted scale reads
    with pytest.raises(ValueError, match="scale_fit"):
        model = calibrate_frame(calibration, "model", IntervalParams(scale_fit=True), 13)
        apply_frame(model, test.drop(columns=["change_recent"]), "model")


def test_a_model_pickled_before_the_last_year_split_and_the_fitted_scale_still_applies():
    model = _one_step_model()
    old = IntervalModel.__new__(IntervalModel)
    old.__setstate__({k: v for k, v in model.__dict__.items() if k not in ("young", "scale_coef")})
    assert old.young is None and old.scale_coef is None
    np.testing.assert_allclose(
        old.apply(np.zeros(2), np.ones(2), np.ones(2), last_year=np.array([True, False])),
        model.apply(np.zeros(2), np.ones(2), np.ones(2)),
    )
    np.testing.assert_allclose(old.row_scale(np.array([3.0])), [3.0])


def test_the_pyfunc_path_gives_the_pipelines_quantiles(noisy_panel):
    """IntervalModel.forecast_frame (what the registered champion calls with its History) reads
    the same scale, floor, last-year flag and fitted-scale features as attach_scales + apply_frame
    (what forecast_intervals does), so serving and the test window agree."""
    params = IntervalParams(min_bucket_rows=50, scale_fit=True, by_last_year=True)
    weeks = np.sort(noisy_panel["date"].unique())
    calibration = backtest(noisy_panel, [pd.Timestamp(weeks[i]) for i in (80, 100, 120)], params)
    model = calibrate_frame(calibration, "model", params, HORIZON)
    assert model.scale_coef is not None
    cutoff = pd.Timestamp(weeks[150])
    test = backtest(noisy_panel, [cutoff], params)
    pipeline = apply_frame(model, test, "model", prefix="Weekly_Sales_q")
    history = History.from_panel(noisy_panel, cutoff)
    pyfunc = model.forecast_frame(
        history, test, test["model"].to_numpy(), test["step"].to_numpy(), prefix="Weekly_Sales_q"
    )
    pd.testing.assert_frame_equal(pyfunc.set_axis(test.index), pipeline)
