"""Helpers of the modelling tests that run baselines -> modelling -> the champion end to end
(test_determinism, test_horizons)."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from retail_forecasting.pipelines import baselines, modelling
from retail_forecasting.pipelines.evaluation import nodes as evaluation


def champion_pipeline(models: tuple[str, ...]) -> Pipeline:
    """The baselines, the modelling of ``models`` and their ensemble, then the champion and
    ``metrics.json`` (the evaluation nodes that make no figure, interval or package)."""
    candidates = (*models, "ensemble")
    evaluate = Pipeline(
        [
            Node(
                evaluation.assemble_test_forecasts,
                ["mo_baseline_test_forecasts", *(f"{m}.mo_test_forecasts" for m in candidates)],
                "mo_test_forecasts",
                name="assemble_test_forecasts",
            ),
            Node(
                evaluation.select_champion,
                ["rpt_baseline_summary", *(f"{m}.rpt_backtest_summary" for m in candidates)],
                "rpt_champion",
                name="select_champion",
            ),
            Node(
                evaluation.evaluate_test_window,
                ["mo_test_forecasts", "rpt_champion", "params:horizon_weeks"],
                ["rpt_metrics", "rpt_model_evaluation_report", "rpt_test_mlflow_metrics"],
                name="evaluate_test_window",
            ),
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
