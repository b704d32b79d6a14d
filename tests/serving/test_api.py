"""The real server (``python -m retail_forecasting serve`` in its own process on 127.0.0.1) on a
temporary registry: every endpoint, and every class of bad request gets a 4xx with field-level
messages while the server keeps answering and never returns a 500."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.pipelines.inference.checks import UNSEEN_DEPARTMENT_FORECAST

from . import model_factory

FORECASTER = model_factory.forecaster()
WEEKS = FORECASTER.forecast_weeks()
FIRST, LAST = WEEKS[0].date().isoformat(), WEEKS[-1].date().isoformat()


def expected(store: int, dept: int, weeks, holiday=None, markdown1=None) -> np.ndarray:
    """The forecaster's own numbers for these rows (what the API must return)."""
    rows = pd.DataFrame(
        {
            "Store": store,
            "Dept": dept,
            "Date": [str(w)[:10] for w in weeks],
            "IsHoliday": holiday if holiday is not None else False,
        }
    )
    if markdown1 is not None:
        rows["MarkDown1"] = markdown1
    return FORECASTER.forecast(rows)["Weekly_Sales"].to_numpy()


def test_health_docs_and_ping(server):
    with server.client() as c:
        assert c.get("/health/live").json() == {"status": "alive"}
        assert c.get("/health/ready").json()["status"] == "ready"
        assert c.get("/ping").status_code == 200
        assert c.get("/docs").status_code == 200
        paths = c.get("/openapi.json").json()["paths"]
        assert {
            "/forecast",
            "/forecast/batch",
            "/invocations",
            "/model",
            "/admin/reload",
            "/metrics",
            "/ping",
            "/health/live",
            "/health/ready",
        } <= set(paths)


def test_model_describes_the_served_version(server, registry):
    with server.client() as c:
        model = c.get("/model").json()
    assert model["name"] == model_factory.NAME and model["alias"] == "champion"
    assert model["version"] in (registry.plain, registry.intervals) and model["run_id"]
    assert model["champion"] == "seasonal_naive" and model["family"] == "baseline"
    assert (
        model["horizon_weeks"] == 39
        and model["origin_week"] == FORECASTER.origin.date().isoformat()
    )
    assert (model["first_week"], model["last_week"]) == (FIRST, LAST)
    assert model["metrics"]["test"] == {"wmae": 123.4}
    assert model["metrics"]["backtest"] == {
        "seasonal_naive": {"wmae": 150.0}
    }  # the champion's, not naive's
    assert model["stores"] == [1, 2, 3] and model["series"] == 11
    assert model["registry"]["last_error"] is None


def test_series_forecast_is_every_horizon_week_from_the_model(server):
    with server.client() as c:
        body = c.post(
            "/forecast", json={"series": [{"store": 1, "dept": 2}, {"store": 3, "dept": 1}]}
        ).json()
    rows = pd.DataFrame(body["forecasts"])
    assert len(rows) == 2 * 39 and body["model"]["alias"] == "champion"
    assert rows["week"].iloc[:39].tolist() == [w.date().isoformat() for w in WEEKS]
    assert (rows["forecast_basis"] == "model").all()
    # the calendar's holiday weeks in this horizon: Christmas, Super Bowl, Labor Day
    holidays = rows.loc[rows["is_holiday"], "week"].unique().tolist()
    assert holidays == ["2012-12-28", "2013-02-08", "2013-09-06"]
    for i, (store, dept) in enumerate([(1, 2), (3, 1)]):
        flags = rows["is_holiday"].iloc[39 * i : 39 * (i + 1)].to_numpy()
        np.testing.assert_allclose(
            rows["weekly_sales"].iloc[39 * i : 39 * (i + 1)], expected(store, dept, WEEKS, flags)
        )


