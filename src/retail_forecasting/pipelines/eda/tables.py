"""The dashboard tables of the ``eda`` pipeline: sales over time, holiday uplift, stores,
departments and store-week covariates. Each returns one ``rpt_eda_*`` table.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from retail_forecasting.forecasting.contract import TARGET
from retail_forecasting.pipelines.eda.common import (
    HOLIDAY_BY_MONTH,
    HOLIDAY_ORDER,
    MARKDOWN_TOTAL,
    PRE_CHRISTMAS,
    SALES_UNIT,
    EdaParameters,
    as_parameters,
    column_label,
    history_of,
    with_dates,
)

logger = logging.getLogger(__name__)


def aggregate_weekly_sales(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Total sales of every week, with its split, holiday and calendar position.

    Returns:
        ``rpt_eda_weekly_sales``: one row per week with ``date``, ``split``, ``total_sales``
        (USD), ``series`` (rows that week), ``is_holiday``, ``holiday`` (name or empty),
        ``iso_year``, ``iso_week``, ``christmas_season`` (the year of the Christmas a week
        belongs to: July-December of that year, January-June of the next) and
        ``days_from_christmas`` (week-ending Friday minus 25 December of that season).
    """
    history = history_of(prm_train, prm_validation, prm_test)
    weekly = (
        history.groupby("date")
        .agg(
            split=("split", "first"),
            total_sales=(TARGET, "sum"),
            series=(TARGET, "size"),
            is_holiday=("is_holiday", "max"),
        )
        .reset_index()
    )
    dates = weekly["date"]
    names = dates.dt.month.map(HOLIDAY_BY_MONTH).fillna("Holiday")
    weekly["is_holiday"] = weekly["is_holiday"].astype(bool)
    weekly["holiday"] = names.where(weekly["is_holiday"], "").astype(str)
    iso = dates.dt.isocalendar()
    weekly["iso_year"] = iso["year"].astype("int64")
    weekly["iso_week"] = iso["week"].astype("int64")
    season = dates.dt.year.where(dates.dt.month >= 7, dates.dt.year - 1)
    christmas = pd.to_datetime(pd.DataFrame({"year": season, "month": 12, "day": 25}))
    weekly["christmas_season"] = season.astype("int64")
    weekly["days_from_christmas"] = (dates - christmas).dt.days.astype("int64")
    logger.info(
        "Aggregated %d weeks (%d holiday weeks), total sales %.1f million USD",
        len(weekly),
        int(weekly["is_holiday"].sum()),
        weekly["total_sales"].sum() / SALES_UNIT,
    )
    return weekly


