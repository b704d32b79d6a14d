"""The FastAPI app: :func:`create_app`
(``uvicorn --factory retail_forecasting.serving.app:create_app``).

Endpoints (OpenAPI docs at ``/docs``):

======================  ==========================================================================
``GET /health/live``    the process answers (liveness)
``GET /health/ready``   a model is loaded (readiness); 503 otherwise
``GET /ping``           SageMaker's health check (= ready)
``GET /model``          name, version, alias, champion and members, origin week, horizon, metrics,
                        run id; the registry's last check
``POST /forecast``      JSON ``{"rows": [...]}`` or ``{"series": [...]}`` -> JSON forecasts
``POST /forecast/batch`` a CSV in the Kaggle test.csv shape -> the submission CSV (Id, Weekly_Sales)
``POST /invocations``   SageMaker: the JSON of /forecast or the CSV of /forecast/batch
``POST /admin/reload``  re-read the alias now (header ``X-API-Key``)
``GET /metrics``        Prometheus
======================  ==========================================================================

Bad requests get a 4xx with field-level messages, never a 500: malformed JSON or CSV, wrong
types, missing columns (422), the inference checks (unknown store, dates that are not Fridays or
outside the model's horizon, duplicates: 422), bodies over the limit (413), content types other
than JSON/CSV (415).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import logging
import threading
import time
import warnings
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS
from retail_forecasting.pipelines.inference.checks import number_ranges
from retail_forecasting.serving import forecast as fc
from retail_forecasting.serving.holder import ModelHolder, Served
from retail_forecasting.serving.metrics import Metrics
from retail_forecasting.serving.schemas import (
    EXAMPLE_REQUEST,
    ErrorResponse,
    ForecastRequest,
    ForecastResponse,
)
from retail_forecasting.serving.settings import ServingSettings

_dumps = fc.dump_json

logger = logging.getLogger(__name__)

CSV_EXAMPLE = "Store,Dept,Date,IsHoliday\n1,1,2012-11-02,FALSE\n"
#: table lookups of at most this many rows are answered on the event loop (a few ms at most);
#: larger ones in the thread pool
LOOP_ROWS = 20_000


class FastJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _dumps(content)


def _error(
    status: int, detail: Any, message: str | None = None, example: Any = EXAMPLE_REQUEST
) -> FastJSON:
    body: dict[str, Any] = {"detail": detail}
    if message:
        body["message"] = message
    if example is not None:
        body["example"] = example
    return FastJSON(body, status_code=status)


class BodyLimit:
    """Pure ASGI middleware: 413 for bodies over ``limit`` bytes (declared or streamed), and
    request counts/latency for Prometheus by route template."""

    def __init__(self, app, limit: int, metrics: Metrics) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_counting(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            declared = dict(scope.get("headers") or []).get(b"content-length")
            too_big = declared is not None and declared.isdigit() and int(declared) > self.limit
            if not too_big and scope["method"] in ("POST", "PUT", "PATCH"):
                chunks, size, more = [], 0, True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.limit:
                        too_big = True
                        break
                    chunks.append(chunk)
                    more = message.get("more_body", False)
                if not too_big:
                    body, sent = b"".join(chunks), False

                    async def replay():
                        nonlocal sent
                        if not sent:
                            sent = True
                            return {"type": "http.request", "body": body, "more_body": False}
                        return await receive()

                    receive = replay
            if too_big:
                response = _error(
                    413,
                    [
                        {
                            "loc": ["body"],
                            "type": "too_large",
                            "msg": f"the request body is over {self.limit} bytes",
                        }
                    ],
                    "Send fewer rows per request (RETAIL_SERVING_MAX_BODY_BYTES).",
                    None,
                )
                await response(scope, receive, send_counting)
                return
            await self.app(scope, receive, send_counting)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], path, str(status["code"])).inc()
            self.metrics.latency.labels(scope["method"], path).observe(
                time.perf_counter() - started
            )
            if 400 <= status["code"] < 500:
                self.metrics.refusals.labels(path, str(status["code"])).inc()


def _short(value: Any) -> Any:
    """The offending input, JSON-safe and at most 200 characters."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[:200]).decode("utf-8", errors="replace")
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = json.dumps(repr(value))
    return json.loads(text) if len(text) <= 200 else text[:200] + "..."


def _validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": list(e.get("loc", [])),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
            **({"input": _short(e["input"])} if "input" in e else {}),
        }
        for e in errors
    ]


