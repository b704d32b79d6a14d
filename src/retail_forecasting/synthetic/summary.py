"""Statistics used to compare a synthetic and a real bundle (``docs/synthetic_data.md``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS


def summarize(
    train_df: pd.DataFrame,
    features_df: pd.DataFrame,
    stores_df: pd.DataFrame,
    markdown_split: str = "2011-11-01",
) -> dict[str, Any]:
    """Statistics used to compare a (synthetic or real) Walmart bundle with another.

    * series: distinct (Store, Dept); complete = has a row in every week present in train;
      coverage = series / (stores in train x depts in train);
    * scale: percentiles of the per-series mean sales, their p90/p10 ratio, dept means range;
    * holiday_uplift = mean Weekly_Sales on IsHoliday rows / on the other rows;
      thanksgiving_uplift = mean weekly total on flagged November weeks / mean weekly total;
      christmas_peak = per year with >= 4 December weeks, the December week with the largest
      total (and that total / mean weekly total);
    * negative share of rows; markdown non-null share (5 columns pooled) before/after the split.
    """
    tr = train_df
    dates = pd.to_datetime(tr["Date"])
    n_weeks = dates.nunique()
    n_stores, n_depts = tr["Store"].nunique(), tr["Dept"].nunique()
    grouped = tr.groupby(["Store", "Dept"])
    rows_per_series = grouped.size()
    series_mean = grouped["Weekly_Sales"].mean()
    dept_mean = tr.groupby("Dept")["Weekly_Sales"].mean()
    p10, p50, p90 = series_mean.quantile([0.1, 0.5, 0.9]).to_numpy()
    sales = tr["Weekly_Sales"].to_numpy(np.float64)
    hol = tr["IsHoliday"].to_numpy(bool)

    weekly = tr.groupby(dates)["Weekly_Sales"].sum()
    weekly_hol = tr.groupby(dates)["IsHoliday"].first()
    avg_week = weekly.mean()
    tg = weekly[weekly_hol.to_numpy(bool) & (weekly.index.month == 11)]
    peaks: dict[int, str] = {}
    peak_ratio: list[float] = []
    dec = weekly[weekly.index.month == 12]
    for year, wk in dec.groupby(dec.index.year):
        if len(wk) >= 4:
            peaks[int(year)] = wk.idxmax().strftime("%Y-%m-%d")
            peak_ratio.append(float(wk.max() / avg_week))

    fdates = pd.to_datetime(features_df["Date"])
    before = (fdates < pd.Timestamp(markdown_split)).to_numpy()
    md_notna = features_df[MARKDOWN_COLUMNS].notna().to_numpy()

    def share(mask: np.ndarray) -> float:
        return float(md_notna[mask].mean()) if mask.any() else float("nan")

    macro_na = features_df[["CPI", "Unemployment"]].isna().all(axis=1).groupby(fdates).all()
    tail = int((macro_na[::-1].cumprod()).sum())

    return {
        "train_rows": int(len(tr)),
        "stores": int(n_stores),
        "depts": int(n_depts),
        "weeks": int(n_weeks),
        "series": int(len(rows_per_series)),
        "complete_series": int((rows_per_series == n_weeks).sum()),
        "complete_share": float((rows_per_series == n_weeks).mean()),
        "coverage": float(len(rows_per_series) / (n_stores * n_depts)),
        "series_mean_p10": float(p10),
        "series_mean_p50": float(p50),
        "series_mean_p90": float(p90),
        "series_mean_p90_p10": float(p90 / p10) if p10 else float("nan"),
        "dept_mean_min": float(dept_mean.min()),
        "dept_mean_median": float(dept_mean.median()),
        "dept_mean_max": float(dept_mean.max()),
        "total_sales": float(sales.sum()),
        "holiday_uplift": float(sales[hol].mean() / sales[~hol].mean()),
        "thanksgiving_uplift": float(tg.mean() / avg_week) if len(tg) else float("nan"),
        "christmas_peak": peaks,
        "christmas_peak_ratio": float(np.mean(peak_ratio)) if peak_ratio else float("nan"),
        "negative_rows": int((sales < 0).sum()),
        "negative_share": float((sales < 0).mean()),
        "markdown_notna_before": share(before),
        "markdown_notna_after": share(~before),
        "macro_missing_tail_weeks": tail,
        "features_rows": int(len(features_df)),
        "store_types": {str(k): int(v) for k, v in stores_df["Type"].value_counts().items()},
        "size_by_type": {
            str(k): (int(v.min()), int(v.max())) for k, v in stores_df.groupby("Type")["Size"]
        },
    }
