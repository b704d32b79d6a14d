"""Unit tests of the ``feature_engineering`` nodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.pipelines.feature_engineering.nodes import build_features

START = pd.Timestamp("2010-01-01")  # a Friday in ISO week 53 of 2009


def tiny_splits() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Two series over 60 weeks; (1, 1) sells 10 * week and misses week 6,
    (1, 2) sells 1000 + week. Train = weeks 0-51, validation = 52-55, test = 56-59."""
    rows = []
    for week in range(60):
        date = START + pd.Timedelta(weeks=week)
        if week != 6:
            rows.append({"store": 1, "dept": 1, "date": date, "weekly_sales": 10.0 * week})
        rows.append({"store": 1, "dept": 2, "date": date, "weekly_sales": 1000.0 + week})
    panel = pd.DataFrame(rows).assign(
        is_holiday=lambda f: f["date"] == START + pd.Timedelta(weeks=1),
        store_type="B",
        store_size=100,
    )
    panel = panel.sort_values(["store", "dept", "date"], ignore_index=True)
    week = (panel["date"] - START).dt.days // 7
    return (
        panel[week <= 51].reset_index(drop=True),
        panel[(week >= 52) & (week <= 55)].reset_index(drop=True),
        panel[week >= 56].reset_index(drop=True),
    )


def row(features: pd.DataFrame, dept: int, week: int) -> pd.Series:
    selected = features[
        (features["dept"] == dept) & (features["date"] == START + pd.Timedelta(weeks=week))
    ]
    assert len(selected) == 1
    return selected.iloc[0]


def test_lag_is_the_sales_of_the_exact_week_52_weeks_earlier():
    features = build_features(*tiny_splits(), 4, {"lags": [52]})
    # (1, 1) week 57 -> week 5 sold 50. A positional shift would give week 4 (40),
    # because week 6 is missing from the series.
    assert row(features, dept=1, week=57)["lag_52"] == 50.0
    assert row(features, dept=1, week=59)["lag_52"] == 70.0
    assert row(features, dept=1, week=53)["lag_52"] == 10.0
    # the other series is not affected by the gap: week 58 -> week 6 sold 1006
    assert row(features, dept=2, week=58)["lag_52"] == 1006.0


def test_lag_is_nan_when_the_week_52_weeks_back_has_no_row():
    features = build_features(*tiny_splits(), 4, {"lags": [52]})
    assert np.isnan(row(features, dept=1, week=58)["lag_52"])  # week 6 is a gap
    train = features[features["split"] == "train"]
    assert train["lag_52"].isna().all()  # no history 52 weeks before any train week


def test_calendar_static_and_split_columns():
    features = build_features(*tiny_splits(), 4, {"lags": [52]})
    first = row(features, dept=1, week=0)
    assert (first["week_of_year"], first["month"], first["year"]) == (53, 1, 2010)
    second = row(features, dept=1, week=1)
    assert (second["week_of_year"], second["is_holiday"]) == (1, True)
    assert (features["store_type_code"] == 1).all()  # B
    assert (features["store_size"] == 100).all()
    assert features.groupby("split").size().to_dict() == {"train": 103, "validation": 8, "test": 8}
    keys = features[["store", "dept", "date"]]
    assert keys.equals(keys.sort_values(["store", "dept", "date"], ignore_index=True))


def test_store_types_map_to_fixed_codes(features, panel):
    codes = features.groupby("store")["store_type_code"].unique().map(list).to_dict()
    assert codes == {1: [0], 2: [1], 3: [2]}  # A, B, C
    assert len(features) == len(panel)


def test_several_lags_give_one_column_each():
    features = build_features(*tiny_splits(), 4, {"lags": [53, 52]})
    assert row(features, dept=2, week=59)[["lag_52", "lag_53"]].tolist() == [1007.0, 1006.0]


@pytest.mark.parametrize("lags", [[38], [52, 1]])
def test_lag_shorter_than_the_horizon_is_refused(splits, horizon_weeks, lags):
    with pytest.raises(ValueError, match="shorter than horizon_weeks=39"):
        build_features(*splits.values(), horizon_weeks, {"lags": lags})


@pytest.mark.parametrize("lags", [None, [], [0], ["52"], 52])
def test_malformed_lags_are_refused(splits, horizon_weeks, lags):
    with pytest.raises(ValueError, match="feature_engineering.lags"):
        build_features(*splits.values(), horizon_weeks, {"lags": lags})


def test_overlapping_splits_are_refused(splits, horizon_weeks):
    train = pd.concat([splits["prm_train"], splits["prm_validation"].head(1)])
    with pytest.raises(ValueError, match="overlaps"):
        build_features(
            train, splits["prm_validation"], splits["prm_test"], horizon_weeks, {"lags": [52]}
        )


def test_duplicated_rows_are_refused(splits, horizon_weeks):
    test = pd.concat([splits["prm_test"], splits["prm_test"].tail(1)])
    with pytest.raises(ValueError, match="1 duplicated"):
        build_features(
            splits["prm_train"], splits["prm_validation"], test, horizon_weeks, {"lags": [52]}
        )


def test_missing_column_is_named(splits, horizon_weeks):
    with pytest.raises(ValueError, match=r"prm_validation is missing column\(s\) \['store_size'\]"):
        build_features(
            splits["prm_train"],
            splits["prm_validation"].drop(columns="store_size"),
            splits["prm_test"],
            horizon_weeks,
            {"lags": [52]},
        )


def _test_features_change_when_test_targets_change(splits, horizon_weeks, lags) -> bool:
    """Build features twice, the second time with every test target changed; report whether
    any feature of any test row differs."""
    before = build_features(*splits.values(), horizon_weeks, {"lags": lags})
    perturbed_test = splits["prm_test"].assign(weekly_sales=lambda f: f["weekly_sales"] * 7 + 1e6)
    after = build_features(
        splits["prm_train"], splits["prm_validation"], perturbed_test, horizon_weeks, {"lags": lags}
    )
    feature_columns = [col for col in before.columns if col != "weekly_sales"]
    is_test = before["split"] == "test"
    assert (after.loc[is_test, "weekly_sales"] != before.loc[is_test, "weekly_sales"]).all()
    return not before.loc[is_test, feature_columns].equals(after.loc[is_test, feature_columns])


def test_no_feature_of_a_test_row_sees_a_test_target(splits, horizon_weeks, feature_parameters):
    assert not _test_features_change_when_test_targets_change(
        splits, horizon_weeks, feature_parameters["lags"]
    )


def test_the_leakage_check_detects_a_leaking_lag(splits):
    # horizon 1 allows lag 1, whose test rows read the previous (test) week: the check must see it
    assert _test_features_change_when_test_targets_change(splits, 1, [1])
