"""Where the per-department work of a backtest runs: here, or on a distributed engine.

The baselines and the decomposition model forecast each department from that department's
series alone (per-series lookups, the per-department SVD, per-department fallbacks); their
forecasters say so with :func:`per_department`. :func:`.backtest.cross_validation` hands a set
of such forecasters to the registered runner, if any — ``kedro run --env spark`` registers
:func:`retail_forecasting.spark.engine.cross_validation_by_department`, which runs the same
function on each department with Spark's ``applyInPandas`` — and runs everything else (the
global learners, or any run without a runner) in this process.

A runner is called as ``runner(panel, forecasters, horizon, cutoffs, observed)`` and must
return exactly what :func:`.backtest.cross_validation` returns for the same arguments.

The global learners cannot go to such a runner: one model is fit on rows of every department.
What is per department around that fit is their **sample** (the training rows are drawn per
department, seeded by (seed, department), and each row's features read its own series and
store) and their **scoring** (each forecast row's features and prediction read that row alone).
A :class:`LearnerEngine` registered with :func:`use_learners` does those two on a distributed
engine, department by department; the fit stays in this process, between them.
:mod:`.learners` calls it (``kedro run --env spark`` registers
:class:`retail_forecasting.spark.engine.SparkLearners`); without one it all runs here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

Runner = Callable[..., Any]

_runner: Runner | None = None


class LearnerEngine(Protocol):
    """Where the learners' per-department work runs. Each method must return exactly what the
    single-process code it replaces returns (:mod:`.learners` says which)."""

    def training_frame(
        self, history: Any, panel: Any, features: Any, horizon: int, params: Any
    ) -> Any:
        """The sample a fit trains on: :func:`.learners.learner_training_frame`'s frame."""

    def scorer(
        self, history: Any, panel: Any, future: Any, features: Any, horizon: int
    ) -> Callable[[Any], Any]:
        """``model -> forecasts`` of ``future`` from ``history``'s cutoff: what
        ``model.predict(forecast_frame(history, future, features, horizon))`` returns."""

    def predict(self, model: Any, frame: Any) -> Any:
        """``model.predict(frame)`` of an already built forecast frame."""


_learners: LearnerEngine | None = None


def per_department(forecaster: Callable) -> Callable:
    """Mark ``forecaster`` as one whose forecasts of a department use that department alone."""
    forecaster.per_department = True  # type: ignore[attr-defined]
    return forecaster


def partitionable(forecasters: Mapping[str, Callable]) -> bool:
    """Whether every forecaster is marked :func:`per_department` (a learner never is)."""
    return bool(forecasters) and all(
        getattr(f, "per_department", False) for f in forecasters.values()
    )


def use(runner: Runner | None) -> Runner | None:
    """Register ``runner`` (None: run here); returns the one it replaces."""
    global _runner
    previous, _runner = _runner, runner
    return previous


def runner() -> Runner | None:
    """The registered runner, None when the work runs in this process."""
    return _runner


def use_learners(engine: LearnerEngine | None) -> LearnerEngine | None:
    """Register the learners' engine (None: run here); returns the one it replaces."""
    global _learners
    previous, _learners = _learners, engine
    return previous


def learners() -> LearnerEngine | None:
    """The registered learners' engine, None when their work runs in this process."""
    return _learners
