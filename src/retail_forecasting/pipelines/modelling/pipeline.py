"""Modelling: one template pipeline per model of the zoo under its namespace, then the ensemble.

The zoo is :func:`retail_forecasting.forecasting.zoo.models` (the statistical model
``svd_decomposition``, then the learners of ``forecasting.learners.REGISTRY``: ``ridge``,
``lightgbm``, ``catboost``, ``xgboost``); a statistical model runs :func:`statistical_template`,
a learner :func:`template`; the ensemble weights them all.

``kedro run --namespaces lightgbm`` runs one model; kedro-viz shows each model as a group. The
shared inputs (``feat_panel``, ``mi_forecast_frame``,
``params:horizon_weeks``, ``params:backtest``, ``params:feature_engineering``) stay
un-namespaced; each model reads ``params:modelling.<model>`` and writes ``<model>.mo_backtest``,
``<model>.rpt_backtest_summary``, ``<model>.mdl_tuning``, ``<model>.mdl_model``,
``<model>.mo_test_forecasts`` (catalog factories ``{model}.*``).
"""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.forecasting import zoo
from retail_forecasting.pipelines.modelling import nodes

SHARED = {"feat_panel", "mi_forecast_frame"}
SHARED_PARAMS = {"params:horizon_weeks", "params:backtest", "params:feature_engineering"}


def template() -> Pipeline:
    """Tune, backtest, fit and forecast one model (``params:model``)."""
    common = [
        "feat_panel",
        "params:horizon_weeks",
        "params:backtest",
        "params:feature_engineering",
        "params:model",
    ]
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
                [
                    "feat_panel",
                    "params:horizon_weeks",
                    "params:feature_engineering",
                    "params:model",
                    "mdl_tuning",
                ],
                "mdl_model",
                name="train_model",
            ),
            Node(
                nodes.forecast_test_window,
                ["mdl_model", "mi_forecast_frame"],
                "mo_test_forecasts",
                name="forecast_test_window",
            ),
        ]
    )


def statistical_template() -> Pipeline:
    """Tune, backtest and forecast one statistical model: the same outputs as a learner's
    (``mdl_model`` holds its tuned settings; it reads the history when it forecasts)."""
    common = ["feat_panel", "params:horizon_weeks", "params:backtest", "params:model"]
    return Pipeline(
        [
            Node(nodes.tune_statistical, common, "mdl_tuning", name="tune_model"),
            Node(
                nodes.backtest_statistical,
                [*common, "mdl_tuning"],
                ["mo_backtest", "rpt_backtest_summary", "rpt_mlflow_metrics"],
                name="backtest_model",
            ),
            Node(
                nodes.fit_statistical,
                ["params:model", "mdl_tuning"],
                "mdl_model",
                name="train_model",
            ),
            Node(
                nodes.forecast_statistical_test_window,
                ["mdl_model", "feat_panel", "params:horizon_weeks"],
                "mo_test_forecasts",
                name="forecast_test_window",
            ),
        ]
    )


def create_model_pipeline(model: str) -> Pipeline:
    """The model's template under ``namespace=model``, reading ``params:modelling.<model>``."""
    pipe = statistical_template() if zoo.family(model) == "statistical" else template()
    return Pipeline(
        pipe,
        namespace=model,
        inputs=SHARED & pipe.inputs(),
        parameters={
            **{p: p for p in SHARED_PARAMS & pipe.inputs()},
            "params:model": f"params:modelling.{model}",
        },
    )


def create_ensemble_pipeline(models: tuple[str, ...] | None = None) -> Pipeline:
    """Weights fit on the backtests of ``models`` (default: the zoo); the weighted test forecast
    (namespace ``ensemble``)."""
    models = zoo.names() if models is None else models
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
    members = {
        f"{m}_{kind}": f"{m}.mo_{kind}" for m in models for kind in ("backtest", "test_forecasts")
    }
    return Pipeline(
        nodes_,
        namespace="ensemble",
        inputs=members,
        parameters={"params:ensemble": "params:modelling.ensemble"},
    )


def create_pipeline(models: tuple[str, ...] | None = None, **kwargs) -> Pipeline:
    """Every model of ``models`` (default: the zoo) under its namespace, then their ensemble."""
    models = zoo.names() if models is None else models
    return sum((create_model_pipeline(m) for m in models), Pipeline([])) + create_ensemble_pipeline(
        models
    )
