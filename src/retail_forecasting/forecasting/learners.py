"""Learned forecasters that plug into :func:`.backtest.cross_validation` like the baselines.

A learner is fit at each cutoff on :func:`.features.training_frame` (rows up to the cutoff,
each with a pseudo-origin) and predicts :func:`.features.forecast_frame` (the rows after the
cutoff, origin = cutoff): the same feature code path for training, tuning, backtests and the
final forecast of the test window.

The learners are a registry, :data:`REGISTRY`, mapping a model name (``ridge``, ``lightgbm``,
``catboost``, ``xgboost``) to a fit/predict pair, the pip distribution it needs and whether it is
a tree model. It is the list of learners: :mod:`.zoo` derives the model zoo from it (pipelines,
evaluation, the champion's pip requirements); adding a learner is one entry here and its
parameters in ``conf/base/parameters_modelling.yml``. Every fit is deterministic (fixed seeds) and
uses ``threads`` threads; rows are weighted like the WMAE (holiday weeks ``holiday_weight``).

Tuning (:func:`tune`) happens at one cutoff of the validation backtest, never on the test
window: each candidate of the search space is fit on the rows up to the cutoff minus an inner
validation tail (the last ``inner_validation_weeks`` weeks before the cutoff, used for early
stopping where the library offers it), then scored on the fold's own window, which only ranks
the candidates. The chosen hyperparameters and number of rounds are then refit on every row up
to each cutoff, without early stopping.

Tuning is deterministic: the candidates are a fixed, seeded set
(:func:`retail_forecasting.forecasting.tuning.candidates`), every one
is always tried, and wall-clock time never changes which one wins or how it is fit. The time
budget is only a guard: a tuning that runs past it stops the run with :class:`TuningTimeout`
(what was slow, and how to raise the budget), it never skips a candidate silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from retail_forecasting.forecasting import partitioned
from retail_forecasting.forecasting.contract import TARGET, TIME_COLUMN
from retail_forecasting.forecasting.features import (
    FeatureParams,
    feature_columns,
    forecast_frame,
    training_frame,
)
from retail_forecasting.forecasting.history import WEEK, History
from retail_forecasting.forecasting.tuning import candidates
from retail_forecasting.metrics import holiday_weights, wmae
from retail_forecasting.progress import Progress

logger = logging.getLogger(__name__)


class LearnerParams(BaseModel):
    """One model of the zoo: ``modelling.<name>`` in ``conf/base/parameters_modelling.yml``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="the learner: a key of REGISTRY")
    hyperparameters: dict[str, Any] = Field(default={}, description="fixed library parameters")
    search_space: dict[str, list[Any]] = Field(default={}, description="grid tuned on the backtest")
    max_candidates: int = Field(
        4, ge=1, description="random search: grid points tried (a fixed, seeded set)"
    )
    time_budget_seconds: float = Field(
        3600.0,
        gt=0,
        description="guard: tuning that takes longer stops the run with an error (never skips)",
    )
    rounds: int = Field(300, ge=1, description="boosting rounds (upper bound when early stopping)")
    early_stopping_rounds: int = Field(20, ge=1)
    inner_validation_weeks: int = Field(
        8, ge=1, description="early-stopping tail before the cutoff"
    )
    max_train_rows: int | None = Field(
        60_000, ge=1000, description="at most this many rows per fit (seeded sample); None: no cap"
    )
    train_fraction: float | None = Field(
        None,
        gt=0,
        le=1,
        description="share of the training rows each fit uses, drawn per department (stratified, "
        "seeded): the sample grows in proportion to the data. None: max_train_rows rows at random",
    )
    holiday_weight: float = Field(
        5.0, gt=0, description="training weight of holiday weeks (as in WMAE)"
    )
    categorical_features: list[str] = ["store", "dept", "store_type_code"]
    threads: int = Field(2, ge=1)
    seed: int = 0
    target: Literal["sales", "residual"] = Field(
        "sales",
        description="residual: learn sales minus the decomposition_base feature (so trees can "
        "follow levels they never saw as targets)",
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in REGISTRY:
            raise ValueError(
                f"unknown learner {kind!r}; forecasting.learners.REGISTRY has {sorted(REGISTRY)}"
            )
        return kind


class TuningTimeout(RuntimeError):
    """Tuning ran past its ``time_budget_seconds`` guard: the run stops rather than choose from
    fewer candidates (which would make the result depend on the machine's load)."""


@dataclass
class FittedLearner:
    """A fitted model with what it needs to predict: its feature list and library."""

    kind: str
    model: Any
    features: list[str]
    categorical: list[str]
    rounds: int | None = None  # rounds actually used (best iteration when early stopping)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    target: str = "sales"  # sales | residual (the model predicts sales - residual_base)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Forecast of each row of a forecast frame.

        A learner with ``predict_chunk_rows`` builds its matrix and predicts that many rows at a
        time (each row's forecast depends on that row alone, so the forecasts are the same).
        """
        learner = REGISTRY[self.kind]
        step = learner.predict_chunk_rows or len(frame)
        chunks = (
            [frame]
            if len(frame) <= step
            else [frame.iloc[i : i + step] for i in range(0, len(frame), step)]
        )
        parts = [
            np.asarray(
                learner.predict(self, _matrix(rows, self.features, self.categorical, self.kind))
            )
            for rows in chunks
        ]
        raw = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return raw + residual_base(frame) if self.target == "residual" else raw

    def feature_importance(self) -> pd.Series:
        """Gain-like importance per feature (tree models), absolute coefficients (ridge)."""
        return REGISTRY[self.kind].importance(self)


def residual_base(frame: pd.DataFrame) -> np.ndarray:
    """What a ``target: residual`` learner adds to its prediction: ``decomposition_base``, else
    the 52-week level at the origin (series younger than a season), else 0 (unseen series)."""
    base = frame["decomposition_base"].to_numpy(dtype=float)
    if "level_52" in frame:
        base = np.where(np.isnan(base), frame["level_52"].to_numpy(dtype=float), base)
    return np.nan_to_num(base, nan=0.0)


def _matrix(
    frame: pd.DataFrame, features: list[str], categorical: list[str], kind: str
) -> pd.DataFrame:
    x = frame[features].astype(float)
    if kind == "catboost":  # CatBoost wants integer categories
        for column in categorical:
            x[column] = x[column].fillna(-1).astype("int64")
    return x


# ---------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Learner:
    """How to fit and predict one library, and what the model needs.

    ``fit(x, y, w, valid, params, hyper) -> (model, rounds)``. ``requires``: the pip
    distributions that unpickle and run the fitted model (pinned into the champion's MLflow
    requirements, :func:`.zoo.pip_requirements`); ``tree``: a tree model, shown in the
    evaluation's feature-importance figure; ``predict_chunk_rows``: predict that many rows at a
    time (a model whose input transform is much larger than its input), None: all at once.
    """

    fit: Callable[..., tuple[Any, int | None]]
    predict: Callable[[FittedLearner, pd.DataFrame], np.ndarray]
    importance: Callable[[FittedLearner], pd.Series]
    early_stopping: bool
    requires: tuple[str, ...] = ()
    tree: bool = False
    predict_chunk_rows: int | None = None


#: Rows ridge predicts at a time. Its one-hot + imputer + scaler output holds every feature of a
#: row plus missing-value indicators and one column per store, department and store type, several
#: times the size of its input; a tuning fold's window is 1.3 M rows at 450 stores (horizon 39).
#: Chunks keep that transform to one chunk's size whatever the rows (docs/scale.md).
RIDGE_PREDICT_CHUNK_ROWS = 50_000


def _fit_ridge(x, y, w, valid, params: LearnerParams, hyper: dict[str, Any]):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [c for c in params.categorical_features if c in x.columns]
    numeric = [c for c in x.columns if c not in categorical]
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        (
                            "numeric",
                            Pipeline(
                                [
                                    (
                                        "impute",
                                        SimpleImputer(
                                            strategy="median",
                                            add_indicator=True,
                                            keep_empty_features=True,
                                        ),
                                    ),
                                    # scales the imputer's fresh output in place
                                    ("scale", StandardScaler(copy=False)),
                                ]
                            ),
                            numeric,
                        ),
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ]
                ),
            ),
            # the transformed matrix is the pipeline's own: no copy of it to centre or fit
            ("ridge", Ridge(**{"alpha": 1.0, "copy_X": False, **hyper})),
        ]
    )
    model.fit(x, y, ridge__sample_weight=w)
    return model, None


def _predict_sklearn(fitted: FittedLearner, x: pd.DataFrame) -> np.ndarray:
    return fitted.model.predict(x)


def _ridge_importance(fitted: FittedLearner) -> pd.Series:
    names = fitted.model.named_steps["prepare"].get_feature_names_out()
    return pd.Series(np.abs(fitted.model.named_steps["ridge"].coef_), index=names)


def _fit_lightgbm(x, y, w, valid, params: LearnerParams, hyper: dict[str, Any]):
    import lightgbm as lgb

    booster = {
        "num_threads": params.threads,
        "seed": params.seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
        **hyper,
    }
    categorical = [c for c in params.categorical_features if c in x.columns]
    data = lgb.Dataset(x, label=y, weight=w, categorical_feature=categorical, free_raw_data=True)
    callbacks: list[Callable[..., Any]] = []
    valid_sets: list[lgb.Dataset] = []
    if valid is not None:
        vx, vy, vw = valid
        valid_sets = [
            lgb.Dataset(vx, label=vy, weight=vw, reference=data, categorical_feature=categorical)
        ]
        callbacks = [lgb.early_stopping(params.early_stopping_rounds, verbose=False)]
    model = lgb.train(
        booster, data, num_boost_round=params.rounds, valid_sets=valid_sets, callbacks=callbacks
    )
    rounds = (
        model.best_iteration
        if valid is not None and model.best_iteration > 0
        else model.num_trees()
    )
    return model, int(rounds)


def _predict_lightgbm(fitted: FittedLearner, x: pd.DataFrame) -> np.ndarray:
    return fitted.model.predict(x, num_iteration=fitted.rounds)


def _lightgbm_importance(fitted: FittedLearner) -> pd.Series:
    return pd.Series(fitted.model.feature_importance("gain"), index=fitted.model.feature_name())


def _fit_xgboost(x, y, w, valid, params: LearnerParams, hyper: dict[str, Any]):
    import xgboost as xgb

    options = {
        "tree_method": "hist",
        "n_jobs": params.threads,
        "random_state": params.seed,
        "n_estimators": params.rounds,
        **hyper,
    }
    fit_args: dict[str, Any] = {"sample_weight": w, "verbose": False}
    if valid is not None:
        options["early_stopping_rounds"] = params.early_stopping_rounds
        vx, vy, vw = valid
        fit_args |= {"eval_set": [(vx, vy)], "sample_weight_eval_set": [vw]}
    model = xgb.XGBRegressor(**options).fit(x, y, **fit_args)
    rounds = int(model.best_iteration) + 1 if valid is not None else int(options["n_estimators"])
    return model, rounds


def _predict_xgboost(fitted: FittedLearner, x: pd.DataFrame) -> np.ndarray:
    if fitted.rounds is None:
        return fitted.model.predict(x)
    return fitted.model.predict(x, iteration_range=(0, fitted.rounds))


def _xgboost_importance(fitted: FittedLearner) -> pd.Series:
    gains = fitted.model.get_booster().get_score(importance_type="total_gain")
    return pd.Series({name: gains.get(name, 0.0) for name in fitted.features})


def _fit_catboost(x, y, w, valid, params: LearnerParams, hyper: dict[str, Any]):
    import catboost as cb

    categorical = [c for c in params.categorical_features if c in x.columns]
    options = {
        "iterations": params.rounds,
        "thread_count": params.threads,
        "random_seed": params.seed,
        "verbose": 0,
        "allow_writing_files": False,
        **hyper,
    }
    train = cb.Pool(x, y, weight=w, cat_features=categorical)
    eval_set = None
    if valid is not None:
        vx, vy, vw = valid
        eval_set = cb.Pool(vx, vy, weight=vw, cat_features=categorical)
        options |= {"early_stopping_rounds": params.early_stopping_rounds, "use_best_model": True}
    model = cb.CatBoostRegressor(**options).fit(train, eval_set=eval_set)
    return model, int(model.tree_count_)


def _catboost_importance(fitted: FittedLearner) -> pd.Series:
    return pd.Series(fitted.model.get_feature_importance(), index=fitted.features)


REGISTRY: dict[str, Learner] = {
    "ridge": Learner(
        _fit_ridge,
        _predict_sklearn,
        _ridge_importance,
        early_stopping=False,
        requires=("scikit-learn",),
        predict_chunk_rows=RIDGE_PREDICT_CHUNK_ROWS,
    ),
    "lightgbm": Learner(
        _fit_lightgbm,
        _predict_lightgbm,
        _lightgbm_importance,
        early_stopping=True,
        requires=("lightgbm",),
        tree=True,
    ),
    "catboost": Learner(
        _fit_catboost,
        _predict_sklearn,
        _catboost_importance,
        early_stopping=True,
        requires=("catboost",),
        tree=True,
    ),
    "xgboost": Learner(
        _fit_xgboost,
        _predict_xgboost,
        _xgboost_importance,
        early_stopping=True,
        requires=("xgboost-cpu",),
        tree=True,
    ),
}
#: the learners' names, in the registry's order (the whole zoo: :func:`.zoo.names`)
MODELS: tuple[str, ...] = tuple(REGISTRY)


# ---------------------------------------------------------------------------- fitting


def sample_positions(keys: pd.DataFrame, params: LearnerParams) -> np.ndarray:
    """Sorted positions of the rows a fit uses, from the rows' ``dept`` (and their number).

    With ``train_fraction``: each department keeps ``round(fraction * its rows)`` rows, drawn
    with a generator seeded by (``seed``, department) — the sample grows with the data, every
    department keeps its share, and a department's draw does not depend on the others (so a
    partitioned engine draws the same rows). ``max_train_rows``, if set, caps the total by
    lowering the fraction. Without ``train_fraction``: ``max_train_rows`` rows drawn at random
    (seeded), all rows if fewer.
    """
    n = len(keys)
    if params.train_fraction is None:
        if params.max_train_rows is None or n <= params.max_train_rows:
            return np.arange(n)
        return np.sort(
            np.random.default_rng(params.seed).choice(n, params.max_train_rows, replace=False)
        )
    fraction = sample_fraction(n, params)
    if fraction >= 1:
        return np.arange(n)
    dept = keys["dept"].to_numpy()
    order = np.argsort(dept, kind="stable")
    values, starts, counts = np.unique(dept[order], return_index=True, return_counts=True)
    chosen = []
    for value, start, count in zip(values, starts, counts, strict=True):
        take = int(round(fraction * count))
        if take:
            rng = np.random.default_rng([params.seed, int(value)])
            chosen.append(order[start + rng.choice(count, take, replace=False)])
    return np.sort(np.concatenate(chosen)) if chosen else np.arange(0)


def sample_fraction(n: int, params: LearnerParams) -> float:
    """The share of each department's ``n`` candidate rows (all departments together) a fit
    keeps: ``train_fraction``, lowered so that at most ``max_train_rows`` rows are kept if set."""
    fraction = float(params.train_fraction or 1.0)
    if params.max_train_rows is not None and fraction * n > params.max_train_rows:
        fraction = params.max_train_rows / n
    return fraction


def per_department_sample(params: LearnerParams) -> bool:
    """Whether a fit's sample is drawn department by department (``train_fraction`` set), so
    that a partitioned engine can draw it (:mod:`.partitioned`)."""
    return params.train_fraction is not None


def subsample(frame: pd.DataFrame, params: LearnerParams) -> pd.DataFrame:
    """The rows of an already built training frame a fit uses (:func:`sample_positions`)."""
    positions = sample_positions(frame, params)
    return frame if len(positions) == len(frame) else frame.iloc[positions]


def learner_training_frame(
    history: History,
    panel: pd.DataFrame,
    features: FeatureParams,
    horizon: int,
    params: LearnerParams,
) -> pd.DataFrame:
    """The training frame of one fit: the sampled rows only, features built for them alone
    (equal to ``subsample(training_frame(...), params)`` up to the index).

    With a registered learners' engine (:mod:`.partitioned`; ``kedro run --env spark``) and a
    per-department sample, the engine builds it department by department and returns the same
    frame."""
    engine = partitioned.learners()
    if engine is not None and per_department_sample(params):
        return engine.training_frame(history, panel, features, horizon, params)
    return training_frame(
        history, panel, features, horizon, select=lambda keys: sample_positions(keys, params)
    )


def window_scorer(
    history: History,
    panel: pd.DataFrame,
    future: pd.DataFrame,
    features: FeatureParams,
    horizon: int,
) -> Callable[[FittedLearner], np.ndarray]:
    """``model -> forecasts`` of the rows ``future`` from ``history``'s cutoff (``panel``: the
    rows the history was built from). Here: the forecast frame is built once and every model
    predicts it. With a registered learners' engine (:mod:`.partitioned`) each call ships the
    model to the engine, which builds the features and predicts department by department and
    returns the same forecasts."""
    engine = partitioned.learners()
    if engine is not None:
        return engine.scorer(history, panel, future, features, horizon)
    frame = forecast_frame(history, future, features, horizon)
    return lambda model: model.predict(frame)


def predict_frame(model: FittedLearner, frame: pd.DataFrame) -> np.ndarray:
    """``model.predict(frame)`` of a built forecast frame, by the registered learners' engine if
    any (department by department), else here."""
    engine = partitioned.learners()
    return model.predict(frame) if engine is None else engine.predict(model, frame)


def fit_learner(
    frame: pd.DataFrame,
    features: list[str],
    params: LearnerParams,
    hyperparameters: dict[str, Any] | None = None,
    rounds: int | None = None,
    valid: pd.DataFrame | None = None,
) -> FittedLearner:
    """Fit ``params.kind`` on a training frame (WMAE weights), optionally early-stopping on
    ``valid``; ``rounds`` overrides ``params.rounds`` (the tuned number of rounds)."""
    if frame[TARGET].isna().any():
        raise ValueError(f"the training frame has {int(frame[TARGET].isna().sum())} NaN targets")
    if params.kind not in REGISTRY:
        raise ValueError(f"unknown model {params.kind!r}; choose from {sorted(REGISTRY)}")
    hyper = {**params.hyperparameters, **(hyperparameters or {})}
    spec = params if rounds is None else params.model_copy(update={"rounds": int(rounds)})
    categorical = [c for c in params.categorical_features if c in features]

    def part(rows: pd.DataFrame):
        target = rows[TARGET].to_numpy(dtype=float)
        return (
            _matrix(rows, features, categorical, params.kind),
            target - residual_base(rows) if params.target == "residual" else target,
            holiday_weights(rows["is_holiday"], params.holiday_weight),
        )

    x, y, w = part(frame)
    learner = REGISTRY[params.kind]
    model, used = learner.fit(
        x, y, w, part(valid) if valid is not None and learner.early_stopping else None, spec, hyper
    )
    return FittedLearner(
        params.kind, model, list(features), categorical, used, hyper, params.target
    )


class LearnerForecaster:
    """A global model of the zoo, refit at every cutoff of a backtest."""

    def __init__(
        self,
        features: FeatureParams,
        params: LearnerParams,
        horizon: int,
        hyperparameters: dict[str, Any] | None = None,
        rounds: int | None = None,
    ) -> None:
        self.features = features
        self.params = params
        self.horizon = horizon
        self.hyperparameters = hyperparameters or {}
        self.rounds = rounds
        self.panel: pd.DataFrame | None = None

    def with_panel(self, panel: pd.DataFrame) -> LearnerForecaster:
        """Bind the panel whose rows up to each cutoff form the training set."""
        self.panel = panel
        return self

    def __call__(self, history: History, future: pd.DataFrame) -> np.ndarray:
        if self.panel is None:
            raise RuntimeError("call with_panel(panel) before backtesting a learner")
        train = learner_training_frame(
            history, self.panel, self.features, self.horizon, self.params
        )
        model = fit_learner(
            train, feature_columns(self.features), self.params, self.hyperparameters, self.rounds
        )
        return window_scorer(history, self.panel, future, self.features, self.horizon)(model)


# ---------------------------------------------------------------------------- tuning


def tune(
    panel: pd.DataFrame,
    cutoff: pd.Timestamp,
    horizon: int,
    features: FeatureParams,
    params: LearnerParams,
) -> dict[str, Any]:
    """Pick hyperparameters and rounds at one backtest cutoff (see the module docstring).

    Returns ``{"model", "cutoff", "hyperparameters", "rounds", "candidates": [{..., "wmae",
    "rounds", "seconds"}]}``. Every candidate is tried, in the order of
    :func:`.tuning.candidates`; the lowest WMAE wins (ties: the earlier candidate). ``seconds``
    is informative only: nothing depends on it. Raises :class:`TuningTimeout` as soon as the
    tuning has taken longer than ``time_budget_seconds`` (a guard against a runaway run, never a
    reason to skip).
    """
    cutoff = pd.Timestamp(cutoff)
    history = History.from_panel(
        panel, cutoff, observed=features.covariates.observed, start=panel[TIME_COLUMN].min()
    )
    train = learner_training_frame(history, panel, features, horizon, params)
    window = (panel[TIME_COLUMN] > cutoff) & (panel[TIME_COLUMN] <= cutoff + horizon * WEEK)
    future = panel.loc[window]
    scoring = window_scorer(history, panel, future, features, horizon)
    inner = train[TIME_COLUMN] > cutoff - params.inner_validation_weeks * WEEK
    early = REGISTRY[params.kind].early_stopping
    fit_rows, valid_rows = (train.loc[~inner], train.loc[inner]) if early else (train, None)
    columns = feature_columns(features)

    started, results = time.perf_counter(), []
    grid = candidates(params.search_space, params.max_candidates, params.seed)
    progress = Progress(f"Tuning {params.kind}", len(grid), logger)
    for candidate in grid:
        began = time.perf_counter()
        model = fit_learner(fit_rows, columns, params, candidate, valid=valid_rows)
        error = wmae(future[TARGET], scoring(model), future["is_holiday"], params.holiday_weight)
        results.append(
            {
                **candidate,
                "wmae": float(error),
                "rounds": model.rounds,
                "seconds": round(time.perf_counter() - began, 2),
            }
        )
        progress.done(f"{candidate} -> WMAE {error:.1f}")
        _check_budget(params, time.perf_counter() - started, len(results), len(grid))
    best = min(results, key=lambda r: r["wmae"])
    chosen = {k: v for k, v in best.items() if k not in ("wmae", "rounds", "seconds")}
    logger.info(
        "Tuned %s at cutoff %s: %d/%d candidates in %.1f s, best %s (%s rounds, WMAE %.1f)",
        params.kind,
        cutoff.date(),
        len(results),
        len(grid),
        time.perf_counter() - started,
        chosen,
        best["rounds"],
        best["wmae"],
    )
    return {
        "model": params.kind,
        "cutoff": f"{cutoff:%Y-%m-%d}",
        "hyperparameters": {**params.hyperparameters, **chosen},
        "rounds": best["rounds"],
        "candidates": results,
    }


def _check_budget(params: LearnerParams, elapsed: float, done: int, total: int) -> None:
    """Stop the run (never skip a candidate) once tuning has taken longer than its budget."""
    if elapsed <= params.time_budget_seconds:
        return
    raise TuningTimeout(
        f"Tuning {params.kind} took {elapsed:.0f} s after {done} of {total} candidates, over its "
        f"time budget of {params.time_budget_seconds:.0f} s "
        f"(modelling.{params.kind}.time_budget_seconds). "
        "The budget only guards against a runaway run: candidates are never skipped, so that the "
        "chosen model does not depend on the machine's load. If the machine is just slow or busy, "
        f"raise it, e.g. kedro run --params modelling.{params.kind}.time_budget_seconds="
        f"{max(2 * params.time_budget_seconds, 2 * elapsed * total / max(done, 1)):.0f}; or make "
        f"tuning cheaper in conf/base/parameters_modelling.yml (modelling.{params.kind}: "
        "max_candidates, max_train_rows, rounds)."
    )


__all__ = [
    "MODELS",
    "REGISTRY",
    "Learner",
    "FittedLearner",
    "LearnerForecaster",
    "LearnerParams",
    "TuningTimeout",
    "fit_learner",
    "learner_training_frame",
    "per_department_sample",
    "predict_frame",
    "sample_fraction",
    "sample_positions",
    "subsample",
    "tune",
    "window_scorer",
]
