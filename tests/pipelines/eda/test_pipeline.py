"""Run the ``eda`` pipeline on an in-memory catalog; check its catalog entries."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from retail_forecasting.pipelines.eda import create_pipeline
from retail_forecasting.pipelines.eda.nodes import EdaParameters
from retail_forecasting.resolvers import CUSTOM_RESOLVERS

PROJECT_ROOT = Path(__file__).resolve().parents[3]

TABLES = {
    "rpt_eda_summary",
    "rpt_eda_quality_checks",
    "rpt_eda_missing_covariates",
    "rpt_eda_series_profile",
    "rpt_eda_weekly_sales",
    "rpt_eda_holiday_uplift",
    "rpt_eda_store_sales",
    "rpt_eda_department_sales",
    "rpt_eda_store_weeks",
    "rpt_eda_covariate_correlations",
}
FIGURES = {
    "rpt_eda_missing_covariates_figure",
    "rpt_eda_series_profile_figure",
    "rpt_eda_total_sales_figure",
    "rpt_eda_yearly_overlay_figure",
    "rpt_eda_holiday_uplift_figure",
    "rpt_eda_store_sales_figure",
    "rpt_eda_top_departments_figure",
    "rpt_eda_markdown_sales_figure",
    "rpt_eda_covariate_correlations_figure",
}
REPORTS = {"rpt_eda_quality_summary"}


class KeptDataset(MemoryDataset):
    """A memory dataset the runner cannot release, so every output stays loadable."""

    def _release(self) -> None:
        pass


@pytest.fixture(scope="module")
def catalog_config() -> dict:
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    return loader["catalog"]


def test_eda_pipeline_writes_every_table_figure_and_the_report(splits):
    pipeline = create_pipeline()
    assert pipeline.inputs() == {*splits, "params:eda"}
    assert pipeline.all_outputs() == TABLES | FIGURES | REPORTS
    assert all(
        node.name.split("_")[0]
        in {"summarize", "profile", "check", "plot", "aggregate", "compute", "rank", "correlate"}
        for node in pipeline.nodes
    )
    # every figure is drawn from one reporting table only
    for node in pipeline.only_nodes_with_tags("figure").nodes:
        assert node.name.startswith("plot_")
        assert set(node.inputs) - {"params:eda"} <= TABLES, node.name

    # one run (figures are the slow part); outputs kept in memory for the assertions
    inputs = {**splits, "params:eda": EdaParameters()}
    catalog = DataCatalog(
        {name: MemoryDataset(value) for name, value in inputs.items()}
        | {name: KeptDataset() for name in pipeline.all_outputs()}
    )
    SequentialRunner().run(pipeline, catalog)
    try:
        for name in TABLES:
            table = catalog.load(name)
            assert isinstance(table, pd.DataFrame) and not table.empty, name
        for name in FIGURES:
            assert isinstance(catalog.load(name), Figure), name
        assert catalog.load("rpt_eda_quality_summary").startswith("# Data quality")
        summary = catalog.load("rpt_eda_summary")
        assert summary["rows"].tolist() == [len(frame) for frame in splits.values()]
    finally:
        plt.close("all")


def test_every_eda_output_is_a_reporting_dataset_under_08_reporting_eda(catalog_config):
    for name in TABLES | FIGURES | REPORTS:
        entry = catalog_config[name]
        assert entry["metadata"]["kedro-viz"]["layer"] == "reporting", name
        filepath = entry.get("filepath") or entry["dataset"]["filepath"]
        assert filepath == f"{PROJECT_ROOT.as_posix()}/data/08_reporting/eda/{Path(filepath).name}"
    for name in TABLES:
        entry = catalog_config[name]
        assert entry["type"] == "pandas.CSVDataset", name
        assert entry["metadata"]["kedro-viz"]["preview_args"]["nrows"] > 0, name
    for name in FIGURES:
        entry = catalog_config[name]
        assert entry["type"] == "kedro_mlflow.io.artifacts.MlflowArtifactDataset", name
        assert entry["dataset"]["type"] == "matplotlib.MatplotlibDataset", name
        assert entry["dataset"]["filepath"].endswith(".png"), name