def _raw_from_request(req: ForecastRequest, served: Served) -> tuple[pd.DataFrame, bool]:
    """Kaggle-shaped rows of a ``rows`` request (index 0..n-1); is_holiday defaults to the
    calendar's flag."""
    rows = req.rows or []
    weeks = pd.to_datetime([r.week for r in rows])
    flags = fc.calendar_holidays(weeks) if len(rows) else np.array([], dtype=bool)
    raw = pd.DataFrame(
        {
            "Store": [r.store for r in rows],
            "Dept": [r.dept for r in rows],
            "Date": weeks.strftime("%Y-%m-%d"),
            "IsHoliday": [
                r.is_holiday if r.is_holiday is not None else bool(flags[i])
                for i, r in enumerate(rows)
            ],
        }
    )
    given = False
    for column in MARKDOWN_COLUMNS:
        values = [getattr(r, fc.API_FIELDS[column]) for r in rows]
        if any(v is not None for v in values):
            raw[column] = pd.array(values, dtype="Float64").astype(float)
            given = True
    raw.attrs["source"] = {"path": "request"}
    return raw, given


def _series_forecast(req: ForecastRequest, served: Served) -> pd.DataFrame:
    f = served.forecaster
    keys = [(s.store, s.dept) for s in req.series or []]
    known = set(int(s) for s in f.stores["store"])
    errors, seen = [], {}
    for i, (store, dept) in enumerate(keys):
        if store not in known:
            errors.append(
                {
                    "loc": ["body", "series", i, "store"],
                    "type": "unknown_store",
                    "msg": f"store {store} is unknown to the model {f.name!r} (version "
                    f"{served.version}), which forecasts stores {number_ranges(f.stores['store'])}",
                }
            )
        if (store, dept) in seen:
            errors.append(
                {
                    "loc": ["body", "series", i],
                    "type": "duplicate",
                    "msg": f"series[{i}] repeats series[{seen[(store, dept)]}] "
                    f"(store {store}, dept {dept})",
                }
            )
        seen.setdefault((store, dept), i)
    if errors:
        raise fc.Refusal("; ".join(e["msg"] for e in errors), errors)
    raw = fc.series_rows(f, keys)
    raw.attrs["source"] = {"path": "request"}
    rows, basis = fc.check_rows(raw, f, "json")
    return fc.forecast_rows(served.python_model, f, served.table, rows, basis)


def _rows(req: ForecastRequest, served: Served) -> int:
    """The rows ``req`` asks for."""
    return (
        len(req.rows) if req.rows is not None else len(req.series or []) * served.forecaster.horizon
    )


def _csv_frame(body: bytes) -> pd.DataFrame:
    if not body.strip():
        raise fc.Refusal(
            "the CSV body is empty",
            [
                {
                    "loc": ["body"],
                    "type": "empty",
                    "msg": "the CSV body is empty: send test.csv rows with "
                    "the header Store,Dept,Date,IsHoliday",
                }
            ],
        )
    try:
        with warnings.catch_warnings():  # rows longer than the header: an error, not lost data
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(io.BytesIO(body), encoding="utf-8", index_col=False)
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
    ) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fc.Refusal(
            f"the body is not a readable CSV: {first}",
            [{"loc": ["body"], "type": "malformed_csv", "msg": f"not a readable CSV: {first}"}],
        ) from None
    raw.attrs["source"] = {"path": "request"}
    return raw


