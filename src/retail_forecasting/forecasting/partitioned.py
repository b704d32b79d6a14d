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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Runner = Callable[..., Any]

_runner: Runner | None = None


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
