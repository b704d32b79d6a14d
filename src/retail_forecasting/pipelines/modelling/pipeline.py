"""Modelling: one template pipeline per model of the zoo under its namespace, then the ensemble.

``kedro run --namespaces lightgbm`` runs one model; kedro-viz shows each model as a group. The
shared inputs (``feat_panel``, ``mi_training_frame``, ``mi_forecast_frame``,
``params:horizon_weeks``, ``params:backtest``, ``params:feature_engineering``) stay
un-namespaced; each model reads ``params:modelling.<model>`` and writes ``<model>.mo_backtest``,
``<model>.rpt_backtest_summary``, ``<model>.mdl_tuning``, ``<model>.mdl_model``,
``<model>.mo_test_forecasts`` (catalog factories ``{model}.*``).
"""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.forecasting.learners import MODELS
from retail_forecasting.pipelines.modelling import nodes

SHARED = {"feat_panel", "mi_training_frame", "mi_forecast_frame"}
SHARED_PARAMS = {"params:horizon_weeks", "params:backtest", "params:feature_engineering"}


def template() -> Pipeline:
    """Tune, backtest, fit and forecast one model (``params:model``)."""
    common = ["feat_panel", "params:horizon_weeks", "params:backtest", "params:feature_engineering", "params:model"]
    return Pipeline(
        [
            Node(nodes.tune_model, common, "mdl_tuning", name="tune_model"),
            Node(
                nodes.backtest_model,
                [*common, "mdl_tuning"],
                ["mo_backtest", "rpt_backtest_summary", "rpt_mlflow_metrics"],
                name="backtest_model",
            ),
            Node(
                nodes.train_model,
                ["mi_training_frame", "params:feature_engineering", "params:model", "mdl_tuning"],
                "mdl_model",
                name="train_model",
            ),
            Node(nodes.forecast_test_window, ["mdl_model", "mi_forecast_frame"], "mo_test_forecasts",
                 name="forecast_test_window"),
        ]
    )


def create_model_pipeline(model: str) -> Pipeline:
    """The template under ``namespace=model``, reading ``params:modelling.<model>``."""
    return Pipeline(
        template(),
        namespace=model,
        inputs=SHARED,
        parameters={**{p: p for p in SHARED_PARAMS}, "params:model": f"params:modelling.{model}"},
    )


def create_ensemble_pipeline(models: tuple[str, ...] = MODELS) -> Pipeline:
    """Weights fit on the learners' backtests; the weighted test forecast (namespace ``ensemble``)."""
    nodes_ = Pipeline(
        [
            Node(
                nodes.fit_ensemble,
                ["params:ensemble", *(f"{m}_backtest" for m in models)],
                ["mo_weights", "mo_backtest", "rpt_backtest_summary", "rpt_mlflow_metrics"],
                name="fit_ensemble",
            ),
            Node(
                nodes.forecast_ensemble_test_window,
                ["mo_weights", *(f"{m}_test_forecasts" for m in models)],
                "mo_test_forecasts",
                name="forecast_ensemble_test_window",
            ),
        ]
    )
    members = {f"{m}_{kind}": f"{m}.mo_{kind}" for m in models for kind in ("backtest", "test_forecasts")}
    return Pipeline(
        nodes_, namespace="ensemble", inputs=members, parameters={"params:ensemble": "params:modelling.ensemble"}
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum((create_model_pipeline(m) for m in MODELS), Pipeline([])) + create_ensemble_pipeline()
