"""Helpers of the weekly-cycle tests: a small, fast model registered like the evaluation does."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import yaml

from retail_forecasting.forecasting.backtest import (
    BacktestParams,
    cross_validation,
    rolling_cutoffs,
)
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.contract import build_panel
from retail_forecasting.forecasting.decomposition import DecompositionParams, make_forecaster
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.model_registry import REGISTERED_MODEL, ChampionPyfunc, promote

SMALL_MODEL = "svd_decomposition"


def register_small_model(
    project: Path, horizon: int, svd_rank: int = 5
) -> tuple[int, ChampionForecaster]:
    """After an ingestion run in ``project``: the statistical model with the project's settings
    (``modelling.svd_decomposition``, rank fixed instead of tuned) backtested with the engine's
    rolling origins, its backtest and ``champion.json`` written where the evaluation writes them
    (``mon_champion_backtest`` reads them), packaged as
    the evaluation packages a champion (``ChampionForecaster.from_panel`` on train + validation +
    test, wrapped in ``ChampionPyfunc``), registered as ``retail_forecasting_champion`` in the
    project's tracking store and promoted to ``champion``. Returns (version, forecaster)."""
    primary = project / "data" / "03_primary"
    panel = build_panel(
        *(pd.read_parquet(primary / f"prm_{s}.parquet") for s in ("train", "validation", "test"))
    )
    conf = yaml.safe_load((project / "conf/base/parameters_modelling.yml").read_text())[
        "modelling"
    ][SMALL_MODEL]
    params = DecompositionParams(**{**conf, "search_space": {}, "svd_rank": svd_rank})
    history = panel[panel["split"] != "test"]
    cutoffs = rolling_cutoffs(
        history["date"],
        horizon,
        BacktestParams(
            **yaml.safe_load((project / "conf/base/parameters_baselines.yml").read_text())[
                "backtest"
            ]
        ),
    )
    backtest = cross_validation(history, {SMALL_MODEL: make_forecaster(params)}, horizon, cutoffs)
    frame = project / "data" / "07_model_output" / SMALL_MODEL / "mo_backtest.parquet"
    frame.parent.mkdir(parents=True, exist_ok=True)
    backtest.to_parquet(frame)
    champion = project / "data" / "08_reporting" / "champion.json"
    champion.parent.mkdir(parents=True, exist_ok=True)
    champion.write_text(
        json.dumps({"champion": SMALL_MODEL, "families": {SMALL_MODEL: "statistical"}})
    )

    forecaster = ChampionForecaster.from_panel(
        panel, SMALL_MODEL, "statistical", horizon, FeatureParams(), {SMALL_MODEL: params}
    )
    while (
        mlflow.active_run() is not None
    ):  # the ingestion session's run, if kedro-mlflow left it open
        mlflow.end_run()
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    mlflow.set_registry_uri(f"sqlite:///{project / 'mlflow.db'}")
    experiment = mlflow.set_experiment("retail_forecasting")
    with mlflow.start_run(experiment_id=experiment.experiment_id, run_name="small model"):
        mlflow.pyfunc.log_model(
            name="champion",
            python_model=ChampionPyfunc(forecaster),
            registered_model_name=REGISTERED_MODEL,
            pip_requirements=["pandas"],
        )
    versions = mlflow.MlflowClient().search_model_versions(f"name='{REGISTERED_MODEL}'")
    version = max(int(v.version) for v in versions)
    promote(version)
    return version, forecaster