class Service:
    """What the endpoints share: the settings, the model holder and the metrics."""

    def __init__(self, settings: ServingSettings, holder: ModelHolder, metrics: Metrics) -> None:
        self.settings, self.holder, self.metrics = settings, holder, metrics

    def served(self) -> Served:
        served = self.holder.current
        if served is None:
            raise fc.Refusal(
                "no model is loaded yet",
                [{"loc": [], "type": "not_ready", "msg": "no model is loaded yet"}],
                status=503,
            )
        return served

    def lookup(self, req: ForecastRequest) -> bytes | None:
        """The answer from the precomputed table (:class:`.forecast.DefaultTable`), or None when
        ``req`` needs the checks (which also give the refusals) or the model."""
        served = self.holder.current
        if served is None or served.table is None or _rows(req, served) > self.settings.max_rows:
            return None
        if req.series is not None:
            found = served.table.lookup_series([(s.store, s.dept) for s in req.series])
        else:
            found = served.table.lookup_rows(req.rows or [])
        if found is None:
            return None
        records, counts = found
        for basis, rows in counts.items():
            self.metrics.rows.labels(basis).inc(rows)
        self.metrics.answers.labels("table").inc()
        return served.head + b",".join(records) + b"]}"

    def count(self, forecast: pd.DataFrame) -> None:
        self.metrics.answers.labels("checked").inc()
        basis, counts = np.unique(
            forecast["forecast_basis"].to_numpy(dtype=str), return_counts=True
        )
        for b, n in zip(basis.tolist(), counts.tolist(), strict=True):
            self.metrics.rows.labels(b).inc(n)

    def forecast_json(
        self, req: ForecastRequest, looked_up: bool = False
    ) -> dict[str, Any] | bytes:
        served = self.served()
        n = _rows(req, served)
        if n > self.settings.max_rows:
            raise fc.Refusal(
                f"{n} rows requested; at most {self.settings.max_rows} per request",
                [
                    {
                        "loc": ["body"],
                        "type": "too_many_rows",
                        "msg": f"{n} rows requested; at most {self.settings.max_rows} per request",
                    }
                ],
                413,
            )
        answer = None if looked_up else self.lookup(req)
        if answer is not None:
            return answer
        if req.series is not None:
            out = _series_forecast(req, served)
        else:
            raw, _ = _raw_from_request(req, served)
            rows, basis = fc.check_rows(raw, served.forecaster, "json")
            out = fc.forecast_rows(
                served.python_model, served.forecaster, served.table, rows, basis
            )
        self.count(out)
        return {
            "model": {"name": served.name, "alias": served.alias, "version": served.version},
            "forecasts": fc.records(out),
        }

    async def answer(self, req: ForecastRequest) -> Response:
        """A lookup on the event loop (microseconds per row), anything else — checks, the
        model, lookups over ``LOOP_ROWS`` rows — in the thread pool, so that the event loop
        keeps answering lookups and health checks meanwhile."""
        served = self.holder.current
        small = served is not None and _rows(req, served) <= LOOP_ROWS
        found = self.lookup(req) if small else None
        if found is not None:
            return Response(found, media_type="application/json")
        return _json(await run_in_threadpool(self.forecast_json, req, small))

    def forecast_csv(self, body: bytes) -> tuple[pd.DataFrame, Served]:
        served = self.served()
        raw = _csv_frame(body)
        if len(raw) > self.settings.max_rows:
            raise fc.Refusal(
                f"{len(raw)} rows; at most {self.settings.max_rows} per request",
                [
                    {
                        "loc": ["body"],
                        "type": "too_many_rows",
                        "msg": f"{len(raw)} rows; at most {self.settings.max_rows} per request",
                    }
                ],
                413,
            )
        rows, basis = fc.check_rows(raw, served.forecaster, "csv")
        out = fc.forecast_rows(served.python_model, served.forecaster, served.table, rows, basis)
        self.count(out)
        return out, served


