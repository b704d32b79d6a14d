"""``eda`` pipeline: data-quality report, dashboard tables and figures of the primary splits.

Table nodes read ``prm_train``, ``prm_validation`` and ``prm_test``; each ``plot_*`` node reads
one ``rpt_eda_*`` table only, so every figure has the CSV behind it. Tags: ``quality`` (the
data-quality report) and ``figure`` (``kedro run --pipeline eda --tags figure`` redraws the
figures from the saved tables).
"""

from kedro.pipeline import Node, Pipeline

from . import nodes

SPLITS = ["prm_train", "prm_validation", "prm_test"]


def create_pipeline(**kwargs) -> Pipeline:
    """Check and describe the splits; write one table and one figure per question."""
    return Pipeline(
        [
            # data quality
            Node(
                nodes.summarize_sales,
                SPLITS,
                "rpt_eda_summary",
                name="summarize_sales",
                tags="quality",
            ),
            Node(
                nodes.profile_series,
                SPLITS,
                "rpt_eda_series_profile",
                name="profile_series",
                tags="quality",
            ),
            Node(
                nodes.check_data_quality,
                [*SPLITS, "rpt_eda_series_profile", "params:eda"],
                ["rpt_eda_quality_checks", "rpt_eda_missing_covariates"],
                name="check_data_quality",
                tags="quality",
            ),
            Node(
                nodes.summarize_data_quality,
                [
                    "rpt_eda_summary",
                    "rpt_eda_quality_checks",
                    "rpt_eda_missing_covariates",
                    "rpt_eda_series_profile",
                ],
                "rpt_eda_quality_summary",
                name="summarize_data_quality",
                tags="quality",
            ),
            Node(
                nodes.plot_missing_covariates,
                "rpt_eda_missing_covariates",
                "rpt_eda_missing_covariates_figure",
                name="plot_missing_covariates",
                tags=["quality", "figure"],
            ),
            Node(
                nodes.plot_series_profile,
                "rpt_eda_series_profile",
                "rpt_eda_series_profile_figure",
                name="plot_series_profile",
                tags=["quality", "figure"],
            ),
            # sales over time
            Node(
                nodes.aggregate_weekly_sales,
                SPLITS,
                "rpt_eda_weekly_sales",
                name="aggregate_weekly_sales",
            ),
            Node(
                nodes.plot_total_weekly_sales,
                "rpt_eda_weekly_sales",
                "rpt_eda_total_sales_figure",
                name="plot_total_weekly_sales",
                tags="figure",
            ),
            Node(
                nodes.plot_yearly_overlay,
                "rpt_eda_weekly_sales",
                "rpt_eda_yearly_overlay_figure",
                name="plot_yearly_overlay",
                tags="figure",
            ),
            Node(
                nodes.compute_holiday_uplift,
                "rpt_eda_weekly_sales",
                "rpt_eda_holiday_uplift",
                name="compute_holiday_uplift",
            ),
            Node(
                nodes.plot_holiday_uplift,
                "rpt_eda_holiday_uplift",
                "rpt_eda_holiday_uplift_figure",
                name="plot_holiday_uplift",
                tags="figure",
            ),
            # stores and departments
            Node(nodes.profile_stores, SPLITS, "rpt_eda_store_sales", name="profile_stores"),
            Node(
                nodes.plot_store_sales,
                "rpt_eda_store_sales",
                "rpt_eda_store_sales_figure",
                name="plot_store_sales",
                tags="figure",
            ),
            Node(
                nodes.rank_departments, SPLITS, "rpt_eda_department_sales", name="rank_departments"
            ),
            Node(
                nodes.plot_top_departments,
                ["rpt_eda_department_sales", "params:eda"],
                "rpt_eda_top_departments_figure",
                name="plot_top_departments",
                tags="figure",
            ),
            # covariates
            Node(
                nodes.aggregate_store_weeks,
                [*SPLITS, "params:eda"],
                "rpt_eda_store_weeks",
                name="aggregate_store_weeks",
            ),
            Node(
                nodes.plot_markdowns_vs_sales,
                "rpt_eda_store_weeks",
                "rpt_eda_markdown_sales_figure",
                name="plot_markdowns_vs_sales",
                tags="figure",
            ),
            Node(
                nodes.correlate_covariates,
                ["rpt_eda_store_weeks", "params:eda"],
                "rpt_eda_covariate_correlations",
                name="correlate_covariates",
            ),
            Node(
                nodes.plot_covariate_correlations,
                "rpt_eda_covariate_correlations",
                "rpt_eda_covariate_correlations_figure",
                name="plot_covariate_correlations",
                tags="figure",
            ),
        ]
    )
