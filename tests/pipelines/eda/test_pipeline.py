"""Run the ``eda`` pipeline on an in-memory catalog."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from retail_forecasting.pipelines.eda import create_pipeline


def test_eda_pipeline_summarizes_and_plots(splits, run_pipeline):
    pipeline = create_pipeline()
    assert pipeline.inputs() == set(splits)
    assert pipeline.outputs() == {"rpt_eda_summary", "rpt_eda_total_sales_figure"}

    catalog = run_pipeline(pipeline, splits)

    summary = catalog.load("rpt_eda_summary")
    assert summary["split"].tolist() == ["train", "validation", "test"]
    assert summary["rows"].tolist() == [len(frame) for frame in splits.values()]
    figure = catalog.load("rpt_eda_total_sales_figure")
    try:
        assert isinstance(figure, Figure)
        assert figure.axes[0].get_title()
    finally:
        plt.close("all")
