"""The panel read by Spark from storage (``feat_panel@spark``, kedro-datasets' Spark dataset of
the parquet file the pandas ``feat_panel`` is read from) instead of handed over from the driver:
the engines use that frame for the registered panel and its rows (``createDataFrame`` is not
called for them), the forecasts are the pandas path's (the tolerances of test_engine.py and
test_learners.py), and a file or frame that does not match is not used (it is handed over, and
the forecasts are still the pandas path's)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog

from retail_forecasting.datasets.atomic import AtomicParquetDataset
from retail_forecasting.forecasting import partitioned
from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LearnerForecaster, LearnerParams
from retail_forecasting.spark.engine import SparkLearners, SparkPanels, runner
from retail_forecasting.spark.hooks import SparkHooks

HORIZON = 39
RTOL = 1e-9
FEATURES = FeatureParams()
OBSERVED = FEATURES.covariates.observed
TEST_WEEKS = 13
KINDS = ("ridge", "lightgbm")


class Counting:
    """A SparkSession that records every frame handed to it from the driver."""

    def __init__(self, spark) -> None:
        self._spark = spark
        self.handed: list[int] = []

    def createDataFrame(self, data, *args, **kwargs):  # noqa: N802 (PySpark's name)
        self.handed.append(len(data))
        return self._spark.createDataFrame(data, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._spark, name)


def with_split(panel: pd.DataFrame) -> pd.DataFrame:
    last = panel["date"].max() - pd.Timedelta(weeks=TEST_WEEKS)
    split = np.where(panel["date"] > last, "test", "train")
    return panel.assign(split=pd.Categorical(split, categories=["train", "validation", "test"]))


@pytest.fixture(scope="module")
def stored(tmp_path_factory, panel) -> str:
    """The panel (with its split) written as the pipeline writes feat_panel."""
    path = str(tmp_path_factory.mktemp("feature") / "feat_panel.parquet")
    AtomicParquetDataset(filepath=path).save(with_split(panel))
    return path


def read(path: str) -> pd.DataFrame:
    """The pandas panel a node receives: the file read by the pandas dataset."""
    return AtomicParquetDataset(filepath=path).load()


def loader(path: str):
    from kedro_datasets.spark import SparkDatasetV2

    return SparkDatasetV2(filepath=path).load


def history_cutoffs(history: pd.DataFrame) -> list[pd.Timestamp]:
    weeks = np.sort(history["date"].unique())
    return [pd.Timestamp(weeks[i]) for i in (-HORIZON - 7, -HORIZON - 1)]


def learners(data: pd.DataFrame) -> dict:
    return {
        kind: LearnerForecaster(
            FEATURES,
            LearnerParams(
                kind=kind,
                rounds=25,
                train_fraction=0.25,
                max_train_rows=None,
                seed=42,
                target="sales" if kind == "ridge" else "residual",
            ),
            HORIZON,
        ).with_panel(data)
        for kind in KINDS
    }


def backtests(data: pd.DataFrame, cutoffs) -> tuple[pd.DataFrame, pd.DataFrame]:
    baselines = cross_validation(data, make_baselines(BaselineParams()), HORIZON, cutoffs)
    models = cross_validation(data, learners(data), HORIZON, cutoffs, observed=OBSERVED)
    return baselines, models


def assert_same(got: pd.DataFrame, expected: pd.DataFrame, models) -> None:
    keys = [c for c in expected.columns if c not in models]
    pd.testing.assert_frame_equal(got[keys], expected[keys], check_exact=True)
    for name in models:
        np.testing.assert_allclose(got[name], expected[name], rtol=RTOL, atol=1e-6, err_msg=name)


@pytest.fixture
def on_spark(spark):
    """The run's engines on a session that counts what is handed over."""
    counting = Counting(spark)
    panels = SparkPanels(counting)
    previous = (
        partitioned.use(runner(counting, panels)),
        partitioned.use_learners(SparkLearners(counting, panels)),
    )
    yield counting, panels
    panels.release()
    partitioned.use(previous[0])
    partitioned.use_learners(previous[1])


def single_process(data, cutoffs):
    runner_, engine = partitioned.use(None), partitioned.use_learners(None)
    try:
        return backtests(data, cutoffs)
    finally:
        partitioned.use(runner_)
        partitioned.use_learners(engine)


def test_the_registered_panels_rows_are_read_from_storage(on_spark, stored):
    counting, panels = on_spark
    feat_panel = read(stored)
    panels.register(feat_panel, loader(stored), "feat_panel")
    history = feat_panel[feat_panel["split"] != "test"]  # as the modelling nodes do
    cutoffs = history_cutoffs(history)
    baselines, models = backtests(history, cutoffs)
    assert counting.handed == [], "the panel's rows were handed over from the driver"
    expected = single_process(history, cutoffs)
    assert_same(baselines, expected[0], list(make_baselines(BaselineParams())))
    assert_same(models, expected[1], KINDS)
    # the whole panel (the final fit's and the test window's calls) reads the same frame
    frame, local = panels.frame(feat_panel)
    assert local is None and frame.count() == len(feat_panel)
    assert counting.handed == []


def test_the_frame_read_has_the_panels_rows_at_their_positions(spark, stored):
    feat_panel = read(stored)
    panels = SparkPanels(spark)
    panels.register(feat_panel, loader(stored), "feat_panel")
    frame, _ = panels.frame(feat_panel)
    got = frame.toPandas().sort_values("_row", ignore_index=True)
    columns = [c for c in feat_panel.columns if c != "split"]
    assert got["_row"].tolist() == list(range(len(feat_panel)))
    pd.testing.assert_frame_equal(
        got[columns], feat_panel[columns], check_dtype=False, check_exact=True
    )
    panels.release()


