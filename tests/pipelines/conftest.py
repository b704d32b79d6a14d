"""Shared fixtures for the pipeline tests: a small weekly sales panel and its splits.

3 stores x 4 depts x 150 weekly Fridays from 2010-02-05, with gaps, a series that only
starts inside the test window, a few negative sales and the Kaggle holiday weeks. The splits
follow the ingestion contract: test = last 39 weeks, validation = the 39 weeks before, train
= the rest (72 weeks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from retail_forecasting.forecasting.contract import build_panel

HORIZON_WEEKS = 39
VALIDATION_WEEKS = 39
N_WEEKS = 150
START = pd.Timestamp("2010-02-05")  # a Friday
HOLIDAYS = pd.to_datetime(
    [
        "2010-02-12",
        "2010-09-10",
        "2010-11-26",
        "2010-12-31",
        "2011-02-11",
        "2011-09-09",
        "2011-11-25",
        "2011-12-30",
        "2012-02-10",
        "2012-09-07",
        "2012-11-23",
        "2012-12-28",
    ]
)
STORE_TYPES = {1: "A", 2: "B", 3: "C"}
STORE_SIZES = {1: 151_315, 2: 202_307, 3: 37_392}

WEEKS = pd.date_range(START, periods=N_WEEKS, freq="7D")
TRAIN_END = WEEKS[N_WEEKS - HORIZON_WEEKS - VALIDATION_WEEKS - 1]  # last train week
VALIDATION_END = WEEKS[N_WEEKS - HORIZON_WEEKS - 1]  # last validation week

# Gaps (rows removed). (1, 2) misses weeks 60-62, so the test weeks 112-114 have no row
# 52 weeks back; (2, 3) misses week 100; (3, 4) only starts at week 115, inside the test
# window, so it has no history at all.
GAPS = {(1, 2): range(60, 63), (2, 3): range(100, 101)}
LATE_SERIES = (3, 4)
LATE_START_WEEK = 115


def make_panel(seed: int = 0) -> pd.DataFrame:
    """The whole fixture panel, one row per (store, dept, date), sorted."""
    rng = np.random.default_rng(seed)
    rows = []
    week_index = np.arange(N_WEEKS)
    season = np.sin(2 * np.pi * week_index / 52.0)
    for store in (1, 2, 3):
        for dept in (1, 2, 3, 4):
            level = 1_000.0 * store + 250.0 * dept
            sales = level * (1 + 0.3 * season) + rng.normal(0, 50, N_WEEKS)
            sales[WEEKS.isin(HOLIDAYS)] *= 1.5
            keep = np.ones(N_WEEKS, dtype=bool)
            keep[list(GAPS.get((store, dept), []))] = False
            if (store, dept) == LATE_SERIES:
                keep[:LATE_START_WEEK] = False
            rows.append(
                pd.DataFrame(
                    {
                        "store": store,
                        "dept": dept,
                        "date": WEEKS[keep],
                        "weekly_sales": sales[keep],
                    }
                )
            )
    panel = pd.concat(rows, ignore_index=True)
    panel.loc[panel.sample(5, random_state=seed).index, "weekly_sales"] *= -0.01
    n = len(panel)
    panel = panel.assign(
        store=panel["store"].astype("int64"),
        dept=panel["dept"].astype("int64"),
        date=panel["date"].astype("datetime64[ns]"),
        weekly_sales=panel["weekly_sales"].astype("float64"),
        is_holiday=panel["date"].isin(HOLIDAYS),
        store_type=panel["store"].map(STORE_TYPES).astype(str),
        store_size=panel["store"].map(STORE_SIZES).astype("int64"),
        temperature=rng.normal(60, 15, n),
        fuel_price=rng.normal(3.3, 0.3, n),
        **{
            f"markdown{i}": np.where(panel["date"] >= "2011-11-01", rng.gamma(2, 1000, n), np.nan)
            for i in range(1, 6)
        },
        cpi=rng.normal(200, 10, n),
        unemployment=rng.normal(8, 1, n),
    )
    return panel.sort_values(["store", "dept", "date"], ignore_index=True)


def split_panel(panel: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Chronological splits: train, validation (39 weeks), test (last 39 weeks)."""
    train = panel[panel["date"] <= TRAIN_END]
    validation = panel[(panel["date"] > TRAIN_END) & (panel["date"] <= VALIDATION_END)]
    test = panel[panel["date"] > VALIDATION_END]
    return {
        "prm_train": train.reset_index(drop=True),
        "prm_validation": validation.reset_index(drop=True),
        "prm_test": test.reset_index(drop=True),
    }


@pytest.fixture
def horizon_weeks() -> int:
    return HORIZON_WEEKS


@pytest.fixture
def window_ends() -> dict[str, pd.Timestamp]:
    """Last week of the train and of the validation split (the two forecast origins)."""
    return {"train": TRAIN_END, "validation": VALIDATION_END}


@pytest.fixture
def panel() -> pd.DataFrame:
    return make_panel()


@pytest.fixture
def splits(panel) -> dict[str, pd.DataFrame]:
    return split_panel(panel)


@pytest.fixture
def feat_panel(splits) -> pd.DataFrame:
    """The panel contract built from the fixture splits."""
    return build_panel(splits["prm_train"], splits["prm_validation"], splits["prm_test"])


def _run_pipeline(pipeline: Pipeline, inputs: dict) -> DataCatalog:
    """Run ``pipeline`` with ``SequentialRunner`` on an in-memory catalog holding ``inputs``.

    The whole pipeline runs once (it must succeed as one run); then it runs again one node
    slice at a time on a fresh catalog, so that intermediate datasets, which the runner
    releases once consumed, stay loadable for the assertions. Returns that second catalog.
    """

    def catalog() -> DataCatalog:
        return DataCatalog({name: MemoryDataset(value) for name, value in inputs.items()})

    missing = pipeline.inputs() - set(inputs)
    assert not missing, f"pipeline inputs not provided: {missing}"
    outputs = SequentialRunner().run(pipeline, catalog())
    assert set(outputs) == pipeline.outputs()

    kept = catalog()
    for node in pipeline.nodes:  # topologically sorted
        SequentialRunner().run(pipeline.only_nodes(node.name), kept)
    return kept


@pytest.fixture
def run_pipeline():
    """``run_pipeline(pipeline, inputs) -> DataCatalog``: see ``_run_pipeline``."""
    return _run_pipeline
