"""Prometheus metrics of the serving API (``GET /metrics``), one registry per app."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "retail_serving_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "retail_serving_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.rows = Counter(
            "retail_serving_forecast_rows_total",
            "Forecast rows returned",
            ["forecast_basis"],
            registry=r,
        )
        self.answers = Counter(
            "retail_serving_forecast_answers_total",
            "Forecast requests answered, by source: table (the precomputed "
            "default forecasts, no checks) or checked (the inference checks, "
            "and the model for rows the table does not hold)",
            ["source"],
            registry=r,
        )
        self.refusals = Counter(
            "retail_serving_refusals_total",
            "Requests refused (4xx)",
            ["route", "status"],
            registry=r,
        )
        self.model_version = Gauge(
            "retail_serving_model_version",
            "Version of the served model",
            ["name", "alias"],
            registry=r,
        )
        self.model_loaded_at = Gauge(
            "retail_serving_model_loaded_timestamp_seconds",
            "When the served version was loaded",
            registry=r,
        )
        self.reloads = Counter(
            "retail_serving_model_refresh_total", "Alias checks by outcome", ["outcome"], registry=r
        )

    def served(self, name: str, alias: str, version: str, loaded_at: float | None = None) -> None:
        self.model_version.clear()
        self.model_version.labels(name, alias).set(float(version))
        self.model_loaded_at.set(loaded_at or time.time())
