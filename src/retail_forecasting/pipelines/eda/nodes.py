"""Nodes of the ``eda`` pipeline: a summary table and a figure of the primary splits."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

logger = logging.getLogger(__name__)

SERIES = ["store", "dept"]
TARGET = "weekly_sales"
SALES_UNIT = 1e6  # figures show millions of USD


def _named_splits(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    splits = {"train": prm_train, "validation": prm_validation, "test": prm_test}
    for name, frame in splits.items():
        missing = [col for col in [*SERIES, "date", TARGET, "is_holiday"] if col not in frame]
        if missing:
            raise ValueError(f"prm_{name} is missing column(s) {missing}")
        if frame.empty:
            raise ValueError(f"prm_{name} is empty")
    return splits


def summarize_sales(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Summarise each split: size, coverage, total sales, negative sales, holiday weeks.

    Returns:
        One row per split with ``rows``, ``series`` (distinct store-dept pairs), ``weeks``
        (distinct dates), ``start``/``end`` (first/last week, ``YYYY-MM-DD``),
        ``total_sales``, ``negative_sales_rows`` and ``holiday_weeks`` (distinct dates).
    """
    summary = pd.DataFrame(
        [
            {
                "split": name,
                "rows": len(frame),
                "series": len(frame[SERIES].drop_duplicates()),
                "weeks": frame["date"].nunique(),
                "start": f"{frame['date'].min():%Y-%m-%d}",
                "end": f"{frame['date'].max():%Y-%m-%d}",
                "total_sales": float(frame[TARGET].sum()),
                "negative_sales_rows": int((frame[TARGET] < 0).sum()),
                "holiday_weeks": frame.loc[frame["is_holiday"].astype(bool), "date"].nunique(),
            }
            for name, frame in _named_splits(prm_train, prm_validation, prm_test).items()
        ]
    )
    logger.info("Sales summary:\n%s", summary.to_string(index=False))
    return summary


def plot_total_weekly_sales(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> Figure:
    """Plot total weekly sales over the whole history.

    Holiday weeks are marked with dots; the validation and test windows are shaded.
    """
    splits = _named_splits(prm_train, prm_validation, prm_test)
    history = pd.concat(splits.values(), ignore_index=True)
    totals = history.groupby("date")[TARGET].sum() / SALES_UNIT
    holiday_dates = history.loc[history["is_holiday"].astype(bool), "date"].unique()
    holidays = totals[totals.index.isin(holiday_dates)]

    fig, ax = plt.subplots(figsize=(12, 5))
    ax.plot(totals.index, totals.to_numpy(), color="black", linewidth=1.5, label="Total sales")
    ax.scatter(holidays.index, holidays.to_numpy(), color="red", zorder=3, label="Holiday week")
    half_week = pd.Timedelta(days=3.5)
    for name, color in (("validation", "tab:orange"), ("test", "tab:green")):
        dates = splits[name]["date"]
        ax.axvspan(
            dates.min() - half_week, dates.max() + half_week, color=color, alpha=0.15,
            label=f"{name.capitalize()} window",
        )
    ax.set_title("Total weekly sales, all stores and departments")
    ax.set_xlabel("Week ending (Friday)")
    ax.set_ylabel("Total weekly sales (million USD)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
