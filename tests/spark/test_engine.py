"""The Spark path gives the single-process forecasts: the baselines and the decomposition model
backtested by department with applyInPandas (local[2]) against the pandas path, on synthetic
data. Tolerance: 1e-9 relative (the same numpy code on the same rows; only the order of the
departments' work differs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retail_forecasting.forecasting import decomposition, partitioned
from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LearnerForecaster, LearnerParams
from retail_forecasting.spark.engine import cross_validation_by_department, runner

HORIZON = 39  # the conftest's cutoffs leave a full window of it
RTOL = 1e-9


def forecasters() -> dict:
    models = make_baselines(BaselineParams())
    models["svd_decomposition"] = decomposition.make_forecaster(DecompositionParams(svd_rank=2))
    models["svd_recent_level"] = decomposition.make_forecaster(  # issue #11's correction on
        DecompositionParams(svd_rank=2, recent_weeks=26)
    )
    return models


def test_spark_gives_the_pandas_forecasts_row_for_row(spark, panel, cutoffs):
    models = forecasters()
    assert partitioned.partitionable(models)
    expected = cross_validation(panel, models, HORIZON, cutoffs)
    got = cross_validation_by_department(panel, models, HORIZON, cutoffs, spark=spark)
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
    pd.testing.assert_frame_equal(
        got.drop(columns=list(models)), expected.drop(columns=list(models))
    )
    for name in models:
        np.testing.assert_allclose(got[name], expected[name], rtol=RTOL, atol=1e-6, err_msg=name)


def test_the_comparison_has_teeth(spark, panel, cutoffs):
    """A forecaster wrongly marked per-department (it reads every department) differs on Spark."""

    def overall_mean(history, future):
        return np.full(len(future), np.nanmean(history.y))

    models = {"overall_mean": partitioned.per_department(overall_mean)}
    expected = cross_validation(panel, models, HORIZON, cutoffs[-1:])
    got = cross_validation_by_department(panel, models, HORIZON, cutoffs[-1:], spark=spark)
    assert not np.allclose(got["overall_mean"], expected["overall_mean"], rtol=RTOL)


def test_the_registered_runner_takes_per_department_work_only(spark, panel, cutoffs):
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[1].keys())
        return runner(spark)(*args, **kwargs)

    previous = partitioned.use(spy)
    try:
        models = make_baselines(BaselineParams())
        via_spark = cross_validation(panel, models, HORIZON, cutoffs[-1:])
        assert len(calls) == 1
        learner = LearnerForecaster(
            FeatureParams(), LearnerParams(kind="ridge"), HORIZON
        ).with_panel(panel)
        assert not partitioned.partitionable({"ridge": learner})
        cross_validation(
            panel,
            {"ridge": learner},
            HORIZON,
            cutoffs[-1:],
            observed=FeatureParams().covariates.observed,
        )
        assert len(calls) == 1, "a global learner never goes to the per-department runner"
    finally:
        partitioned.use(previous)
    pd.testing.assert_frame_equal(via_spark, cross_validation(panel, models, HORIZON, cutoffs[-1:]))


def test_pysparks_pandas_version_warning_is_silenced_and_no_other(spark):
    """PySpark 4 warns about pandas 3 at each use of its pandas bridge, in every worker: the
    session (make_session, as the conftest's) silences that message only, in the workers and in
    the driver; another FutureWarning still shows."""
    import warnings

    from retail_forecasting.spark.hooks import PANDAS_VERSION_WARNING, make_session

    messages = (f"{PANDAS_VERSION_WARNING} >= 3.0.0.", "another FutureWarning")

    def shown() -> list[str]:
        with warnings.catch_warnings(record=True) as seen:
            for message in messages:
                warnings.warn(message, FutureWarning, stacklevel=1)
        return [str(w.message) for w in seen]

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"shown": [" | ".join(shown())]})

    frame = spark.createDataFrame(pd.DataFrame({"g": [1]}))
    in_worker = frame.groupBy("g").applyInPandas(run, "shown string").toPandas()
    assert in_worker["shown"].tolist() == ["another FutureWarning"]

    # pytest restores the warning filters around each test: set them again, as a run does once
    assert make_session({}, "retail-forecasting-tests") is spark
    assert shown() == ["another FutureWarning"]