def test_rows_forecast_cached_and_computed_paths_agree_with_the_model(server):
    weeks = [WEEKS[0], WEEKS[1], WEEKS[5]]
    rows = [{"store": 2, "dept": 3, "week": str(w.date())} for w in weeks]
    rows.append(
        {"store": 2, "dept": 3, "week": str(WEEKS[10].date()), "markdown1": 2500.0}
    )  # not cached
    rows.append(
        {"store": 2, "dept": 3, "week": str(WEEKS[11].date()), "is_holiday": True}
    )  # not the calendar's
    with server.client() as c:
        out = pd.DataFrame(c.post("/forecast", json={"rows": rows}).json()["forecasts"])
    calendar = [False, True, False]  # WEEKS[1] is 2012-12-28, Christmas week
    np.testing.assert_allclose(out["weekly_sales"].iloc[:3], expected(2, 3, weeks, calendar))
    assert out["weekly_sales"].iloc[3] == pytest.approx(
        expected(2, 3, [WEEKS[10]], markdown1=2500.0)[0]
    )
    assert out["weekly_sales"].iloc[4] == pytest.approx(
        expected(2, 3, [WEEKS[11]], holiday=True)[0]
    )
    assert out["is_holiday"].tolist() == [*calendar, False, True]


def test_new_series_and_unseen_department_follow_the_inference_pipeline(server):
    rows = [
        {"store": 2, "dept": 4, "week": FIRST},  # dept 4 known at stores 1 and 3
        {"store": 1, "dept": 99, "week": FIRST},
    ]  # a department the model never saw
    with server.client() as c:
        out = c.post("/forecast", json={"rows": rows}).json()["forecasts"]
    assert [r["forecast_basis"] for r in out] == ["new_series", "unseen_department"]
    assert out[0]["weekly_sales"] == pytest.approx(expected(2, 4, [WEEKS[0]])[0])
    assert out[1]["weekly_sales"] == UNSEEN_DEPARTMENT_FORECAST


def test_batch_csv_returns_the_submission_shape(server):
    test_csv = pd.DataFrame(
        {
            "Store": [1, 1, 3],
            "Dept": [1, 1, 99],
            "Date": [FIRST, LAST, FIRST],
            "IsHoliday": ["FALSE", "FALSE", "FALSE"],
        }
    ).to_csv(index=False)
    with server.client() as c:
        for path in ("/forecast/batch", "/invocations"):
            response = c.post(path, content=test_csv, headers={"content-type": "text/csv"})
            assert response.status_code == 200 and response.headers["content-type"].startswith(
                "text/csv"
            )
            out = pd.read_csv(io.StringIO(response.text))
            assert list(out.columns)[:2] == ["Id", "Weekly_Sales"]
            assert out["Id"].tolist() == [f"1_1_{FIRST}", f"1_1_{LAST}", f"3_99_{FIRST}"]
            np.testing.assert_allclose(
                out["Weekly_Sales"].iloc[:2], expected(1, 1, [WEEKS[0], WEEKS[-1]])
            )
            assert out["Weekly_Sales"].iloc[2] == 0.0
        strict = c.post(
            "/forecast/batch?extra=false", content=test_csv, headers={"content-type": "text/csv"}
        )
        assert strict.text.splitlines()[0] == "Id,Weekly_Sales"
        as_json = c.post(
            "/invocations",
            content=test_csv,
            headers={"content-type": "text/csv", "accept": "application/json"},
        ).json()
        assert [r["store"] for r in as_json["forecasts"]] == [1, 1, 3]
        js = c.post("/invocations", json={"series": [{"store": 1, "dept": 1}]})
        assert js.status_code == 200 and len(js.json()["forecasts"]) == 39


