"""The panel contract: one long frame, one row per (store, dept, week).

Columns and roles:

- series id: ``store``, ``dept``; time: ``date`` (the Friday ending the week); target:
  ``weekly_sales``;
- static covariates: ``store_type``, ``store_size`` (and the department itself);
- dynamic covariates, each **known in advance** (usable at the week being forecast) or
  **observed** (usable only up to the forecast origin). By default ``is_holiday`` and the
  markdowns are known in advance (the calendar, and promotions planned ahead — Kaggle's
  features.csv lists them for the forecast weeks), while temperature, fuel price, CPI and
  unemployment are observed. The tags are parameters (``feature_engineering.covariates``).

Missing weeks (Kaggle convention): inside a series' life — from its first row on — a week
without a row had no sales, so the target history treats it as 0. Before a series' first row
nothing is known (NaN). Forecasts are made and scored only for the rows that exist.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:
    import numpy as np

    from retail_forecasting.forecasting.history import History

logger = logging.getLogger(__name__)

ID_COLUMNS = ["store", "dept"]
TIME_COLUMN = "date"
#: one row of the panel: (store, dept, date)
KEYS = [*ID_COLUMNS, TIME_COLUMN]
TARGET = "weekly_sales"
STATIC_COLUMNS = ["store_type", "store_size"]
MARKDOWNS = [f"markdown{i}" for i in range(1, 6)]
#: the covariates only observed, not known in advance (the default ``observed`` role)
OBSERVED = ["temperature", "fuel_price", "cpi", "unemployment"]
DYNAMIC_COLUMNS = ["is_holiday", *MARKDOWNS, *OBSERVED]
PANEL_COLUMNS = [*ID_COLUMNS, TIME_COLUMN, TARGET, *STATIC_COLUMNS, *DYNAMIC_COLUMNS]
SPLITS = ("train", "validation", "test")


class Forecaster(Protocol):
    """Anything that forecasts: the history known at a cutoff and the rows to forecast (the
    panel's rows after the cutoff, without their target) -> one forecast per row, in order.

    Baselines, the statistical model, fitted learners and the ensemble all are Forecasters;
    :func:`retail_forecasting.forecasting.backtest.cross_validation` calls them at each cutoff.
    """

    def __call__(self, history: History, future: pd.DataFrame, /) -> np.ndarray: ...


class CovariateRoles(BaseModel):
    """Which dynamic covariates are known in advance and which are only observed."""

    model_config = ConfigDict(extra="forbid")

    known_in_advance: list[str] = ["is_holiday", *MARKDOWNS]
    observed: list[str] = list(OBSERVED)

    @model_validator(mode="after")
    def _check(self) -> CovariateRoles:
        both = set(self.known_in_advance) & set(self.observed)
        unknown = (set(self.known_in_advance) | set(self.observed)) - set(DYNAMIC_COLUMNS)
        if both:
            raise ValueError(
                f"covariates tagged both known_in_advance and observed: {sorted(both)}"
            )
        if unknown:
            raise ValueError(f"unknown covariates {sorted(unknown)}; choose from {DYNAMIC_COLUMNS}")
        return self


def build_panel(train: pd.DataFrame, validation: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Stack the chronological splits into the panel contract, with a ``split`` column.

    Raises ``ValueError`` on missing columns, duplicate (store, dept, date) keys or splits
    that overlap in time. Reports (logs) the weeks missing inside series' lives.
    """
    parts = []
    for name, frame in zip(SPLITS, (train, validation, test), strict=True):
        missing = [c for c in PANEL_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} split lacks column(s) {missing}")
        parts.append(frame[PANEL_COLUMNS].assign(split=name))
    for earlier, later in ((train, validation), (validation, test)):
        if len(earlier) and len(later) and earlier[TIME_COLUMN].max() >= later[TIME_COLUMN].min():
            raise ValueError("splits overlap in time: each split must end before the next starts")
    panel = pd.concat(parts, ignore_index=True)
    panel[TIME_COLUMN] = pd.to_datetime(panel[TIME_COLUMN]).astype("datetime64[ns]")
    keys = [*ID_COLUMNS, TIME_COLUMN]
    duplicated = panel.duplicated(keys, keep=False)
    if duplicated.any():
        example = panel.loc[duplicated, keys].head(3).to_dict("records")
        raise ValueError(f"duplicate (store, dept, date) rows in the panel, e.g. {example}")
    panel["split"] = pd.Categorical(panel["split"], categories=list(SPLITS))
    panel = panel.sort_values(keys, ignore_index=True)
    report_gaps(panel)
    return panel


def report_gaps(panel: pd.DataFrame) -> pd.DataFrame:
    """Per series: first and last week, rows and weeks missing inside its life (logged)."""
    weeks = (panel[TIME_COLUMN] - panel[TIME_COLUMN].min()).dt.days // 7
    stats = (
        panel.assign(_week=weeks)
        .groupby(ID_COLUMNS, observed=True)["_week"]
        .agg(first="min", last="max", rows="size")
    )
    stats["missing_weeks"] = stats["last"] - stats["first"] + 1 - stats["rows"]
    logger.info(
        "Panel: %d rows, %d series, %d weeks; %d series have gaps (%d missing weeks in total, "
        "treated as zero sales)",
        len(panel),
        len(stats),
        int(weeks.max()) + 1 if len(panel) else 0,
        int((stats["missing_weeks"] > 0).sum()),
        int(stats["missing_weeks"].sum()),
    )
    return stats
