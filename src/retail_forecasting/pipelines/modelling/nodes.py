"""Nodes of the ``modelling`` pipeline: one global LightGBM regressor over all series.

Training: fit on the train rows with early stopping on the validation rows, then refit on
train + validation with the best number of boosting rounds. Rows are weighted like the WMAE
(holiday weeks ``holiday_weight``, others 1), so the weighted L1 early-stopping metric on the
validation rows is the validation WMAE.
"""

from __future__ import annotations

import logging
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from retail_forecasting.metrics import HOLIDAY_WEIGHT, holiday_weights, score, to_mlflow_metrics

logger = logging.getLogger(__name__)

KEYS = ["store", "dept", "date"]
TARGET = "weekly_sales"
MODEL_NAME = "lightgbm"
PREDICTION_COLUMNS = [*KEYS, "is_holiday", TARGET, "prediction"]


def _design_matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The feature columns as numbers (booleans become 0/1); raise on missing columns."""
    missing = [col for col in features if col not in frame.columns]
    if missing:
        raise ValueError(
            f"feat_sales_features is missing feature column(s) {missing}: "
            "check modelling.features against feature_engineering"
        )
    matrix = frame[features]
    bool_columns = [col for col in features if matrix[col].dtype == bool]
    return matrix.astype(dict.fromkeys(bool_columns, "int64")) if bool_columns else matrix


def _dataset(frame: pd.DataFrame, parameters: dict[str, Any], **kwargs) -> lgb.Dataset:
    target = parameters.get("target", TARGET)
    holiday_weight = parameters.get("holiday_weight", HOLIDAY_WEIGHT)
    if frame[target].isna().any():
        raise ValueError(f"Target '{target}' has {int(frame[target].isna().sum())} NaN value(s)")
    return lgb.Dataset(
        _design_matrix(frame, parameters["features"]),
        label=frame[target].to_numpy(dtype=float),
        weight=holiday_weights(frame["is_holiday"], holiday_weight),
        categorical_feature=parameters.get("categorical_features") or "auto",
        free_raw_data=False,
        **kwargs,
    )


def train_lightgbm(
    features: pd.DataFrame, parameters: dict[str, Any]
) -> tuple[dict[str, Any], lgb.Booster]:
    """Fit LightGBM with early stopping on validation, then refit on train + validation.

    Args:
        features: ``feat_sales_features`` (column ``split`` in train/validation/test).
        parameters: ``modelling`` parameters: ``features``, ``categorical_features``,
            ``target``, ``holiday_weight``, ``num_boost_round``, ``early_stopping_rounds``
            and the ``lightgbm`` hyperparameters.

    Returns:
        The validation report (best iteration, row counts, validation WMAE/MAE/RMSE of the
        early-stopped model) and the booster refit on train + validation.

    Raises:
        ValueError: If a feature column is missing, a split has no rows or a target is NaN.
    """
    train = features.loc[features["split"] == "train"]
    validation = features.loc[features["split"] == "validation"]
    for split, frame in (("train", train), ("validation", validation)):
        if frame.empty:
            raise ValueError(f"Cannot train LightGBM: no '{split}' rows in feat_sales_features")

    booster_params = dict(parameters["lightgbm"])
    train_set = _dataset(train, parameters)
    validation_set = _dataset(validation, parameters, reference=train_set)
    booster = lgb.train(
        booster_params,
        train_set,
        num_boost_round=parameters["num_boost_round"],
        valid_sets=[validation_set],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(parameters["early_stopping_rounds"], verbose=False)],
    )
    best_iteration = booster.best_iteration or booster.current_iteration()
    validation_scored = validation.assign(
        prediction=booster.predict(
            _design_matrix(validation, parameters["features"]), num_iteration=best_iteration
        )
    )
    validation_metrics = score(validation_scored, actual_col=parameters.get("target", TARGET))

    refit_rows = pd.concat([train, validation])
    model = lgb.train(
        booster_params, _dataset(refit_rows, parameters), num_boost_round=best_iteration
    )
    report = {
        "model": MODEL_NAME,
        "best_iteration": int(best_iteration),
        "n_train_rows": len(train),
        "n_validation_rows": len(validation),
        "n_refit_rows": len(refit_rows),
        "features": list(parameters["features"]),
        "validation": validation_metrics,
    }
    logger.info(
        "LightGBM: best iteration %d, validation %s; refit on %d rows",
        best_iteration,
        validation_metrics,
        len(refit_rows),
    )
    return report, model


def predict_lightgbm(model: lgb.Booster, features: pd.DataFrame) -> pd.DataFrame:
    """Predict every test row with the refit booster (features named by the booster itself).

    Returns:
        One row per test (store, dept, date): ``is_holiday``, actual ``weekly_sales`` and
        ``prediction``.

    Raises:
        ValueError: If there are no test rows or a feature the booster needs is missing.
    """
    test = features.loc[features["split"] == "test"]
    if test.empty:
        raise ValueError("Cannot predict: no 'test' rows in feat_sales_features")
    predictions = test.assign(
        prediction=model.predict(_design_matrix(test, model.feature_name())).astype(np.float64)
    )
    logger.info("LightGBM predicted %d test rows", len(predictions))
    return predictions[PREDICTION_COLUMNS].reset_index(drop=True)


def format_validation_metrics(report: dict[str, Any]) -> dict[str, dict]:
    """The report's validation metrics in the MLflow metrics-history format.

    ``{"model": "lightgbm", "validation": {"wmae": 1.0}}`` becomes
    ``{"lightgbm.wmae": {"value": 1.0, "step": 0}}``; the catalog's
    ``MlflowMetricsHistoryDataset`` adds the ``validation`` prefix.
    """
    return to_mlflow_metrics({report["model"]: report["validation"]})