JSON = "application/json"
CSV = "text/csv"
HEADER = "Store,Dept,Date,IsHoliday\n"
TOO_MANY = {
    "rows": [
        {"store": 1, "dept": 1 + i // 39, "week": str(WEEKS[i % 39].date())} for i in range(1001)
    ]
}

# (id, path, content type, body, status, a loc that must be reported, words of its message)
BAD = [
    ("malformed_json", "/forecast", JSON, '{"rows": [', 422, ["body", 10], "JSON"),
    ("malformed_json_invocations", "/invocations", JSON, "[1, 2", 422, [], "Invalid JSON"),
    (
        "wrong_type_store",
        "/forecast",
        JSON,
        {"rows": [{"store": "x", "dept": 1, "week": FIRST}]},
        422,
        ["body", "rows", 0, "store"],
        "valid integer",
    ),
    (
        "fractional_dept",
        "/forecast",
        JSON,
        {"rows": [{"store": 1, "dept": 1.5, "week": FIRST}]},
        422,
        ["body", "rows", 0, "dept"],
        "fractional",
    ),
    (
        "bad_date",
        "/forecast",
        JSON,
        {"rows": [{"store": 1, "dept": 1, "week": "soon"}]},
        422,
        ["body", "rows", 0, "week"],
        "date",
    ),
    (
        "infinite_markdown",
        "/forecast",
        JSON,
        f'{{"rows": [{{"store": 1, "dept": 1, "week": "{FIRST}", "markdown1": Infinity}}]}}',
        422,
        ["body", "rows", 0, "markdown1"],
        "finite",
    ),
    (
        "missing_field",
        "/forecast",
        JSON,
        {"rows": [{"store": 1, "week": FIRST}]},
        422,
        ["body", "rows", 0, "dept"],
        "required",
    ),
    (
        "unknown_field",
        "/forecast",
        JSON,
        {"rows": [{"store": 1, "dept": 1, "week": FIRST, "price": 3}]},
        422,
        ["body", "rows", 0, "price"],
        "not permitted",
    ),
    ("neither_rows_nor_series", "/forecast", JSON, {}, 422, ["body"], "exactly one of"),
    ("empty_rows", "/forecast", JSON, {"rows": []}, 422, ["body", "rows"], "at least 1"),
    (
        "not_a_friday",
        "/forecast",
        JSON,
        {"rows": [{"store": 1, "dept": 1, "week": "2012-12-22"}]},
        422,
        ["body", "rows", 0, "week"],
        "not Fridays",
    ),
    (
        "outside_horizon",
        "/forecast",
        JSON,
        {
            "rows": [
                {"store": 1, "dept": 1, "week": FIRST},
                {"store": 1, "dept": 1, "week": "2011-12-30"},
            ]
        },
        422,
        ["body", "rows", 1, "week"],
        "outside the registered model's horizon",
    ),
    (
        "unknown_store_rows",
        "/forecast",
        JSON,
        {"rows": [{"store": 46, "dept": 1, "week": FIRST}]},
        422,
        ["body", "rows", 0, "store"],
        "no history",
    ),
    (
        "unknown_store_series",
        "/forecast",
        JSON,
        {"series": [{"store": 46, "dept": 1}]},
        422,
        ["body", "series", 0, "store"],
        "unknown to the model",
    ),
    (
        "duplicate_rows",
        "/forecast",
        JSON,
        {"rows": [{"store": 1, "dept": 1, "week": FIRST}, {"store": 1, "dept": 1, "week": FIRST}]},
        422,
        ["body", "rows", 1],
        "duplicate",
    ),
    (
        "duplicate_series",
        "/forecast",
        JSON,
        {"series": [{"store": 1, "dept": 1}, {"store": 1, "dept": 1}]},
        422,
        ["body", "series", 1],
        "repeats",
    ),
    (
        "csv_missing_column",
        "/forecast/batch",
        CSV,
        f"Store,Dept,Date\n1,1,{FIRST}\n",
        422,
        ["body", "header", "IsHoliday"],
        "missing column",
    ),
    (
        "csv_not_numbers",
        "/forecast/batch",
        CSV,
        f"{HEADER}1,one,{FIRST},FALSE\n",
        422,
        ["body", "line", 2, "Dept"],
        "not numbers",
    ),
    (
        "csv_bad_holiday",
        "/invocations",
        CSV,
        f"{HEADER}1,1,{FIRST},maybe\n",
        422,
        ["body", "line", 2, "IsHoliday"],
        "TRUE/FALSE",
    ),
    (
        "csv_empty_key",
        "/forecast/batch",
        CSV,
        f"{HEADER}1,,{FIRST},FALSE\n",
        422,
        ["body", "line", 2, "Dept"],
        "empty",
    ),
    (
        "csv_outside_horizon",
        "/invocations",
        CSV,
        f"{HEADER}1,1,{FIRST},FALSE\n1,1,2010-02-05,FALSE\n",
        422,
        ["body", "line", 3, "Date"],
        "horizon",
    ),
    ("csv_header_only", "/forecast/batch", CSV, HEADER, 422, [], "no rows"),
    ("csv_empty_body", "/forecast/batch", CSV, "", 422, ["body"], "empty"),
    ("csv_not_utf8", "/invocations", CSV, b"\xff\xfe\x00S", 422, ["body"], "not a readable CSV"),
    (
        "huge_id",
        "/forecast",
        JSON,
        {"rows": [{"store": 10**30, "dept": 1, "week": FIRST}]},
        422,
        ["body", "rows", 0, "store"],
        "less than or equal",
    ),
    ("csv_huge_id", "/forecast/batch", CSV, f"{HEADER}1e400,1,{FIRST},FALSE\n", 422, ["body"], ""),
    (
        "csv_ragged",
        "/forecast/batch",
        CSV,
        f"{HEADER}1,1,{FIRST},FALSE,7,8\n",
        422,
        ["body"],
        "readable CSV",
    ),
    (
        "wrong_content_type",
        "/invocations",
        "application/xml",
        "<rows/>",
        415,
        ["header", "content-type"],
        "send",
    ),
    (
        "json_to_batch",
        "/forecast/batch",
        JSON,
        {"series": [{"store": 1, "dept": 1}]},
        415,
        [],
        "text/csv",
    ),
    ("too_many_rows", "/forecast", JSON, TOO_MANY, 413, ["body"], "at most 1000"),
    ("body_over_limit", "/forecast", JSON, "x" * 250_000, 413, ["body"], "over 200000 bytes"),
]


def _send(client, path, content_type, body, headers=None):
    if isinstance(body, dict):
        import json

        body = json.dumps(body)
    return client.post(
        path, content=body, headers={"content-type": content_type, **(headers or {})}
    )


@pytest.mark.parametrize(
    ("name", "path", "content_type", "body", "status", "loc", "words"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_request_gets_a_4xx_with_field_level_messages(
    server, name, path, content_type, body, status, loc, words
):
    with server.client() as c:
        response = _send(c, path, content_type, body)
        assert response.status_code == status, response.text
        payload = response.json()
        text = response.text
        assert words.lower() in text.lower()
        if loc:
            assert any(item["loc"][: len(loc)] == loc for item in payload["detail"]), payload[
                "detail"
            ]
        if status == 422:
            assert payload["example"]  # a valid request to copy
        assert c.get("/health/ready").status_code == 200  # still serving


def test_a_streamed_body_over_the_limit_is_cut_off(server):
    def chunks():
        for _ in range(50):
            yield b"x" * 10_000

    with server.client() as c:
        response = c.post("/forecast", content=chunks(), headers={"content-type": JSON})
        assert response.status_code == 413
        assert c.get("/health/live").status_code == 200


def test_metrics_count_requests_and_show_no_server_error(server):
    with server.client() as c:
        c.post("/forecast", json={"series": [{"store": 1, "dept": 1}]})
        c.post("/forecast", json={"rows": [{"store": 99, "dept": 1, "week": FIRST}]})
        text = c.get("/metrics").text
    assert 'retail_serving_requests_total{method="POST",route="/forecast",status="200"}' in text
    assert 'retail_serving_requests_total{method="POST",route="/forecast",status="422"}' in text
    assert (
        'retail_serving_request_duration_seconds_bucket{le="0.05",method="POST",route="/forecast"}'
        in text
    )
    assert 'retail_serving_forecast_rows_total{forecast_basis="model"}' in text
    assert "retail_serving_model_version{" in text
    assert 'status="500"' not in text, "a request got a 500"
