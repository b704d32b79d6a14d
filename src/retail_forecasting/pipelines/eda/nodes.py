"""Nodes of the ``eda`` pipeline: data quality, dashboard tables and figures of the primary splits.

The functions live by role; this module gathers the ones the pipeline runs (and notebooks call
as ``nodes.plot_holiday_uplift(catalog.load("rpt_eda_holiday_uplift"))``):

* :mod:`.quality` — ``summarize_sales``, ``profile_series``, ``check_data_quality`` (one small
  function per check) and ``summarize_data_quality`` (the Markdown report);
* :mod:`.tables` — the dashboard tables (``aggregate_*``, ``compute_*``, ``profile_stores``,
  ``rank_departments``, ``correlate_covariates``), each reading the primary splits or one
  table and returning one ``rpt_eda_*`` table;
* :mod:`.plots` — the ``plot_*`` functions, each drawing one figure from one of those tables
  only, so the CSV written next to every figure is exactly the data behind it;
* :mod:`.common` — :class:`EdaParameters` (``params:eda``), labels and colours.
"""

from retail_forecasting.pipelines.eda.common import EdaParameters
from retail_forecasting.pipelines.eda.plots import (
    plot_covariate_correlations,
    plot_holiday_uplift,
    plot_markdowns_vs_sales,
    plot_missing_covariates,
    plot_series_profile,
    plot_store_sales,
    plot_top_departments,
    plot_total_weekly_sales,
    plot_yearly_overlay,
)
from retail_forecasting.pipelines.eda.quality import (
    check_data_quality,
    format_percent,
    profile_series,
    summarize_data_quality,
    summarize_sales,
)
from retail_forecasting.pipelines.eda.tables import (
    aggregate_store_weeks,
    aggregate_weekly_sales,
    compute_holiday_uplift,
    correlate_covariates,
    profile_stores,
    rank_departments,
)

__all__ = [
    "EdaParameters",
    "aggregate_store_weeks",
    "aggregate_weekly_sales",
    "check_data_quality",
    "compute_holiday_uplift",
    "correlate_covariates",
    "format_percent",
    "plot_covariate_correlations",
    "plot_holiday_uplift",
    "plot_markdowns_vs_sales",
    "plot_missing_covariates",
    "plot_series_profile",
    "plot_store_sales",
    "plot_top_departments",
    "plot_total_weekly_sales",
    "plot_yearly_overlay",
    "profile_series",
    "profile_stores",
    "rank_departments",
    "summarize_data_quality",
    "summarize_sales",
]
