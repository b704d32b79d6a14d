"""kedro-mlflow's metrics-history dataset, logged in batches.

``kedro_mlflow.io.metrics.MlflowMetricsHistoryDataset`` logs one metric per request
(``MlflowClient.log_metric``): on the SQLite tracking store that is one transaction each, about
4 ms, so the ~500 interval scores of an evaluation (every model's test and backtest scores per
level) took ~2 s. :class:`MlflowMetricsBatchDataset` sends them with ``MlflowClient.log_batch``,
at most :data:`BATCH` per request (MLflow's limit), one timestamp per save: ~0.06 s. Everything
else is kedro-mlflow's: the format it saves (``{key: {"value": v, "step": s}}`` or a list of
them), ``prefix``, the run it logs to (the active run, or ``run_id``), loading, and the hook
that turns logging off for a pipeline.
"""

from __future__ import annotations

import time
from itertools import chain
from typing import Any

from kedro.io import DatasetError
from kedro_mlflow.io.metrics import MlflowMetricsHistoryDataset
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

BATCH = 1000  # MLflow's most metrics per log_batch request


class MlflowMetricsBatchDataset(MlflowMetricsHistoryDataset):
    """``MlflowMetricsHistoryDataset`` whose save is a few ``log_batch`` requests."""

    def _save(self, data: dict[str, Any]) -> None:
        if not self._logging_activated:
            return
        try:
            run_id = self.run_id
        except DatasetError:
            # no run: kedro-mlflow's own save starts one, as it always did
            super()._save(data)
            return
        timestamp = int(time.time() * 1000)
        metrics = [
            Metric(key, float(value), timestamp, int(step))
            for key, value, step in chain.from_iterable(
                self._build_args_list_from_metric_item(k, v) for k, v in data.items()
            )
        ]
        client = MlflowClient()
        for start in range(0, len(metrics), BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + BATCH])
