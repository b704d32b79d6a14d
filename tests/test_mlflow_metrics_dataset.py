"""MlflowMetricsBatchDataset: kedro-mlflow's metrics-history format, prefix and run, logged in
log_batch requests of at most 1,000 metrics instead of one request per metric."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from retail_forecasting.datasets import MlflowMetricsBatchDataset
from retail_forecasting.datasets.mlflow_metrics import BATCH


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    calls = []
    real = MlflowClient.log_batch

    def counted(self, run_id, metrics=(), *args, **kwargs):
        calls.append(len(metrics))
        return real(self, run_id, metrics, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", counted)
    yield calls
    if mlflow.active_run():
        mlflow.end_run()


def test_metrics_are_logged_as_kedro_mlflow_logs_them_in_few_requests(tracking):
    data = {f"m{i}": {"value": float(i), "step": 0} for i in range(2 * BATCH + 5)}
    data["history"] = [{"value": 3.0, "step": 1}, {"value": 2.0, "step": 2}]
    with mlflow.start_run() as run:
        MlflowMetricsBatchDataset(prefix="").save(data)
        MlflowMetricsBatchDataset(prefix="stage").save({"wmae": {"value": 1.5, "step": 0}})
    assert tracking == [BATCH, BATCH, 7, 1]
    client = MlflowClient()
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["m0"] == 0.0 and metrics[f"m{2 * BATCH + 4}"] == 2 * BATCH + 4
    assert metrics["stage.wmae"] == 1.5
    history = client.get_metric_history(run.info.run_id, "history")
    assert sorted((m.step, m.value) for m in history) == [(1, 3.0), (2, 2.0)]
    # loaded back as kedro-mlflow's dataset loads them
    loaded = MlflowMetricsBatchDataset(prefix="stage", run_id=run.info.run_id).load()
    assert loaded == {"stage.wmae": {"step": 0, "value": 1.5}}


def test_nothing_is_logged_when_kedro_mlflow_turns_logging_off(tracking):
    dataset = MlflowMetricsBatchDataset(prefix="")
    dataset._logging_activated = False  # what kedro-mlflow's hook does for a disabled pipeline
    with mlflow.start_run() as run:
        dataset.save({"a": {"value": 1.0, "step": 0}})
    assert tracking == []
    assert MlflowClient().get_run(run.info.run_id).data.metrics == {}
