"""Unit tests of the ``eda`` nodes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from retail_forecasting.pipelines.eda.nodes import plot_total_weekly_sales, summarize_sales


def test_summarize_sales_per_split(splits, panel):
    summary = summarize_sales(*splits.values()).set_index("split")

    assert summary.index.tolist() == ["train", "validation", "test"]
    assert summary["rows"].tolist() == [len(frame) for frame in splits.values()]
    assert summary["rows"].sum() == len(panel)
    # (3, 4) only starts in the test window
    assert summary["series"].tolist() == [11, 11, 12]
    assert summary["weeks"].tolist() == [72, 39, 39]
    assert summary.loc["train", "start"] == "2010-02-05"
    assert summary.loc["test", "end"] == "2012-12-14"
    # Kaggle holidays in each window: 2010-02-12, 2010-09-10, 2010-11-26, 2010-12-31,
    # 2011-02-11 | 2011-09-09, 2011-11-25, 2011-12-30, 2012-02-10 | 2012-09-07, 2012-11-23
    assert summary["holiday_weeks"].tolist() == [5, 4, 2]
    assert summary["negative_sales_rows"].sum() == int((panel["weekly_sales"] < 0).sum()) > 0
    assert np.isclose(summary["total_sales"].sum(), panel["weekly_sales"].sum())


def test_summarize_sales_names_a_missing_column(splits):
    with pytest.raises(ValueError, match=r"prm_test is missing column\(s\) \['is_holiday'\]"):
        summarize_sales(
            splits["prm_train"],
            splits["prm_validation"],
            splits["prm_test"].drop(columns="is_holiday"),
        )


def test_summarize_sales_refuses_an_empty_split(splits):
    with pytest.raises(ValueError, match="prm_validation is empty"):
        summarize_sales(splits["prm_train"], splits["prm_validation"].head(0), splits["prm_test"])


def test_plot_total_weekly_sales(splits, panel):
    figure = plot_total_weekly_sales(*splits.values())
    try:
        assert isinstance(figure, Figure)
        (ax,) = figure.axes
        assert ax.get_title() and ax.get_xlabel() and "USD" in ax.get_ylabel()
        (line,) = ax.get_lines()
        totals = panel.groupby("date")["weekly_sales"].sum() / 1e6
        assert np.allclose(line.get_ydata(), totals.to_numpy())
        # holiday weeks as points: 11 in the fixture's 150 weeks
        (holidays,) = ax.collections
        assert len(holidays.get_offsets()) == 11
        # validation and test windows shaded
        labels = [patch.get_label() for patch in ax.patches]
        assert labels == ["Validation window", "Test window"]
    finally:
        plt.close(figure)