def compute_holiday_uplift(weekly_sales: pd.DataFrame) -> pd.DataFrame:
    """Sales of each holiday week relative to the median non-holiday week of its year.

    Also reports the week ending on the Friday 18-24 December (``Week before Christmas``):
    it is the real Christmas peak, whereas Kaggle flags the week that contains 25 December.

    Returns:
        ``rpt_eda_holiday_uplift``: one row per holiday week with ``holiday``, ``year``,
        ``date``, ``is_holiday`` (flagged by Kaggle), ``total_sales``, ``baseline_sales``
        (median total of the year's non-holiday weeks) and ``uplift_pct``.
    """
    weekly = with_dates(weekly_sales, "date")
    year = weekly["date"].dt.year
    baseline = weekly.loc[~weekly["is_holiday"]].groupby(year)["total_sales"].median()
    pre_christmas = (weekly["date"].dt.month == 12) & weekly["date"].dt.day.between(18, 24)
    rows = weekly.loc[weekly["is_holiday"] | pre_christmas].assign(
        holiday=lambda f: f["holiday"].where(f["is_holiday"], PRE_CHRISTMAS),
        year=lambda f: f["date"].dt.year,
    )
    rows["baseline_sales"] = rows["year"].map(baseline)
    rows["uplift_pct"] = 100.0 * (rows["total_sales"] / rows["baseline_sales"] - 1)
    order = {name: i for i, name in enumerate(HOLIDAY_ORDER)}
    table = (
        rows[
            ["holiday", "year", "date", "is_holiday", "total_sales", "baseline_sales", "uplift_pct"]
        ]
        .assign(_order=rows["holiday"].map(order).fillna(len(order)))
        .sort_values(["_order", "year"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    for name, group in table.groupby("holiday", sort=False):
        logger.info(
            "Holiday uplift %s: %s",
            name,
            ", ".join(f"{r.year} {r.uplift_pct:+.0f}%" for r in group.itertuples()),
        )
    return table


def profile_stores(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Size, type and sales of every store.

    Returns:
        ``rpt_eda_store_sales``: one row per store with ``store_type``, ``store_size``
        (square feet), ``departments``, ``weeks``, ``mean_weekly_sales`` (the store's total
        per week, averaged, USD) and ``total_sales``, sorted by store.
    """
    history = history_of(prm_train, prm_validation, prm_test, ["store_type", "store_size"])
    store_week = history.groupby(["store", "date"])[TARGET].sum()
    stores = history.groupby("store").agg(
        store_type=("store_type", "first"),
        store_size=("store_size", "first"),
        departments=("dept", "nunique"),
    )
    stores["weeks"] = store_week.groupby("store").size()
    stores["mean_weekly_sales"] = store_week.groupby("store").mean()
    stores["total_sales"] = store_week.groupby("store").sum()
    stores = stores.reset_index()
    logger.info(
        "Profiled %d stores: mean weekly sales by type %s (million USD)",
        len(stores),
        (stores.groupby("store_type")["mean_weekly_sales"].mean() / SALES_UNIT).round(2).to_dict(),
    )
    return stores


def rank_departments(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Rank the departments by their total sales over the whole history.

    Returns:
        ``rpt_eda_department_sales``: one row per department, ranked, with ``total_sales``,
        ``share_pct``, ``cumulative_share_pct``, ``stores`` (stores that sell it),
        ``mean_weekly_sales`` (per store-week with sales) and ``negative_weeks``.
    """
    history = history_of(prm_train, prm_validation, prm_test)
    departments = (
        history.assign(_negative=history[TARGET] < 0)
        .groupby("dept")
        .agg(
            total_sales=(TARGET, "sum"),
            stores=("store", "nunique"),
            mean_weekly_sales=(TARGET, "mean"),
            negative_weeks=("_negative", "sum"),
        )
        .sort_values("total_sales", ascending=False)
        .reset_index()
    )
    departments.insert(0, "rank", np.arange(1, len(departments) + 1))
    departments["share_pct"] = 100.0 * departments["total_sales"] / history[TARGET].sum()
    departments["cumulative_share_pct"] = departments["share_pct"].cumsum()
    top = departments.head(5)
    logger.info(
        "Ranked %d departments; top 5: %s",
        len(departments),
        ", ".join(f"{r.dept} ({r.share_pct:.1f}%)" for r in top.itertuples()),
    )
    return departments


def aggregate_store_weeks(
    prm_train: pd.DataFrame,
    prm_validation: pd.DataFrame,
    prm_test: pd.DataFrame,
    parameters: EdaParameters,
) -> pd.DataFrame:
    """One row per store and week: total sales, sales index and the store-week covariates.

    Returns:
        ``rpt_eda_store_weeks`` with ``store``, ``date``, ``store_type``, ``store_size``,
        ``is_holiday``, ``weekly_sales`` (the store's total, USD), ``sales_index`` (that total
        as a % of the store's mean week), the covariates and ``markdown_total`` (sum of the
        markdowns present; empty when none is).
    """
    params = as_parameters(parameters)
    history = history_of(
        prm_train, prm_validation, prm_test, ["store_type", "store_size", *params.covariates]
    )
    store_weeks = (
        history.groupby(["store", "date"])
        .agg(
            store_type=("store_type", "first"),
            store_size=("store_size", "first"),
            is_holiday=("is_holiday", "max"),
            weekly_sales=(TARGET, "sum"),
            **{c: (c, "first") for c in params.covariates},
        )
        .reset_index()
    )
    store_mean = store_weeks.groupby("store")["weekly_sales"].transform("mean")
    store_weeks.insert(6, "sales_index", 100.0 * store_weeks["weekly_sales"] / store_mean)
    if params.markdowns:
        store_weeks[MARKDOWN_TOTAL] = store_weeks[params.markdowns].sum(axis=1, min_count=1)
    logger.info(
        "Aggregated %d store-weeks with %d covariates", len(store_weeks), len(params.covariates)
    )
    return store_weeks


def _spearman(x: pd.Series, y: pd.Series) -> tuple[float, int]:
    pairs = pd.DataFrame({"x": x, "y": y}).dropna()
    if len(pairs) < 3 or pairs["x"].nunique() < 2 or pairs["y"].nunique() < 2:
        return float("nan"), len(pairs)
    ranks = pairs.rank()
    return float(np.corrcoef(ranks["x"], ranks["y"])[0, 1]), len(pairs)


def correlate_covariates(store_weeks: pd.DataFrame, parameters: EdaParameters) -> pd.DataFrame:
    """Spearman correlation of each covariate with store-week sales, across and within stores.

    ``across stores`` correlates the raw values, so store size dominates; ``within store``
    correlates the deviations of both from the store's own mean (sales: the sales index), which
    is what a model of a given store can use.

    Returns:
        ``rpt_eda_covariate_correlations``: one row per covariate with ``label``,
        ``store_weeks`` (pairs with both values), ``spearman_across_stores`` and
        ``spearman_within_store`` (empty for store size, constant within a store).
    """
    params = as_parameters(parameters)
    table = store_weeks.assign(is_holiday=store_weeks["is_holiday"].astype(float))
    columns = [c for c in params.covariates if c in table]
    columns += [c for c in (MARKDOWN_TOTAL, "store_size", "is_holiday") if c in table]
    rows = []
    for column in columns:
        across, n = _spearman(table[column], table["weekly_sales"])
        deviation = table[column] - table.groupby("store")[column].transform("mean")
        within, _ = _spearman(deviation, table["sales_index"])
        rows.append(
            {
                "covariate": column,
                "label": column_label(column),
                "store_weeks": n,
                "spearman_across_stores": across,
                "spearman_within_store": within,
            }
        )
    correlations = pd.DataFrame(rows)
    logger.info(
        "Covariate correlations with sales:\n%s", correlations.round(2).to_string(index=False)
    )
    return correlations
