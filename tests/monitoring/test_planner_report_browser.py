"""The planner's report: one self-contained HTML page (no network), opened in headless Chromium
(Debian's, as tests/test_viz_browser.py drives it): the checks table, the status and every
figure decoded. Skipped without Chromium, except in CI (CI=true), where it fails."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.monitoring import checks
from retail_forecasting.monitoring.checks import MonitoringParams
from retail_forecasting.pipelines.monitoring.nodes import write_planner_report

from .test_checks import WEEKS, backtest, sales, scored, store_features

WINDOW = (1400, 1000)


def latest_forecast(frame: pd.DataFrame) -> pd.DataFrame:
    """The newest origin's forecasts of the next 4 weeks, with bands (as the view returns them)."""
    series = frame[["store", "dept", "store_type"]].drop_duplicates()
    future = pd.DataFrame({"date": WEEKS[-1] + pd.to_timedelta(np.arange(1, 5) * 7, unit="D")})
    rows = series.merge(future, how="cross").assign(
        origin=WEEKS[-1],
        model_version="7",
        model_name="m",
        step=lambda f: (f["date"] - WEEKS[-1]).dt.days // 7,
        forecast=lambda f: 1000.0 * f["store"] + 100 * f["dept"],
        actual=np.nan,
        is_holiday=False,
        created_at=pd.Timestamp("2026-12-01"),
    )
    for q, k in (("q0_025", 0.8), ("q0_1", 0.9), ("q0_5", 1.0), ("q0_9", 1.1), ("q0_975", 1.2)):
        rows[q] = rows["forecast"] * k
    return rows


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    promise = checks.backtest_promise(backtest(), "m", total_steps=2)
    frame = sales(halve=2)
    rows = scored(frame)
    params = MonitoringParams()
    result = checks.evaluate(rows, frame, store_features(), promise, params)
    summary = {
        **result.summary,
        "forecast": {
            "model_name": "m",
            "trained_origin": "2011-09-23",
            "origin": "2011-10-07",
            "weeks_since_training": 2,
            "horizon_weeks": 4,
            "series": 6,
        },
    }
    html = write_planner_report(
        frame, latest_forecast(frame), rows, result.scores, result.checks, summary, promise, params
    )
    path = tmp_path_factory.mktemp("report") / "planner_report.html"
    path.write_text(html, encoding="utf-8")
    return path, result


def test_the_report_is_self_contained(report_file):
    path, result = report_file
    html = path.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must not fetch anything"
    assert html.count('src="data:image/png;base64,') == 5
    assert f"week ending {result.summary['as_of_week']}" in html


@pytest.mark.slow
def test_the_report_renders_in_chromium(chromium_command, check_screenshot, report_file, tmp_path):
    path, result = report_file
    screenshot = tmp_path / "report.png"
    command = chromium_command(path.as_uri(), screenshot, tmp_path / "profile", WINDOW, 5000)
    browser = subprocess.run(command, capture_output=True, timeout=180, start_new_session=True)
    dom = browser.stdout.decode(errors="replace")
    assert 'id="checks"' in dom, browser.stderr.decode(errors="replace")[-2000:]
    assert re.search(r'data-images-loaded="5"', dom), "every figure must decode in the browser"
    assert "ALERT" in dom and "total.store_deviation" in dom and "store=2" in dom
    shown = re.findall(r'<tr class="(alert|ok|info)">', dom)
    assert len(shown) == len(result.checks) and shown[0] == "alert"  # alerts first
    check_screenshot(screenshot, WINDOW)
