"""The engine's long loops report through retail_forecasting.progress: a line per tuning
candidate and per backtest fold, with elapsed time and time left."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from retail_forecasting.forecasting.backtest import cross_validation
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LearnerParams, tune

HORIZON = 39


def _lines(caplog, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


def test_tuning_logs_a_line_per_candidate_with_the_time_left(synthetic_panel, caplog):
    weeks = np.sort(synthetic_panel["date"].unique())
    panel = synthetic_panel[synthetic_panel["date"] <= weeks[-HORIZON - 1]]
    cutoff = pd.Timestamp(weeks[-2 * HORIZON - 1])
    params = LearnerParams(kind="ridge", search_space={"alpha": [1.0, 10.0, 100.0]})
    with caplog.at_level(logging.INFO, logger="retail_forecasting.forecasting.learners"):
        tune(panel, cutoff, HORIZON, FeatureParams(), params)
    lines = _lines(caplog, "Tuning ridge ")
    assert [line.split(":", 1)[0] for line in lines] == [
        "Tuning ridge 1/3",
        "Tuning ridge 2/3",
        "Tuning ridge 3/3",
    ]
    assert "{'alpha': 1.0} -> WMAE" in lines[0] and " elapsed" in lines[0]
    assert lines[-1].endswith("elapsed)")  # the last candidate: nothing left to estimate


def test_a_backtest_logs_a_line_per_fold_with_the_time_left(synthetic_panel, caplog):
    weeks = np.sort(synthetic_panel["date"].unique())
    cutoffs = [pd.Timestamp(weeks[-2 * HORIZON - 1 - 6 * i]) for i in (2, 1, 0)]

    def last_value(history, future):
        return np.zeros(len(future))

    with caplog.at_level(logging.INFO, logger="retail_forecasting.forecasting.backtest"):
        cross_validation(synthetic_panel, {"zero": last_value}, HORIZON, cutoffs)
    lines = _lines(caplog, "Backtest fold ")
    assert [line.split(":", 1)[0] for line in lines] == [
        "Backtest fold 1/3",
        "Backtest fold 2/3",
        "Backtest fold 3/3",
    ]
    assert f"cutoff {cutoffs[0].date()}" in lines[0] and " elapsed" in lines[0]
