"""Helpers of the modelling tests that run baselines -> modelling -> the champion end to end
(test_determinism, test_horizons)."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from retail_forecasting.pipelines import baselines, evaluation, modelling
from retail_forecasting.pipelines.evaluation import nodes


def champion_pipeline(models: tuple[str, ...]) -> Pipeline:
    """The baselines, the modelling of ``models`` and their ensemble, then the champion and
    ``metrics.json``: the evaluation pipeline's own first nodes (every model's test forecasts,
    the champion) and the test-window scores without the intervals (no figure, interval or
    package)."""
    evaluate = evaluation.create_pipeline(models).only_nodes(
        "assemble_test_forecasts", "select_champion"
    ) + Pipeline(
        [
            Node(
                nodes.evaluate_test_window,
                ["mo_test_forecasts", "rpt_champion", "params:horizon_weeks"],
                ["rpt_metrics", "rpt_model_evaluation_report", "rpt_test_mlflow_metrics"],
                name="evaluate_test_window",
            )
        ]
    )
    return baselines.create_pipeline() + modelling.create_pipeline(models) + evaluate


def run_node_by_node(pipeline: Pipeline, inputs: dict) -> DataCatalog:
    """Run ``pipeline`` one node at a time on an in-memory catalog holding ``inputs``, so that
    every output stays loadable (the runner releases what a whole run has consumed)."""
    missing = pipeline.inputs() - set(inputs)
    assert not missing, f"pipeline inputs not provided: {missing}"
    catalog = DataCatalog({name: MemoryDataset(value) for name, value in inputs.items()})
    for node in pipeline.nodes:  # topologically sorted
        SequentialRunner().run(pipeline.only_nodes(node.name), catalog)
    return catalog
