"""Cheap registered models for the serving tests: a seasonal-naive champion on a small synthetic
panel (3 stores x 4 departments), registered in a SQLite MLflow store in seconds.

``IntervalPyfunc`` stands in for the champion of the intervals work: the same forecaster, plus
``q0.1``/``q0.9`` columns, so the tests can check that the API passes extra value columns
through without knowing their names.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd

from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.contract import build_panel
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.model_registry import ChampionPyfunc

NAME = "retail_forecasting_champion"
HORIZON = 39
N_WEEKS = 150
START = pd.Timestamp("2010-02-05")
STORES = {1: ("A", 151_315), 2: ("B", 202_307), 3: ("C", 37_392)}
DEPTS = (1, 2, 3, 4)


class IntervalPyfunc(ChampionPyfunc):
    """ChampionPyfunc with a (made-up) 80 % interval: Weekly_Sales x 0.9 and x 1.1."""

    def predict(self, context, model_input, params=None):  # noqa: ARG002
        out = self.forecaster.forecast(model_input)
        return out.assign(**{"q0.1": out["Weekly_Sales"] * 0.9, "q0.9": out["Weekly_Sales"] * 1.1})


cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the server process loads it by value


@contextmanager
def mlflow_uris_kept() -> Iterator[None]:
    """MLflow's process-wide tracking and registry URIs as they were before the block. Setting
    back what ``get_registry_uri()`` returned would not do: unset, it returns the default
    ``sqlite:///<cwd>/mlflow.db``, and setting it (which also exports MLFLOW_REGISTRY_URI) would
    send every later test's registrations to the checkout's mlflow.db."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved = (
        tracking_utils._tracking_uri,
        registry_utils._registry_uri,
        {n: os.environ.get(n) for n in names},
    )
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved[0])
        registry_utils._registry_uri = saved[1]
        for name, value in saved[2].items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def panel(seed: int = 0) -> pd.DataFrame:
    """Every (store, dept) on 150 weekly Fridays but (2, 4), which never sold (a series new to the
    model whose department it knows); (3, 4) only in the last 20 weeks."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(START, periods=N_WEEKS, freq="7D")
    t = np.arange(N_WEEKS)
    frames = []
    for store, (kind, size) in STORES.items():
        for dept in DEPTS:
            if (store, dept) == (2, 4):
                continue
            keep = t >= (N_WEEKS - 20 if (store, dept) == (3, 4) else 0)
            sales = (1000.0 * store + 250 * dept) * (
                1 + 0.3 * np.sin(2 * np.pi * t / 52)
            ) + rng.normal(0, 50, N_WEEKS)
            frames.append(
                pd.DataFrame(
                    {
                        "store": store,
                        "dept": dept,
                        "date": weeks[keep],
                        "weekly_sales": sales[keep],
                        "store_type": kind,
                        "store_size": size,
                    }
                )
            )
    p = pd.concat(frames, ignore_index=True)
    n = len(p)
    p = p.assign(
        is_holiday=False,
        temperature=rng.normal(60, 15, n),
        fuel_price=3.3,
        cpi=200.0,
        unemployment=8.0,
        **{f"markdown{i}": np.nan for i in range(1, 6)},
    )
    p["store_size"] = p["store_size"].astype("int64")
    cut1, cut2 = weeks[N_WEEKS - 2 * HORIZON - 1], weeks[N_WEEKS - HORIZON - 1]
    return build_panel(
        p[p.date <= cut1].reset_index(drop=True),
        p[(p.date > cut1) & (p.date <= cut2)].reset_index(drop=True),
        p[p.date > cut2].reset_index(drop=True),
    )


def forecaster() -> ChampionForecaster:
    return ChampionForecaster.from_panel(
        panel(), "seasonal_naive", "baseline", HORIZON, FeatureParams(), baselines=BaselineParams()
    )


def register(
    tracking_uri: str,
    python_model,
    alias: str | None = "champion",
    metrics: dict[str, float] | None = None,
    experiment_id: str | None = None,
) -> str:
    """Log ``python_model`` in a run of ``tracking_uri`` (``experiment_id``, else the default
    experiment, whose artifacts go to ./mlruns) and register it; returns the version."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id):
        if metrics:
            mlflow.log_metrics(metrics)
        info = mlflow.pyfunc.log_model(
            name="champion",
            python_model=python_model,
            registered_model_name=NAME,
            pip_requirements=["pandas"],
        )
    version = str(info.registered_model_version)
    if alias:
        mlflow.MlflowClient().set_registered_model_alias(NAME, alias, version)
    return version


if __name__ == "__main__":  # python tests/serving/model_factory.py sqlite:////tmp/x/mlflow.db
    uri = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path.cwd() / 'mlflow.db'}"
    print(register(uri, ChampionPyfunc(forecaster()), metrics={"test.champion.wmae": 123.4}))
