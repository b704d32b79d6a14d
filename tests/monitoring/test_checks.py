"""The pure monitoring functions: the backtest's promise, scores, checks and the alert decision;
the alerts file and the exit code of `kedro run`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.monitoring import alerts, checks
from retail_forecasting.monitoring.checks import MonitoringParams

WEEKS = pd.date_range("2011-01-07", periods=40, freq="7D")
STORES, DEPTS = (1, 2, 3), (1, 2)


def backtest(error: float = 0.1) -> pd.DataFrame:
    """Two cutoffs, 4 steps, forecasts off by +-``error`` of the actual (alternating)."""
    rows = []
    for cutoff in WEEKS[[20, 26]]:
        for step in range(1, 5):
            for s in STORES:
                for d in DEPTS:
                    actual = 1000.0 * s + 100 * d
                    sign = 1 if (s + d + step) % 2 else -1
                    rows.append(
                        {
                            "store": s,
                            "dept": d,
                            "date": cutoff + pd.Timedelta(weeks=step),
                            "cutoff": cutoff,
                            "step": step,
                            "is_holiday": step == 2,
                            "store_type": "A",
                            "actual": actual,
                            "m": actual * (1 + sign * error * step),
                        }
                    )
    return pd.DataFrame(rows)


def test_the_promise_per_step_and_its_spread():
    promise = checks.backtest_promise(backtest(), "m", holiday_weight=5.0, total_steps=2)
    by_step = {r["step"]: r for r in promise["by_step"]}
    frame = backtest()
    step3 = frame[frame["step"] == 3]
    assert by_step[3]["mae"] == pytest.approx((step3["m"] - step3["actual"]).abs().mean())
    assert by_step[1]["wmae"] < by_step[2]["wmae"] < by_step[3]["wmae"] < by_step[4]["wmae"]
    assert promise["weekly_ratio"]["max"] == pytest.approx(1.0)  # every week as good as its step
    assert set(promise["store_total"]["max_deviation"]) == {"1", "2", "3"}
    with pytest.raises(ValueError, match="no column"):
        checks.backtest_promise(backtest(), "nope")


def sales(weeks=WEEKS, halve: int | None = None, drop_store: int | None = None) -> pd.DataFrame:
    rows = [
        {
            "store": s,
            "dept": d,
            "date": w,
            "weekly_sales": 1000.0 * s + 100 * d,
            "is_holiday": False,
            "store_type": "A",
        }
        for w in weeks
        for s in STORES
        for d in DEPTS
    ]
    frame = pd.DataFrame(rows)
    last = frame["date"] == weeks[-1]
    if halve is not None:
        frame.loc[last & (frame["store"] == halve), "weekly_sales"] *= 0.5
    if drop_store is not None:
        frame = frame[~(last & (frame["store"] == drop_store))]
    return frame


def store_features(weeks=WEEKS, cpi_last: float = 200.0, markdowns: bool = True) -> pd.DataFrame:
    rows = [
        {
            "store": s,
            "date": w,
            "is_holiday": False,
            "temperature": 50.0 + (i % 10),
            "fuel_price": 3.0,
            "cpi": 200.0 + 0.01 * i,
            "unemployment": 7.0,
            **{f"markdown{k}": 10.0 if markdowns else np.nan for k in range(1, 6)},
        }
        for i, w in enumerate(weeks)
        for s in STORES
    ]
    frame = pd.DataFrame(rows)
    frame.loc[frame["date"] == weeks[-1], "cpi"] = cpi_last
    return frame


def scored(sales_frame: pd.DataFrame, error: float = 0.05) -> pd.DataFrame:
    """Forecasts of the last two weeks (steps 1 and 2 for the last one), off by ``error``."""
    last = sales_frame[sales_frame["date"] >= WEEKS[-2]]
    truth = sales(weeks=WEEKS)
    truth = truth[truth["date"] >= WEEKS[-2]]
    parts = []
    for origin in (WEEKS[-3], WEEKS[-2]):
        rows = truth[truth["date"] > origin].merge(
            last[["store", "dept", "date", "weekly_sales"]],
            on=["store", "dept", "date"],
            how="left",
            suffixes=("_truth", ""),
        )
        parts.append(
            pd.DataFrame(
                {
                    "model_name": "m",
                    "model_version": "7",
                    "run_id": "r",
                    "origin": origin,
                    "store": rows["store"],
                    "dept": rows["dept"],
                    "store_type": "A",
                    "date": rows["date"],
                    "step": (rows["date"] - origin).dt.days // 7,
                    "forecast": rows["weekly_sales_truth"] * (1 + error),
                    **{q: None for q in checks.QUANTILE_COLUMNS},
                    "forecast_basis": "model",
                    "actual": rows["weekly_sales"].fillna(0.0),
                    "is_holiday": False,
                    "created_at": pd.Timestamp("2026-12-01"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def promise():
    return checks.backtest_promise(backtest(), "m", total_steps=2)


def statuses(result) -> dict[str, str]:
    return {f"{r.check_name}[{r.scope}]": r.status for r in result.checks.itertuples()}


def test_a_normal_week_raises_nothing_and_every_check_has_one_row(promise):
    frame = sales()
    result = checks.evaluate(scored(frame), frame, store_features(), promise, MonitoringParams())
    assert result.summary["status"] == "ok" and result.alerts.empty, result.alerts
    assert not result.checks.duplicated(["check_name", "scope"]).any()
    assert {
        "accuracy.week_wmae_ratio[all]",
        "total.chain_deviation[all]",
        "total.store_deviation[store=2]",
        "drift.new_stores[all]",
        "drift.covariate_range[cpi]",
        "drift.markdowns_missing[all]",
    } <= set(statuses(result))
    assert (result.checks["as_of_week"] == WEEKS[-1]).all() and (
        result.checks["model_version"] == "7"
    ).all()
    assert result.summary["forecasts_scored"] == 18


def ratio(result) -> float:
    return float(
        result.checks.set_index(["check_name", "scope"]).loc[
            ("accuracy.week_wmae_ratio", "all"), "value"
        ]
    )


def test_a_halved_store_raises_its_store_deviation(promise):
    frame = sales(halve=2)
    result = checks.evaluate(scored(frame), frame, store_features(), promise, MonitoringParams())
    s = statuses(result)
    assert s["total.store_deviation[store=2]"] == "alert"
    assert s["total.store_deviation[store=1]"] == s["total.store_deviation[store=3]"] == "ok"
    normal = checks.evaluate(
        scored(sales()), sales(), store_features(), promise, MonitoringParams()
    )
    assert ratio(result) > 2 * ratio(normal)
    # accuracy alerts on its own when every forecast is far off
    far = checks.evaluate(
        scored(sales(), error=0.6), sales(), store_features(), promise, MonitoringParams()
    )
    assert statuses(far)["accuracy.week_wmae_ratio[all]"] == "alert"
    row = result.checks.set_index(["check_name", "scope"]).loc[("total.store_deviation", "store=2")]
    assert row["value"] == pytest.approx((0.5 - 1.05) / 1.05)
    payload = checks.alerts_payload(result)
    assert payload["status"] == "alert" and {a["check"] for a in payload["alerts"]} >= {
        "total.store_deviation"
    }


def test_input_drift_vanished_store_covariate_out_of_range_and_missing_markdowns(promise):
    frame = sales(drop_store=3)
    feats = store_features(cpi_last=400.0)
    feats.loc[feats["date"] == WEEKS[-1], [f"markdown{k}" for k in range(1, 6)]] = np.nan
    result = checks.evaluate(scored(frame), frame, feats, promise, MonitoringParams())
    s = statuses(result)
    assert s["drift.vanished_stores[all]"] == "alert"
    assert (
        s["drift.covariate_range[cpi]"] == "alert"
        and s["drift.covariate_range[temperature]"] == "ok"
    )
    assert s["drift.markdowns_missing[all]"] == "alert"
    assert s["drift.row_count[all]"] == "alert" and s["drift.vanished_series_share[all]"] == "alert"
    newcomer = pd.concat([sales(), sales().tail(1).assign(store=9, dept=99)])
    s = statuses(
        checks.evaluate(scored(sales()), newcomer, store_features(), promise, MonitoringParams())
    )
    assert s["drift.new_stores[all]"] == "alert" and s["drift.new_departments[all]"] == "alert"


def test_scores_per_week_and_step_against_the_promise(promise):
    frame = sales()
    rows = checks.normalise_scored(scored(frame))
    scores = checks.score_forecasts(rows, promise)
    week = scores[
        (scores["segment"] == "week") & (scores["segment_value"] == f"{WEEKS[-1]:%Y-%m-%d}")
    ].iloc[0]
    last = rows[rows["date"] == WEEKS[-1]]
    assert week["n"] == len(last) and week["mae"] == pytest.approx(
        (last["forecast"] - last["actual"]).abs().mean()
    )
    step1 = scores[(scores["segment"] == "step") & (scores["segment_value"] == "1")].iloc[0]
    assert step1["promised_wmae"] == pytest.approx(promise["by_step"][0]["wmae"])
    assert step1["ratio"] == pytest.approx(step1["wmae"] / step1["promised_wmae"])
    assert scores["coverage_80"].isna().all()  # no intervals stored
    banded = rows.assign(
        q0_1=rows["actual"] - 1,
        q0_9=rows["actual"] + 1,
        q0_025=rows["actual"] - 2,
        q0_975=rows["actual"] + 2,
    )
    covered = checks.score_forecasts(banded, promise)
    assert (covered["coverage_80"] == 1.0).all()


def test_no_forecast_yet_is_information_not_an_alert(promise):
    frame = sales()
    empty = scored(frame).iloc[:0]
    result = checks.evaluate(empty, frame, store_features(), promise, MonitoringParams())
    assert statuses(result)["accuracy.week_wmae_ratio[all]"] == "info" and result.alerts.empty


def test_the_alerts_file_exists_only_with_alerts_and_the_exit_code(tmp_path):
    dataset = alerts.AlertsFileDataset(filepath=str(tmp_path / "m" / "alerts.json"))
    payload = {"status": "alert", "alerts": [{"check": "x", "scope": "all"}]}
    dataset.save(payload)
    assert json.loads((tmp_path / "m" / "alerts.json").read_text()) == payload == dataset.load()
    dataset.save({"status": "ok", "alerts": []})
    assert not (tmp_path / "m" / "alerts.json").exists() and dataset.load() == {"alerts": []}
    assert alerts.exit_code() == 0
    alerts.signal({"alerts": []})
    assert alerts.exit_code() == 0
    alerts.signal(payload)
    assert (
        alerts.exit_code() == alerts.ALERT_EXIT_CODE and alerts.exit_code() == 0
    )  # reset once read


def test_kedro_run_exits_3_after_a_run_that_raised_alerts(monkeypatch):
    from click.testing import CliRunner

    from retail_forecasting import cli

    def fake_run(**kwargs):
        alerts.signal({"alerts": [{"check": "x"}]})

    monkeypatch.setattr(cli.kedro_run, "callback", fake_run)
    result = CliRunner().invoke(cli.cli, ["run", "--pipeline", "monitoring"])
    assert result.exit_code == 3, result.output
    monkeypatch.setattr(cli.kedro_run, "callback", lambda **kwargs: None)
    assert CliRunner().invoke(cli.cli, ["run"]).exit_code == 0


def test_the_rolling_accuracy_figure_plots_scores_read_back_from_csv(promise, tmp_path):
    from retail_forecasting.monitoring import report

    frame = sales()
    result = checks.evaluate(scored(frame), frame, store_features(), promise, MonitoringParams())
    result.scores.to_csv(tmp_path / "scores.csv", index=False)
    from_csv = pd.read_csv(tmp_path / "scores.csv")  # the model version comes back as a number
    fig = report.rolling_accuracy_figure(from_csv, result.summary, 1.5)
    observed = fig.axes[0].lines[0]
    assert len(observed.get_xdata()) == 2  # the two weeks with actuals
    assert list(observed.get_ydata()) == pytest.approx(
        result.scores[result.scores["segment"] == "week"]["wmae"].tolist()
    )


def banded_history(shares80: list[float], shares95: list[float] | None = None) -> pd.DataFrame:
    """Stored forecasts with bands for the last ``len(shares80)`` weeks of WEEKS, 60 a week (6
    series x steps 1..10): in week i the first ``round(shares80[i] * 60)`` actuals are inside
    the 80 % band and the first ``round(shares95[i] * 60)`` inside the 95 % band."""
    shares95 = shares95 or [0.95] * len(shares80)
    parts = []
    for week, s80, s95 in zip(WEEKS[-len(shares80) :], shares80, shares95, strict=True):
        rows = pd.DataFrame(
            [
                {"store": s, "dept": d, "step": step}
                for step in range(1, 11)
                for s in STORES
                for d in DEPTS
            ]
        )
        actual = 1000.0 * rows["store"] + 100 * rows["dept"]
        i = np.arange(len(rows))
        in80, in95 = i < round(s80 * len(rows)), i < round(s95 * len(rows))
        parts.append(
            rows.assign(
                model_name="m",
                model_version="7",
                run_id="r",
                origin=week - pd.to_timedelta(rows["step"] * 7, unit="D"),
                store_type="A",
                date=week,
                forecast=actual,
                q0_025=np.where(in95, actual - 2, actual + 3),
                q0_1=np.where(in80, actual - 1, actual + 1),
                q0_5=actual,
                q0_9=np.where(in80, actual + 1, actual + 2),
                q0_975=np.where(in95, actual + 2, actual + 4),
                forecast_basis="model",
                actual=actual,
                is_holiday=False,
                created_at=pd.Timestamp("2026-12-01"),
            )
        )
    return pd.concat(parts, ignore_index=True)


def coverage_row(result, level: int):
    return result.checks.set_index(["check_name", "scope"]).loc[
        (f"accuracy.coverage_to_date_{level}", "all")
    ]


def test_scores_carry_band_counts_that_pool_exactly(promise):
    rows = banded_history([0.5, 0.6, 1.0, 0.8])
    scores = checks.score_forecasts(rows, promise).set_index(["segment", "segment_value"])
    weeks = scores.loc["week"]
    assert weeks["in80"].tolist() == [30, 36, 60, 48] and (weeks["n80"] == 60).all()
    overall = scores.loc[("overall", "all")]
    assert (overall["n80"], overall["in80"]) == (240, 174)
    assert overall["coverage_80"] == pytest.approx(weeks["in80"].sum() / weeks["n80"].sum())


def test_coverage_to_date_pools_the_last_weeks_with_weeks_as_clusters(promise):
    rows = banded_history([0.5, 0.6, 1.0, 0.8])  # 30, 36, 60, 48 of 60 inside the 80 % band
    scores = checks.score_forecasts(rows, promise)
    table = checks.coverage_to_date(scores, "7", weeks=3)
    got = table.loc[80]
    assert got["weeks"] == 3 and got["rows"] == 180  # the oldest week is left out
    assert got["coverage"] == pytest.approx(144 / 180)
    # CR1: sqrt(sum_k (in_k - n_k p)^2 * k / (k - 1)) / N
    resid = np.array([36, 60, 48]) - 60 * 0.8
    assert got["se"] == pytest.approx(np.sqrt((resid**2).sum() * 3 / 2) / 180)
    assert table.loc[95, "coverage"] == pytest.approx(57 / 60)
    assert checks.coverage_to_date(scores, "8", weeks=3).empty


def test_coverage_to_date_alerts_on_bands_too_wide_or_too_narrow_only_once_judged(promise):
    frame, params = sales(), MonitoringParams()
    weeks = params.coverage.min_weeks

    def run(shares80, shares95=None, params=params):
        rows = banded_history(shares80, shares95)
        return checks.evaluate(rows, frame, store_features(), promise, params)

    calibrated = run([0.8] * weeks)
    s = statuses(calibrated)
    assert s["accuracy.coverage_to_date_80[all]"] == s["accuracy.coverage_to_date_95[all]"] == "ok"
    assert s["accuracy.coverage_80[all]"] == "ok"
    week = calibrated.checks.set_index(["check_name", "scope"]).loc[("accuracy.coverage_80", "all")]
    assert week["value"] == pytest.approx(0.8) and week["threshold"] == pytest.approx(0.2)
    wide = run([0.9] * weeks)  # 10 points over, every week alike: standard error 0
    row = coverage_row(wide, 80)
    assert row["status"] == "alert" and row["threshold"] == pytest.approx(0.03)
    assert "wider than" in row["message"] and "retrain" in row["message"]
    narrow = run([0.8] * weeks, [0.85] * weeks)
    assert coverage_row(narrow, 95)["status"] == "alert"
    assert "too narrow" in coverage_row(narrow, 95)["message"]
    assert coverage_row(narrow, 80)["status"] == "ok"
    # 5 points over, but weeks that scatter widely: within z standard errors
    scattered = run([0.7, 1.0] * (weeks // 2) + [0.85] * (weeks % 2))
    row = coverage_row(scattered, 80)
    assert row["value"] > 0.83 and row["threshold"] > 0.1 and row["status"] == "ok"
    # too few weeks to judge: information, not an alert
    early = run([0.9] * (weeks - 1))
    assert coverage_row(early, 80)["status"] == "info" and early.alerts.empty
    # a stricter setting judges the same weeks
    strict = MonitoringParams(coverage={"min_weeks": weeks - 1})
    assert coverage_row(run([0.9] * (weeks - 1), params=strict), 80)["status"] == "alert"


def test_no_band_no_coverage_check(promise):
    result = checks.evaluate(
        scored(sales()), sales(), store_features(), promise, MonitoringParams()
    )
    assert not result.checks["check_name"].str.startswith("accuracy.coverage").any()


def test_the_planners_report_says_how_the_bands_held(promise):
    from matplotlib.figure import Figure

    from retail_forecasting.monitoring import report

    figures = {
        k: Figure()
        for k in ("total", "store_type", "worst_series", "rolling_accuracy", "store_deviation")
    }
    forecast = {"model_name": "m", "origin": "2011-10-07", "horizon_weeks": 4, "series": 6}

    def page(rows):
        result = checks.evaluate(rows, sales(), store_features(), promise, MonitoringParams())
        return report.planner_report(result.summary, forecast, result.checks, figures)

    html = page(banded_history([0.8, 0.9]))
    assert "the 80 % band held 85.0% of the actuals and the 95 % band held 95.0%" in html
    assert "band held" not in page(scored(sales()))  # a model without intervals
