"""The precomputed table (``RETAIL_SERVING_PRECOMPUTE=1``, the default) answers exactly what the
checks and the model answer without it: the same app built twice in this process (FastAPI's
TestClient, the model of the session's registry), once with the table and once without, must
give byte-identical answers; and the table's fast paths step aside for anything they do not hold."""

from __future__ import annotations

import gc
import weakref
from datetime import date

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from retail_forecasting.serving.app import create_app
from retail_forecasting.serving.forecast import (
    calendar_holidays,
    default_table,
    predict_chunked,
    predict_frame,
    series_rows,
)
from retail_forecasting.serving.holder import ModelHolder
from retail_forecasting.serving.schemas import ForecastRow
from retail_forecasting.serving.settings import ServingSettings

from . import model_factory

WEEKS = [w.date() for w in model_factory.forecaster().forecast_weeks()]
FIRST = WEEKS[0].isoformat()
CHRISTMAS = date(2012, 12, 28)  # a horizon week the calendar flags as a holiday
STORES, DEPTS = list(model_factory.STORES), list(model_factory.DEPTS)


@pytest.fixture(scope="module")
def apps(registry):
    """{precompute: TestClient} of the champion (version ``registry.plain``)."""
    clients = {}
    with model_factory.mlflow_uris_kept():  # the holder sets MLflow's process-wide URIs
        try:
            for precompute in (True, False):
                settings = ServingSettings(
                    tracking_uri=registry.uri,
                    registry_uri=registry.uri,
                    poll_seconds=0,
                    precompute=precompute,
                )
                clients[precompute] = TestClient(create_app(settings)).__enter__()
            yield clients
        finally:
            for client in clients.values():
                client.__exit__(None, None, None)
            gc.unfreeze()  # the holder froze the heap after loading (holder.freeze_heap)


def both(apps, path: str, **kwargs) -> bytes:
    """The answer of the app with the table, after checking the one without gives the same."""
    cached, computed = (apps[p].post(path, **kwargs) for p in (True, False))
    assert cached.status_code == computed.status_code, (cached.text, computed.text)
    assert cached.content == computed.content
    return cached


def answers(client) -> dict[str, float]:
    """retail_serving_forecast_answers_total by source."""
    out = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("retail_serving_forecast_answers_total{"):
            source = line.split('source="')[1].split('"')[0]
            out[source] = float(line.rsplit(" ", 1)[1])
    return out


def test_the_table_holds_every_known_store_and_known_department(apps, registry):
    model = apps[True].get("/model").json()
    assert model["series"] == 11  # history for 11 of the 12 pairs: (2, 4) never sold
    assert model["cached_rows"] == len(STORES) * len(DEPTS) * 39  # ... and (2, 4) is in the table
    assert apps[False].get("/model").json()["cached_rows"] == 0


def test_series_answers_are_identical_with_and_without_the_table(apps):
    series = [{"store": s, "dept": d} for s in STORES for d in DEPTS]
    series += [{"store": 1, "dept": 99}, {"store": 3, "dept": 7}]  # departments the model never saw
    before = answers(apps[True])
    body = both(apps, "/forecast", json={"series": series}).json()
    basis = {(r["store"], r["dept"]): r["forecast_basis"] for r in body["forecasts"]}
    assert basis[(2, 4)] == "new_series" and basis[(1, 1)] == "model"
    assert basis[(1, 99)] == basis[(3, 7)] == "unseen_department"
    assert len(body["forecasts"]) == len(series) * 39
    for one in ([{"store": 2, "dept": 4}], [{"store": 3, "dept": 99}, {"store": 1, "dept": 3}]):
        both(apps, "/forecast", json={"series": one})
        both(apps, "/invocations", json={"series": one})
    after = answers(apps[True])
    assert after["table"] - before.get("table", 0) == 5  # every one of them from the table
    assert after.get("checked", 0) == before.get("checked", 0)


def test_rows_answers_are_identical_and_default_rows_come_from_the_table(apps):
    default = [{"store": 2, "dept": 4, "week": w.isoformat()} for w in WEEKS]  # a new series
    default += [
        {"store": 1, "dept": 2, "week": CHRISTMAS.isoformat(), "is_holiday": True},  # = calendar
        {"store": 3, "dept": 3, "week": FIRST, "is_holiday": False, "markdown2": None},
        {"store": 1, "dept": 99, "week": FIRST},
    ]
    before = answers(apps[True])
    both(apps, "/forecast", json={"rows": default})
    assert answers(apps[True])["table"] == before.get("table", 0) + 1
    mixed = [
        *default[:3],
        {"store": 1, "dept": 1, "week": FIRST, "markdown1": 2500.0},  # the model
        {
            "store": 1,
            "dept": 1,
            "week": WEEKS[3].isoformat(),
            "is_holiday": True,
        },  # not the calendar's
        {"store": 3, "dept": 99, "week": CHRISTMAS.isoformat(), "is_holiday": False},
    ]
    out = both(apps, "/forecast", json={"rows": mixed}).json()["forecasts"]
    assert [r["is_holiday"] for r in out[3:]] == [False, True, False]
    assert answers(apps[True])["checked"] == before.get("checked", 0) + 1


