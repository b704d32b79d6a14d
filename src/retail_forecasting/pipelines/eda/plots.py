"""The figures of the ``eda`` pipeline: each ``plot_*`` function draws one figure from one
``rpt_eda_*`` table only, so the CSV written next to every figure is exactly the data behind it.

Tables may come back from CSV, so these functions parse their date columns themselves. Amounts
are in USD as in the Kaggle data; figures show millions (or thousands) of USD.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from retail_forecasting.pipelines.eda.common import (
    HOLIDAY_COLORS,
    HOLIDAY_ORDER,
    MARKDOWN_TOTAL,
    PRE_CHRISTMAS,
    SALES_UNIT,
    EdaParameters,
    as_parameters,
    column_label,
    with_dates,
)
from retail_forecasting.pipelines.eda.quality import format_percent

# Figures are only saved (MatplotlibDataset), never shown: no GUI backend, also headless.
matplotlib.use("Agg")


def _year_color(year: int) -> str:
    """The same colour for a year in every figure."""
    return plt.cm.tab10(int(year) % 10)


def _finish(fig: Figure, ax_or_axes, title: str | None = None) -> Figure:
    for ax in np.atleast_1d(ax_or_axes):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


def _holiday_points(ax, weekly: pd.DataFrame, x: str, y: pd.Series, **kwargs) -> None:
    for name in [h for h in HOLIDAY_COLORS if h in set(weekly["holiday"])]:
        mask = weekly["holiday"] == name
        ax.scatter(
            weekly.loc[mask, x], y[mask], color=HOLIDAY_COLORS[name], zorder=3, label=name, **kwargs
        )


def _circle_flagged(ax, x: pd.Series, y: pd.Series, size: float, label: str | None) -> None:
    """Weeks flagged ``IsHoliday`` in the data: open red circles around their points."""
    ax.scatter(x, y, facecolors="none", edgecolors="red", s=size, zorder=3, label=label)


def plot_missing_covariates(missing_covariates: pd.DataFrame) -> Figure:
    """Heatmap of the share of store-weeks without a value, per covariate and period."""
    table = missing_covariates
    grid = table.pivot(index="covariate", columns="period", values="missing_pct")
    grid = grid.loc[table["covariate"].drop_duplicates(), sorted(table["period"].unique())]

    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * grid.shape[1] + 3), 0.45 * len(grid) + 2.2))
    image = ax.imshow(grid.to_numpy(), cmap="Reds", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(grid)), [column_label(c) for c in grid.index])
    if grid.size <= 400:
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    format_percent(value),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 60 else "black",
                )
    fig.colorbar(image, ax=ax, label="Store-weeks without a value (%)", fraction=0.03)
    ax.set_title("Missing covariates by period (share of store-weeks, %)")
    ax.set_xlabel("Period")
    fig.tight_layout()
    return fig


def plot_series_profile(series_profile: pd.DataFrame) -> Figure:
    """Histograms of the series' length (observed weeks) and scale (mean weekly sales)."""
    profile = series_profile
    weeks = profile["weeks_observed"]
    full = int(weeks.max())
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))

    # one bin for the complete series, bins of about 3 weeks below
    bins = np.append(np.arange(0.5, full - 0.5, max(1, full // 48)), [full - 0.5, full + 0.5])
    left.hist(weeks, bins=bins, color="tab:blue", edgecolor="white")
    left.set_yscale("log")
    complete = int((weeks == full).sum())
    left.set_title(f"Length: {complete:,} of {len(profile):,} series have all {full} weeks")
    left.set_xlabel("Weeks with sales per series")
    left.set_ylabel("Number of series (log scale)")

    scale = profile["mean_weekly_sales"]
    positive = scale[scale >= 1]
    if len(positive):
        bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
        right.hist(positive, bins=bins, color="tab:green", edgecolor="white")
        right.set_xscale("log")
        right.axvline(
            scale.median(),
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"median {scale.median():,.0f} USD",
        )
    dropped = len(scale) - len(positive)
    if dropped:
        right.plot([], [], " ", label=f"{dropped} series below 1 USD not shown")
    right.legend(loc="upper left", fontsize=9)
    right.set_title("Scale: mean weekly sales per series")
    right.set_xlabel("Mean weekly sales (USD, log scale)")
    right.set_ylabel("Number of series")
    return _finish(fig, (left, right), "Distribution of series length and scale")


def plot_total_weekly_sales(weekly_sales: pd.DataFrame) -> Figure:
    """Plot total weekly sales over the whole history (``rpt_eda_weekly_sales``).

    Holiday weeks are dots coloured by holiday; the validation and test windows are shaded.
    """
    weekly = with_dates(weekly_sales, "date").sort_values("date")
    totals = weekly["total_sales"] / SALES_UNIT

    fig, ax = plt.subplots(figsize=(12, 5))
    ax.plot(weekly["date"], totals, color="black", linewidth=1.5, label="Total sales")
    _holiday_points(ax, weekly, "date", totals, s=30)
    half_week = pd.Timedelta(days=3.5)
    for name, color in (("validation", "tab:orange"), ("test", "tab:green")):
        dates = weekly.loc[weekly["split"] == name, "date"]
        if len(dates):
            ax.axvspan(
                dates.min() - half_week,
                dates.max() + half_week,
                color=color,
                alpha=0.12,
                label=f"{name.capitalize()} window",
            )
    ax.set_title("Total weekly sales, all stores and departments")
    ax.set_xlabel("Week ending (Friday)")
    ax.set_ylabel("Total weekly sales (million USD)")
    ax.legend(loc="upper left", ncols=2, fontsize=9)
    fig.autofmt_xdate()
    return _finish(fig, ax)


def plot_yearly_overlay(weekly_sales: pd.DataFrame) -> Figure:
    """Overlay the years: by ISO week (left) and around Christmas by day (right).

    The right panel places each week-ending Friday at its distance from 25 December: the
    weekly grid shifts by a day or two each year, so the pre-Christmas peak week ends on a
    different day (24 Dec 2010, 23 Dec 2011) and part of Christmas shopping moves into the
    next (holiday-flagged) week.
    """
    weekly = with_dates(weekly_sales, "date").sort_values("date")
    weekly = weekly.assign(total=weekly["total_sales"] / SALES_UNIT)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    for year, group in weekly.groupby("iso_year"):
        left.plot(
            group["iso_week"],
            group["total"],
            color=_year_color(year),
            linewidth=1.6,
            label=str(year),
        )
    holidays = weekly.loc[weekly["is_holiday"]]
    _circle_flagged(left, holidays["iso_week"], holidays["total"], 60, "Holiday week (flagged)")
    left.set_xlim(0.5, 53.5)
    left.set_xticks([1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 52])
    left.set_xlabel("ISO week of the year")
    left.set_ylabel("Total weekly sales (million USD)")
    left.set_title("Every year by week of the year")
    left.legend(loc="upper left", fontsize=9)

    window = weekly.loc[weekly["days_from_christmas"].between(-45, 16)]
    seasons = [s for s, g in window.groupby("christmas_season") if len(g) >= 5]
    for season in seasons:
        group = window.loc[window["christmas_season"] == season]
        peak = group.loc[group["total"].idxmax()]
        right.plot(
            group["days_from_christmas"],
            group["total"],
            marker="o",
            color=_year_color(season),
            label=f"{season}: peak week ends {peak['date']:%a %d %b} "
            f"({int(peak['days_from_christmas'])} d), {peak['total']:.1f}M",
        )
        flagged = group.loc[group["holiday"] == "Christmas"]
        label = "Christmas holiday week (flagged)" if season == seasons[0] else None
        _circle_flagged(right, flagged["days_from_christmas"], flagged["total"], 90, label)
    right.axvline(0, color="red", linestyle="--", linewidth=1, label="25 December")
    right.set_xlabel("Week-ending Friday, days from Christmas Day")
    right.set_ylabel("Total weekly sales (million USD)")
    right.set_title("Christmas season, week by week")
    right.legend(loc="upper left", fontsize=8)
    return _finish(
        fig, (left, right), "Year over year: the Christmas peak moves with the weekly calendar"
    )


def plot_holiday_uplift(holiday_uplift: pd.DataFrame) -> Figure:
    """Grouped bars: uplift of each holiday week over the year's median week, one bar a year."""
    table = holiday_uplift
    holidays = [h for h in HOLIDAY_ORDER if h in set(table["holiday"])]
    holidays += [h for h in table["holiday"].drop_duplicates() if h not in holidays]
    years = sorted(table["year"].unique())
    width = 0.8 / max(1, len(years))

    fig, ax = plt.subplots(figsize=(11, 5.2))
    for k, year in enumerate(years):
        rows = table.loc[table["year"] == year].set_index("holiday").reindex(holidays)
        x = np.arange(len(holidays)) + (k - (len(years) - 1) / 2) * width
        bars = ax.bar(x, rows["uplift_pct"], width=width, color=_year_color(year), label=str(year))
        ax.bar_label(
            bars,
            labels=[f"{v:+.0f}%" if np.isfinite(v) else "" for v in rows["uplift_pct"]],
            fontsize=8,
            padding=2,
        )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(
        np.arange(len(holidays)),
        [f"{h}\n(not flagged)" if h == PRE_CHRISTMAS else f"{h}\n(holiday week)" for h in holidays],
    )
    ax.set_xlabel("Holiday week, one bar per year")
    ax.set_ylabel("Total sales vs the year's median week (%)")
    ax.set_title("Holiday uplift: total sales of the week vs the median non-holiday week")
    ax.legend(title="Year", loc="upper left")
    ax.margins(y=0.15)
    fig.text(
        0.01,
        0.01,
        "Kaggle's Christmas holiday is the week that contains 25 December, "
        "after the shopping peak.",
        fontsize=8,
        color="dimgray",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_store_sales(store_sales: pd.DataFrame) -> Figure:
    """Store sales by type (box plot) and by size (scatter), from ``rpt_eda_store_sales``."""
    stores = store_sales.assign(
        sales=store_sales["mean_weekly_sales"] / SALES_UNIT,
        size=store_sales["store_size"] / 1e3,
        store_type=store_sales["store_type"].astype(str),
    )
    types = sorted(stores["store_type"].unique())
    colors = dict(
        zip(types, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"], strict=False)
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))

    groups = [stores.loc[stores["store_type"] == t, "sales"] for t in types]
    left.boxplot(groups, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for i, (t, values) in enumerate(zip(types, groups, strict=True), start=1):
        left.scatter(
            i + rng.uniform(-0.12, 0.12, len(values)),
            values,
            color=colors[t],
            alpha=0.8,
            s=22,
            zorder=3,
        )
    left.set_xticks(
        range(1, len(types) + 1),
        [f"Type {t}\n({len(g)} stores)" for t, g in zip(types, groups, strict=True)],
    )
    left.set_ylabel("Mean weekly sales per store (million USD)")
    left.set_title("By store type")

    for t in types:
        rows = stores.loc[stores["store_type"] == t]
        right.scatter(
            rows["size"], rows["sales"], color=colors[t], s=30, alpha=0.85, label=f"Type {t}"
        )
    right.set_xlabel("Store size (thousand sq ft)")
    right.set_ylabel("Mean weekly sales per store (million USD)")
    right.set_title("By store size")
    right.legend(loc="upper left")
    return _finish(fig, (left, right), "Store sales by type and size")


def plot_top_departments(department_sales: pd.DataFrame, parameters: EdaParameters) -> Figure:
    """Horizontal bars of the ``top_departments`` largest departments by total sales."""
    n = as_parameters(parameters).top_departments
    top = department_sales.sort_values("rank").head(n).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(top) + 1.8))
    bars = ax.barh(
        [f"Dept {d}" for d in top["dept"]], top["total_sales"] / SALES_UNIT, color="tab:blue"
    )
    ax.bar_label(bars, labels=[f"{s:.1f}%" for s in top["share_pct"]], padding=3, fontsize=8)
    ax.set_xlabel("Total sales over the history (million USD); labels: share of all sales")
    ax.margins(x=0.1)
    covered = float(top["share_pct"].sum())
    ax.set_title(
        f"Top {len(top)} of {len(department_sales)} departments by total sales: "
        f"{covered:.0f}% of all sales"
    )
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_markdowns_vs_sales(store_weeks: pd.DataFrame) -> Figure:
    """Markdowns against sales: weekly totals over time (left), store-weeks (right).

    Markdowns only exist from November 2011 in the Kaggle data; both panels start there.
    """
    table = with_dates(store_weeks, "date")
    markdowns = [c for c in table.columns if c.startswith("markdown") and c != MARKDOWN_TOTAL]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.5, 1]}
    )
    has_any = table[markdowns].notna().any(axis=1) if markdowns else pd.Series(False, table.index)
    if not has_any.any():
        for ax in (left, right):
            ax.text(
                0.5,
                0.5,
                "No markdown values in the data",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        return _finish(fig, (left, right), "Markdowns and sales")

    since = table.loc[has_any, "date"].min()
    recent = table.loc[table["date"] >= since]
    weekly = recent.groupby("date")[[*markdowns, "weekly_sales"]].sum(min_count=1)
    bottom = np.zeros(len(weekly))
    colors = plt.cm.tab10(np.arange(len(markdowns)))
    for color, column in zip(colors, markdowns, strict=True):
        values = weekly[column].fillna(0).to_numpy() / SALES_UNIT
        left.bar(
            weekly.index, values, bottom=bottom, width=5, color=color, label=column_label(column)
        )
        bottom += values
    left.set_ylabel("Markdowns, all stores (million USD)")
    left.set_xlabel("Week ending (Friday)")
    sales_axis = left.twinx()
    sales_axis.plot(
        weekly.index,
        weekly["weekly_sales"] / SALES_UNIT,
        color="black",
        linewidth=1.5,
        label="Total sales (right axis)",
    )
    sales_axis.set_ylabel("Total weekly sales (million USD)")
    handles, labels = left.get_legend_handles_labels()
    more_handles, more_labels = sales_axis.get_legend_handles_labels()
    left.legend(
        handles + more_handles,
        labels + more_labels,
        loc="upper center",
        fontsize=8,
        ncols=3,
        bbox_to_anchor=(0.5, -0.2),
        frameon=False,
    )
    left.set_title(f"Weekly totals since markdowns start ({since:%d %b %Y})")
    for label in left.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")

    points = recent.loc[recent[MARKDOWN_TOTAL] > 0] if MARKDOWN_TOTAL in recent else recent.head(0)
    for holiday, color, label in (
        (False, "tab:blue", "Other weeks"),
        (True, "tab:red", "Holiday weeks"),
    ):
        rows = points.loc[points["is_holiday"].astype(bool) == holiday]
        right.scatter(
            rows[MARKDOWN_TOTAL] / 1e3,
            rows["sales_index"],
            s=8,
            alpha=0.35,
            color=color,
            label=label,
        )
    if len(points) >= 20:
        bins = pd.qcut(np.log10(points[MARKDOWN_TOTAL]), 10, duplicates="drop")
        binned = points.groupby(bins, observed=True).agg(
            x=(MARKDOWN_TOTAL, "median"), y=("sales_index", "median")
        )
        right.plot(
            binned["x"] / 1e3,
            binned["y"],
            color="black",
            marker="o",
            label="Median per markdown decile",
        )
    right.set_xscale("log")
    right.axhline(100, color="gray", linestyle=":", linewidth=1)
    right.set_xlabel("Markdowns of the store-week (thousand USD, log scale)")
    right.set_ylabel("Store's weekly sales (% of its mean week)")
    right.set_title("Store-weeks: sales index against markdowns")
    right.legend(loc="upper left", fontsize=8)
    return _finish(fig, (left, right), "Markdowns vs sales")


def plot_covariate_correlations(covariate_correlations: pd.DataFrame) -> Figure:
    """Horizontal bars: each covariate's correlation with sales, across and within stores."""
    table = covariate_correlations.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(table) + 2))
    for offset, column, color, label in (
        (0.2, "spearman_across_stores", "tab:gray", "Across stores (raw store-week sales)"),
        (
            -0.2,
            "spearman_within_store",
            "tab:blue",
            "Within store (deviation from the store's mean)",
        ),
    ):
        values = table[column].astype(float)
        bars = ax.barh(y + offset, values.fillna(0), height=0.38, color=color, label=label)
        ax.bar_label(
            bars,
            labels=[f"{v:+.2f}" if np.isfinite(v) else "n/a" for v in values],
            padding=3,
            fontsize=8,
        )
    ax.set_yticks(
        y, [f"{lbl} (n={n:,})" for lbl, n in zip(table["label"], table["store_weeks"], strict=True)]
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("Spearman correlation with the store's weekly sales")
    ax.set_title("Correlation of the covariates with weekly sales (store-weeks)")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
