"""kedro-mlflow's model registry dataset, with a readable error when the model is missing."""

from __future__ import annotations

from typing import Any

from kedro.io import DatasetError
from kedro_mlflow.io.models import MlflowModelRegistryDataset

from retail_forecasting.model_registry import RegisteredModelNotFound, check_alias


class RegisteredModelDataset(MlflowModelRegistryDataset):
    """:class:`kedro_mlflow.io.models.MlflowModelRegistryDataset` (same arguments, same model)
    that first asks the registry whether the model and the alias exist.

    MLflow's own error for a missing alias is ``Registered model alias champion not found.``;
    this dataset says instead which versions and aliases exist and what to do (promote a
    version, pick another alias with ``--params model_alias=...``, or run ``kedro run`` first
    when nothing is registered), see :func:`retail_forecasting.model_registry.check_alias`.

    Example catalog entry::

        mdl_registered_champion:
          type: retail_forecasting.datasets.RegisteredModelDataset
          model_name: retail_forecasting_champion
          alias: ${runtime_params:model_alias, champion}
    """

    def _load(self) -> Any:
        try:
            check_alias(self.alias, self.model_name)
        except RegisteredModelNotFound as exc:
            raise DatasetError(str(exc)) from exc  # the CLI prints the cause's message alone
        return super()._load()
