"""Panels for the engine tests: a realistic one from the synthetic generator, and helpers to
build tiny hand-made ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.contract import PANEL_COLUMNS
from retail_forecasting.kaggle.schema import to_panel_names
from retail_forecasting.synthetic import SyntheticConfig, generate


def kaggle_to_panel(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What ingestion makes of the Kaggle files (validated, joined), without the warehouse."""
    sales = to_panel_names(frames["train"])
    features = to_panel_names(frames["features"]).drop(columns=["is_holiday"])
    stores = to_panel_names(frames["stores"])
    panel = sales.merge(features, on=["store", "date"], how="left").merge(stores, on="store")
    panel["date"] = pd.to_datetime(panel["date"]).astype("datetime64[ns]")
    panel["is_holiday"] = panel["is_holiday"].astype(bool)
    return panel[PANEL_COLUMNS].sort_values(["store", "dept", "date"], ignore_index=True)


@pytest.fixture(scope="session")
def synthetic_panel() -> pd.DataFrame:
    """A 143-week synthetic panel (4 stores x 8 depts) with gaps, late and stopping series."""
    return kaggle_to_panel(generate(SyntheticConfig(seed=11, n_stores=4, n_depts=8)))


def hand_panel(
    series: dict[tuple[int, int], dict[int, float]], start: str = "2010-02-05"
) -> pd.DataFrame:
    """A panel from ``{(store, dept): {week_index: sales}}``; store 1 is type A, others B."""
    origin = pd.Timestamp(start)
    rows = [
        {"store": s, "dept": d, "date": origin + pd.Timedelta(weeks=w), "weekly_sales": float(v)}
        for (s, d), values in series.items()
        for w, v in values.items()
    ]
    frame = pd.DataFrame(rows)
    frame["date"] = frame["date"].astype("datetime64[ns]")
    frame["is_holiday"] = False
    frame["store_type"] = np.where(frame["store"] == 1, "A", "B")
    frame["store_size"] = 100_000
    for column in PANEL_COLUMNS[7:]:
        if column not in frame:
            frame[column] = np.nan
    return frame[PANEL_COLUMNS].sort_values(["store", "dept", "date"], ignore_index=True)