@pytest.mark.parametrize(
    "request_body",
    [
        {"series": [{"store": 46, "dept": 1}]},
        {"series": [{"store": 1, "dept": 1}, {"store": 1, "dept": 1}]},
        {"rows": [{"store": 1, "dept": 1, "week": FIRST}, {"store": 1, "dept": 1, "week": FIRST}]},
        {"rows": [{"store": 1, "dept": 1, "week": "2012-12-22"}]},
        {"rows": [{"store": 1, "dept": 1, "week": "2010-02-05"}]},
        {"rows": [{"store": 9, "dept": 1, "week": FIRST}]},
    ],
    ids=[
        "unknown_store",
        "repeated_series",
        "repeated_row",
        "not_a_friday",
        "outside_horizon",
        "unknown_store_row",
    ],
)
def test_refusals_are_the_checked_paths_with_or_without_the_table(apps, request_body):
    assert both(apps, "/forecast", json=request_body).status_code == 422


def test_batch_answers_are_identical_with_and_without_the_table(apps):
    flags = dict(zip(WEEKS, calendar_holidays(WEEKS), strict=True))
    lines = [
        f"{s},{d},{w.isoformat()},{'TRUE' if flags[w] else 'FALSE'}"
        for s in STORES
        for d in [*DEPTS, 99]
        for w in WEEKS
    ]
    lines.append(f"1,1,{WEEKS[5].isoformat()},TRUE")  # not the calendar's flag: the model
    lines.remove(f"1,1,{WEEKS[5].isoformat()},FALSE")
    body = "Store,Dept,Date,IsHoliday\n" + "\n".join(lines) + "\n"
    answer = both(apps, "/forecast/batch", content=body, headers={"content-type": "text/csv"})
    assert len(answer.text.splitlines()) == len(lines) + 1


def test_lookup_rows_steps_aside_for_what_the_table_does_not_hold(apps):
    table = apps[True].app.state.service.holder.current.table

    def row(**fields):
        return ForecastRow(**{"store": 1, "dept": 1, "week": FIRST, **fields})

    records, counts = table.lookup_rows(
        [row(), row(dept=99), row(store=2, dept=4, week=CHRISTMAS, is_holiday=True)]
    )
    assert counts == {"model": 1, "unseen_department": 1, "new_series": 1} and len(records) == 3
    for odd in (
        row(markdown5=1.0),
        row(is_holiday=True),
        row(week="2012-12-22"),
        row(week="2010-02-05"),
        row(store=46),
    ):
        assert table.lookup_rows([row(dept=2), odd]) is None, odd
    assert table.lookup_rows([row(), row()]) is None
    assert table.lookup_series([(1, 1), (1, 1)]) is None and table.lookup_series([(46, 1)]) is None


def test_a_reload_frees_the_previous_model(registry):
    """freeze_heap keeps the loaded model out of the garbage collector's full passes; a reload
    unfreezes first, so the previous model (with its reference cycles) is still collected."""
    settings = ServingSettings(
        tracking_uri=registry.uri, registry_uri=registry.uri, poll_seconds=0, precompute=False
    )
    with model_factory.mlflow_uris_kept():
        holder = ModelHolder(settings)
        _reload_frees_the_previous_model(holder, registry)


def _reload_frees_the_previous_model(holder: ModelHolder, registry) -> None:
    try:
        model = holder.start().python_model
        assert gc.get_freeze_count() > 0
        model.cycle = model  # a reference cycle: only the collector frees it (frozen, never)
        first = weakref.ref(model)
        del model
        registry.move("champion", registry.intervals)
        assert holder.refresh()["outcome"] == "reloaded"
        assert first() is None, "the previous model is still alive after the reload"
    finally:
        registry.move("champion", registry.plain)
        gc.unfreeze()


def test_the_model_forecasts_the_same_in_chunks(apps):
    """Large requests and the table are forecast CHUNK_ROWS rows at a time (peak memory)."""
    served = apps[True].app.state.service.holder.current
    rows = series_rows(served.forecaster, [(s, d) for s in STORES for d in DEPTS])
    whole = predict_frame(served.python_model, rows)
    pd.testing.assert_frame_equal(predict_chunked(served.python_model, rows, chunk_rows=50), whole)
    table = default_table(served.python_model, served.forecaster, chunk_rows=100)
    assert table.records == served.table.records