def create_app(
    settings: ServingSettings | None = None, holder: ModelHolder | None = None
) -> FastAPI:
    """The serving app. Without arguments it reads :class:`ServingSettings` from the
    environment; at startup it loads the alias's version (and refuses to start without one)
    and starts the polling thread (``poll_seconds`` > 0)."""
    settings = settings or ServingSettings.from_env()
    holder = holder or ModelHolder(settings)
    metrics = Metrics()
    service = Service(settings, holder, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if holder.current is None:
            served = await asyncio.to_thread(holder.start)  # raises: uvicorn exits, message shown
        else:
            served = holder.current
        metrics.served(served.name, served.alias, served.version, served.loaded_at)
        logger.info(
            "Serving %s@%s = version %s (%s)", served.name, served.alias, served.version, settings
        )
        stop = threading.Event()
        poller = None
        if settings.poll_seconds > 0:

            def poll():
                while not stop.wait(settings.poll_seconds):
                    result = holder.refresh()
                    metrics.reloads.labels(result["outcome"]).inc()
                    if holder.current is not None:
                        c = holder.current
                        metrics.served(c.name, c.alias, c.version, c.loaded_at)

            poller = threading.Thread(target=poll, name="alias-poller", daemon=True)
            poller.start()
        try:
            yield
        finally:
            stop.set()

    app = FastAPI(
        title="retail-forecasting",
        description="Weekly sales forecasts per Walmart store and department from the approved "
        "(alias `champion`) version of the registered model. See docs/serving.md.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return _error(
            422, _validation_errors(exc.errors()), "The request does not match the schema."
        )

    @app.exception_handler(fc.Refusal)
    async def refused(request: Request, exc: fc.Refusal):
        example = (
            CSV_EXAMPLE if "csv" in (request.headers.get("content-type") or "") else EXAMPLE_REQUEST
        )
        return _error(exc.status, exc.errors, exc.message, example if exc.status == 422 else None)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        logger.exception("Internal error on %s %s", request.method, request.url.path)
        return _error(500, "internal error (logged by the server)", None, None)

    errors = {
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    }

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/health/ready", tags=["health"], responses={503: {"model": ErrorResponse}})
    async def ready():
        served = holder.current
        if served is None:
            return _error(503, "no model loaded", None, None)
        return {"status": "ready", "model": served.name, "version": served.version}

    @app.get("/ping", tags=["sagemaker"])
    async def ping():
        return Response(status_code=200 if holder.current is not None else 503)

    @app.get("/model", tags=["model"])
    async def model() -> dict[str, Any]:
        served = service.served()
        return {
            **served.describe(),
            "registry": {
                "tracking_uri": _safe_uri(settings.tracking_uri),
                "poll_seconds": settings.poll_seconds,
                "last_check": pd.Timestamp(holder.last_check, unit="s", tz="UTC").isoformat()
                if holder.last_check
                else None,
                "last_error": holder.last_error,
            },
        }

    @app.post("/forecast", tags=["forecast"], response_model=ForecastResponse, responses=errors)
    async def forecast(req: ForecastRequest):
        return await service.answer(req)

    @app.post(
        "/forecast/batch",
        tags=["forecast"],
        responses={
            200: {
                "content": {"text/csv": {}},
                "description": "Id,Weekly_Sales[,extra value columns]",
            },
            **errors,
            415: {"model": ErrorResponse},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
            }
        },
    )
    async def batch(
        request: Request,
        extra: bool = Query(True, description="also the model's extra value columns (e.g. q0.1)"),
    ):
        _require_type(request, ("text/csv",))
        out, _ = await run_in_threadpool(service.forecast_csv, await request.body())
        return _csv_response(fc.submission(out, extra))

    @app.post(
        "/invocations",
        tags=["sagemaker"],
        responses={**errors, 415: {"model": ErrorResponse}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ForecastRequest"}
                    },
                    "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
                },
            }
        },
    )
    async def invocations(request: Request):
        kind = _require_type(request, ("application/json", "text/csv"))
        body = await request.body()
        if kind == "application/json":
            try:
                req = ForecastRequest.model_validate_json(body)
            except ValidationError as exc:
                return _error(
                    422, _validation_errors(exc.errors()), "The request does not match the schema."
                )
            return await service.answer(req)
        out, _ = await run_in_threadpool(service.forecast_csv, body)
        if "application/json" in (request.headers.get("accept") or ""):
            return FastJSON({"forecasts": fc.records(out)})
        return _csv_response(fc.submission(out))

    @app.post(
        "/admin/reload",
        tags=["model"],
        responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
    )
    async def reload(x_api_key: str | None = Header(None)):
        if not settings.api_key:
            return _error(
                403, "reload is disabled: set RETAIL_SERVING_API_KEY on the server", None, None
            )
        if not x_api_key or not hmac.compare_digest(x_api_key.encode(), settings.api_key.encode()):
            return _error(401, "missing or wrong X-API-Key header", None, None)
        result = await asyncio.to_thread(holder.refresh)
        metrics.reloads.labels(result["outcome"]).inc()
        if holder.current is not None:
            c = holder.current
            metrics.served(c.name, c.alias, c.version, c.loaded_at)
        return FastJSON(result, status_code=200 if result["outcome"] != "failed" else 502)

    @app.get("/metrics", tags=["health"])
    async def prometheus():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, metrics=metrics)
    return app


def _require_type(request: Request, accepted: tuple[str, ...]) -> str:
    given = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if given not in accepted:
        raise fc.Refusal(
            f"Content-Type {given or 'none'!r} is not accepted; send {' or '.join(accepted)}",
            [
                {
                    "loc": ["header", "content-type"],
                    "type": "unsupported_media_type",
                    "msg": f"send {' or '.join(accepted)}",
                }
            ],
            status=415,
        )
    return given


def _json(content: dict[str, Any] | bytes) -> Response:
    if isinstance(content, bytes):
        return Response(content, media_type="application/json")
    return FastJSON(content)


def _csv_response(frame: pd.DataFrame) -> PlainTextResponse:
    return PlainTextResponse(fc.csv_text(frame), media_type="text/csv")


def _safe_uri(uri: str) -> str:
    """The tracking URI without credentials (user:password@host)."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