def test_rows_that_are_not_the_registered_panels_are_handed_over(on_spark, stored, caplog):
    counting, panels = on_spark
    feat_panel = read(stored)
    panels.register(feat_panel, loader(stored), "feat_panel")
    history = feat_panel[feat_panel["split"] != "test"].reset_index(drop=True)  # other labels
    cutoffs = history_cutoffs(history)[-1:]
    with caplog.at_level(logging.INFO, logger="retail_forecasting.spark.engine"):
        baselines, _ = backtests(history, cutoffs)
    assert counting.handed == [len(history)]  # once for the node's calls
    assert "not rows of the registered feat_panel" in caplog.text
    assert_same(
        baselines, single_process(history, cutoffs)[0], list(make_baselines(BaselineParams()))
    )
    # changed values under the panel's labels are not its rows either
    changed = feat_panel.assign(weekly_sales=feat_panel["weekly_sales"] + 1.0)
    assert panels.frame(changed)[1] is None and counting.handed[-1] == len(changed)


@pytest.mark.parametrize("change", ["a_date", "a_row_missing"])
def test_a_file_that_does_not_hold_the_panels_rows_is_not_used(
    on_spark, stored, tmp_path, change, caplog
):
    """The node's pandas panel and the file differ (one date, or one row fewer in the file):
    the positions derived from the keys would be wrong, so the frame read is not used."""
    counting, panels = on_spark
    feat_panel = read(stored)
    other = feat_panel.copy()
    if change == "a_date":  # a series' last row a week later: still sorted, same count
        row = other.groupby(["store", "dept"]).tail(1).index[5]
        other.loc[row, "date"] += pd.Timedelta(weeks=1)
    else:
        other = other.drop(index=7).reset_index(drop=True)
    path = str(tmp_path / "other.parquet")
    AtomicParquetDataset(filepath=path).save(other)
    panels.register(feat_panel, loader(path), "feat_panel")
    with caplog.at_level(logging.WARNING, logger="retail_forecasting.spark.engine"):
        frame, local = panels.frame(feat_panel)
    assert "does not hold feat_panel's rows" in caplog.text
    assert local is None and counting.handed == [len(feat_panel)]
    assert frame.count() == len(feat_panel)


def test_an_unsorted_panel_is_handed_over(on_spark, stored, caplog):
    counting, panels = on_spark
    feat_panel = read(stored).iloc[::-1].reset_index(drop=True)
    panels.register(feat_panel, loader(stored), "feat_panel")
    with caplog.at_level(logging.WARNING, logger="retail_forecasting.spark.engine"):
        panels.frame(feat_panel)
    assert "not sorted by (store, dept, date)" in caplog.text
    assert counting.handed == [len(feat_panel)]


def test_the_hook_registers_a_node_input_with_a_spark_twin_in_the_catalog(spark, stored):
    from pathlib import Path
    from types import SimpleNamespace

    catalog = DataCatalog.from_config(
        {
            "feat_panel": {
                "type": "retail_forecasting.datasets.atomic.AtomicParquetDataset",
                "filepath": stored,
            },
            "feat_panel@spark": {"type": "spark.SparkDatasetV2", "filepath": stored},
            "{model}.mo_backtest": {"type": "pandas.ParquetDataset", "filepath": "{model}.pq"},
            "{anything}": {"type": "pandas.ParquetDataset", "filepath": "{anything}.pq"},
        }
    )
    hooks = SparkHooks()
    context = SimpleNamespace(
        config_loader={"spark": {"spark.master": "local[2]"}}, project_path=Path("project")
    )
    hooks.after_context_created(context)
    try:
        panels = partitioned.learners().panels
        counting = Counting(spark)
        panels.spark = counting
        feat_panel = catalog.load("feat_panel")
        hooks.before_node_run(catalog=catalog, inputs={"feat_panel": feat_panel, "x": 1})
        frame, local = panels.frame(feat_panel[feat_panel["split"] != "test"])
        assert local is not None and counting.handed == []
        assert frame.count() == len(feat_panel)
        hooks.after_node_run()
        # after the node: nothing registered, the next frame is handed over
        panels.frame(feat_panel)
        assert counting.handed == [len(feat_panel)]
        # a node without such an input registers nothing, nor does a name a pattern matches
        hooks.before_node_run(
            catalog=catalog,
            inputs={"mi_forecast_frame": feat_panel, "ridge.mo_backtest": feat_panel, "d": {}},
        )
        panels.frame(feat_panel.copy())
        assert len(counting.handed) == 2
    finally:
        hooks.after_pipeline_run()


def test_without_nanos_as_long_the_error_says_what_to_set(spark, stored):
    """pandas writes nanosecond timestamps, which Spark reads only as longs (spark.yml)."""
    key = "spark.sql.legacy.parquet.nanosAsLong"
    feat_panel = read(stored)
    panels = SparkPanels(spark)
    panels.register(feat_panel, loader(stored), "feat_panel")
    spark.conf.set(key, "false")
    try:
        with pytest.raises(ValueError, match=f"set {key}: true"):
            panels.frame(feat_panel)
    finally:
        spark.conf.set(key, "true")
        panels.release()
