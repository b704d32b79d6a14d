"""``eda`` pipeline: a summary table and a total-sales figure of the primary splits."""

from kedro.pipeline import Node, Pipeline

from .nodes import plot_total_weekly_sales, summarize_sales

SPLITS = ["prm_train", "prm_validation", "prm_test"]


def create_pipeline(**kwargs) -> Pipeline:
    """Summarise the splits and plot total weekly sales over the whole history."""
    return Pipeline(
        [
            Node(
                func=summarize_sales,
                inputs=SPLITS,
                outputs="rpt_eda_summary",
                name="summarize_sales",
            ),
            Node(
                func=plot_total_weekly_sales,
                inputs=SPLITS,
                outputs="rpt_eda_total_sales_figure",
                name="plot_total_weekly_sales",
            ),
        ]
    )
