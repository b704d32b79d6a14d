"""Project hooks: the alias ``challenger`` on each newly registered champion version.

The champion is logged and registered by the catalog entry ``rpt_champion_model``
(kedro-mlflow's ``MlflowModelTrackingDataset`` with ``registered_model_name``); MLflow's log
call returns the new version, which this hook marks ``challenger``. Promotion to ``champion``
is a reviewed, manual step: ``python -m retail_forecasting.registry promote --version N``.
"""

from __future__ import annotations

import logging
import dataclasses
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

CHAMPION_DATASET = "rpt_champion_model"


class ChallengerAliasHook:
    """Set ``challenger`` on the registered version that ``rpt_champion_model`` just logged."""

    def __init__(self) -> None:
        self._catalog: Any = None
        self._run_id: str | None = None

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._run_id = None

    @hook_impl
    def after_pipeline_run(self) -> None:
        """After a run that logged the champion, the run is still on MLflow's active-run stack once
        kedro-mlflow has ended it (seen with kedro-mlflow 2.0.3 and MLflow 3.17; cause not pinned
        down): close what is left of it, so that a later session in the same process (tests,
        notebooks) does not log into it."""
        if self._run_id is None:
            return
        import mlflow

        while (run := mlflow.active_run()) is not None and run.info.run_id == self._run_id:
            mlflow.end_run()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:  # noqa: ARG002
        if dataset_name != CHAMPION_DATASET or self._catalog is None:
            return
        dataset = self._catalog.get(dataset_name)
        info = getattr(dataset, "model_info", None)
        version = getattr(info, "registered_model_version", None)
        name = getattr(dataset, "_save_args", {}).get("registered_model_name")
        if version is None or name is None:
            logger.warning("%s was not registered (tracking off?): no challenger alias set", dataset_name)
            return
        import mlflow

        self._run_id = info.run_id
        mlflow.MlflowClient().set_registered_model_alias(name, "challenger", str(version))
        logger.info("Registered %s version %s, alias 'challenger' (promote with: "
                    "python -m retail_forecasting.registry promote --version %s)", name, version, version)


def flatten_params(prefix: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` under ``p`` -> ``{"p.a.b": 1}``; typed parameters are dumped first."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten_params(f"{prefix}.{key}", item))
        return flat
    return {prefix: value}


class FlatParamsHook:
    """Log typed parameters (pydantic models, dataclasses) flattened, one MLflow param per leaf.

    kedro-mlflow flattens plain dicts (``flatten: true`` in mlflow.yml) but logs a typed
    parameter object as one string; this logs ``baselines.moving_average_window`` and friends
    into the run kedro-mlflow opened.
    """

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any]) -> None:  # noqa: ARG002
        import mlflow

        if mlflow.active_run() is None:
            return
        flat: dict[str, Any] = {}
        for name, value in inputs.items():
            if name.startswith("params:") and not isinstance(value, (dict, list, str, int, float, bool)):
                flat.update(flatten_params(name.removeprefix("params:"), value))
        if flat:
            mlflow.log_params({k: str(v)[:6000] for k, v in flat.items()})
