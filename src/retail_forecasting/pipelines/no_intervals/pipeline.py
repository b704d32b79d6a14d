"""``no_intervals``: the default run without the prediction intervals (issue #12).

``kedro run --pipeline no_intervals`` runs every pipeline of ``__default__`` as it is, except
that the evaluation leaves out its interval nodes (tagged
:data:`retail_forecasting.pipelines.evaluation.pipeline.INTERVAL_TAG`): the same point
forecasts, backtests, champion, ``metrics.json`` without ``intervals`` and a champion pyfunc
without quantile columns. It exists to measure what the intervals add to a run's time (the
issue's "at most 15 % more", docs/benchmarks.md); it is not part of ``__default__``.
"""

import importlib
import pkgutil

from kedro.pipeline import Pipeline

from retail_forecasting import pipelines as package
from retail_forecasting.pipelines.evaluation.pipeline import create_pipeline as evaluation

NAME = "no_intervals"


def default_pipelines() -> list[str]:
    """The pipelines ``__default__`` is made of (every folder of ``pipelines`` but the
    on-demand ones, :data:`retail_forecasting.pipeline_registry.ON_DEMAND`), sorted."""
    from retail_forecasting.pipeline_registry import ON_DEMAND

    return sorted(
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.ispkg and m.name not in ON_DEMAND
    )


def create_pipeline(**kwargs) -> Pipeline:
    parts = [
        evaluation(with_intervals=False)
        if name == "evaluation"
        else importlib.import_module(f"{package.__name__}.{name}").create_pipeline()
        for name in default_pipelines()
    ]
    return sum(parts, Pipeline([]))
