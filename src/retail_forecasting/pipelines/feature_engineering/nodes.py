"""Nodes of the ``feature_engineering`` pipeline: one long feature frame for all splits.

The frame has one row per (store, dept, week) of the train, validation and test splits, the
target ``weekly_sales``, the ``split`` the row belongs to, and the declared features:

* calendar: ``week_of_year`` (ISO week), ``month``, ``year``;
* target lags ``lag_<k>``: the series' sales exactly ``k`` weeks earlier (NaN when that week
  has no row). Every lag must be at least the forecast horizon, so no feature of a row in a
  forecast window can see a target inside that window;
* static: ``store_type_code`` (A=0, B=1, C=2, unknown=-1), ``store_size``, ``dept``;
* ``is_holiday``.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)

KEYS = ["store", "dept", "date"]
TARGET = "weekly_sales"
SPLITS = ("train", "validation", "test")
STORE_TYPES = ("A", "B", "C")
REQUIRED_COLUMNS = [*KEYS, TARGET, "is_holiday", "store_type", "store_size"]
CALENDAR_FEATURES = ["week_of_year", "month", "year"]
STATIC_FEATURES = ["store_type_code", "store_size", "is_holiday"]  # and ``dept``, a key


def lag_column(lag: int) -> str:
    """Name of the feature holding the target ``lag`` weeks earlier (``lag_52``)."""
    return f"lag_{lag}"


def _validate_lags(lags: Any, horizon_weeks: int) -> list[int]:
    if not isinstance(horizon_weeks, int) or isinstance(horizon_weeks, bool) or horizon_weeks < 1:
        raise ValueError(f"horizon_weeks must be a positive integer, got {horizon_weeks!r}")
    if not isinstance(lags, list) or not lags:
        raise ValueError(f"feature_engineering.lags must be a non-empty list, got {lags!r}")
    for lag in lags:
        if not isinstance(lag, int) or isinstance(lag, bool) or lag < 1:
            raise ValueError(f"feature_engineering.lags must hold positive integers, got {lag!r}")
    too_short = sorted(lag for lag in lags if lag < horizon_weeks)
    if too_short:
        raise ValueError(
            f"feature_engineering.lags {too_short} are shorter than horizon_weeks="
            f"{horizon_weeks}: such a lag would read targets inside the forecast window "
            "(leakage). Use lags >= horizon_weeks."
        )
    return sorted(set(lags))


def _stack_splits(prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame):
    frames = {"train": prm_train, "validation": prm_validation, "test": prm_test}
    for split, frame in frames.items():
        missing = [col for col in REQUIRED_COLUMNS if col not in frame.columns]
        if missing:
            raise ValueError(f"prm_{split} is missing column(s) {missing}")
        if frame.empty:
            raise ValueError(f"prm_{split} is empty")
    if prm_train["date"].max() >= prm_validation["date"].min():
        raise ValueError("prm_train overlaps prm_validation: splits must be chronological")
    if prm_validation["date"].max() >= prm_test["date"].min():
        raise ValueError("prm_validation overlaps prm_test: splits must be chronological")
    panel = pd.concat(
        [frame[REQUIRED_COLUMNS].assign(split=split) for split, frame in frames.items()],
        ignore_index=True,
    )
    duplicated = panel.duplicated(KEYS)
    if duplicated.any():
        example = panel.loc[duplicated, KEYS].iloc[0].to_dict()
        raise ValueError(
            f"{int(duplicated.sum())} duplicated (store, dept, date) row(s), e.g. {example}"
        )
    return panel


def build_features(
    prm_train: pd.DataFrame,
    prm_validation: pd.DataFrame,
    prm_test: pd.DataFrame,
    horizon_weeks: int,
    parameters: dict[str, Any],
) -> pd.DataFrame:
    """Stack the three splits into one long frame with calendar, lag and static features.

    Lags are computed per series by matching the exact date ``k`` weeks earlier (a merge on
    ``(store, dept, date - 7k days)``), not by a positional shift: series have gaps, and a
    missing week gives a NaN lag instead of the sales of another week.

    Args:
        prm_train: Training split, one row per (store, dept, date).
        prm_validation: Validation split (the weeks just before the test window).
        prm_test: Test split (the last ``horizon_weeks`` weeks).
        horizon_weeks: Forecast horizon in weeks.
        parameters: ``feature_engineering`` parameters; ``lags`` lists the target lags.

    Returns:
        One frame sorted by store, dept, date with ``split``, the target and the features.

    Raises:
        ValueError: If a lag is shorter than ``horizon_weeks`` (leakage guard), a column is
            missing, splits overlap in time, or a (store, dept, date) is duplicated.
    """
    lags = _validate_lags(parameters.get("lags"), horizon_weeks)
    panel = _stack_splits(prm_train, prm_validation, prm_test)

    for split in ("validation", "test"):
        n_weeks = panel.loc[panel["split"] == split, "date"].nunique()
        if n_weeks > min(lags):
            logger.warning(
                "The %s window has %d weeks, more than the shortest lag (%d): the lag features "
                "of its last weeks see targets inside the window",
                split,
                n_weeks,
                min(lags),
            )

    dates = panel["date"]
    store_types = pd.Categorical(panel["store_type"], categories=STORE_TYPES)
    if (store_types.codes == -1).any():
        unknown = sorted(set(panel.loc[store_types.codes == -1, "store_type"].astype(str)))
        logger.warning("Store types %s are not in %s: coded -1", unknown, STORE_TYPES)
    features = panel.assign(
        week_of_year=dates.dt.isocalendar().week.astype("int64"),
        month=dates.dt.month.astype("int64"),
        year=dates.dt.year.astype("int64"),
        store_type_code=store_types.codes.astype("int64"),
        is_holiday=panel["is_holiday"].astype(bool),
    )

    history = panel[[*KEYS, TARGET]]
    for lag in lags:
        lagged = history.assign(date=history["date"] + pd.Timedelta(weeks=lag)).rename(
            columns={TARGET: lag_column(lag)}
        )
        features = features.merge(lagged, on=KEYS, how="left", validate="one_to_one")

    lag_columns = [lag_column(lag) for lag in lags]
    columns = [*KEYS, "split", TARGET, *CALENDAR_FEATURES, *lag_columns, *STATIC_FEATURES]
    features = features[columns].sort_values(KEYS, ignore_index=True)
    logger.info(
        "Built %d feature rows (%s) with lags %s",
        len(features),
        features["split"].value_counts().reindex(SPLITS).to_dict(),
        lags,
    )
    return features
