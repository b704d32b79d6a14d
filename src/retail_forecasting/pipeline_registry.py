"""Project pipelines: Kedro's registry of pipelines (``kedro registry list``).

Not to be confused with the engine's table of learners
(:data:`retail_forecasting.forecasting.learners.REGISTRY`) or the MLflow *model* registry
commands (:mod:`retail_forecasting.model_registry`).
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

#: Pipelines run on their own, never part of ``__default__``: inference and forecast need a
#: registered model; monitoring the forecasts in the warehouse; weekly = ingestion + forecast +
#: monitoring (the weekly cycle, docs/monitoring.md); no_intervals = ``__default__`` without the
#: prediction intervals (what they cost, issue #12).
ON_DEMAND = ("inference", "forecast", "monitoring", "weekly", "no_intervals")


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    # (Kedro may load only the requested pipelines: an on-demand run then has an empty default)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in ON_DEMAND), Pipeline([])
    )
    return pipelines
