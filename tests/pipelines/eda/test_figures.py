"""The EDA missing-covariates heatmap prints each share to its precision."""

from __future__ import annotations

import pandas as pd
import pytest

from retail_forecasting.pipelines.eda.nodes import format_percent, plot_missing_covariates


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (100.0, "100"),
        (0.17, "0.17"),
        (0.0412, "0.041"),
        (3.25, "3.2"),
        (38.4, "38"),
        (99.8, "99.8"),
        (12.5, "12"),
    ],
)
def test_format_percent(value, text):
    assert format_percent(value) == text


def test_missing_covariates_heatmap_shows_small_shares_instead_of_zero():
    table = pd.DataFrame(
        {
            "covariate": ["cpi", "cpi", "markdown1", "markdown1"],
            "period": ["2010Q1", "2010Q2", "2010Q1", "2010Q2"],
            "missing_pct": [0.0, 0.17, 100.0, 38.4],
        }
    )
    figure = plot_missing_covariates(table)
    texts = sorted(t.get_text() for t in figure.axes[0].texts)
    assert texts == ["0", "0.17", "100", "38"]
