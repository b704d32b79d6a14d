"""The served model: loaded from the MLflow registry by alias, swapped when the alias moves.

:class:`ModelHolder` loads ``models:/<name>/<version>`` for the version the alias points at
(resolving first, so a move between the two calls cannot mix versions), builds the default
forecast table (:func:`.forecast.default_table`) and only then swaps the new model in: requests
never see a half-loaded model. :meth:`ModelHolder.refresh` re-reads the alias (polling thread,
or ``POST /admin/reload``); if the registry is unreachable or the new version fails to load, the
current model keeps serving and the error is kept for ``GET /model`` and the logs.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import mlflow
import pandas as pd

from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.model_registry import check_alias, forecaster_of
from retail_forecasting.serving.forecast import DefaultTable, default_table, dump_json
from retail_forecasting.serving.settings import ServingSettings

logger = logging.getLogger(__name__)


def freeze_heap() -> None:
    """Collect, then move every object alive now (the model, its precomputed table) out of the
    cyclic garbage collector's sight (:func:`gc.freeze`). Without it, each full collection walks
    the ~350,000 objects of the real champion: 0.5 s or more during which no request is answered
    (the p99 latency). Called after a load; :func:`gc.unfreeze` first, so the previous model's
    reference cycles are collected once instead of being kept for ever."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@dataclass
class Served:
    """One loaded version of the registered model."""

    name: str
    alias: str
    version: str
    run_id: str | None
    python_model: Any
    forecaster: ChampionForecaster
    table: DefaultTable | None
    metrics: dict[str, float] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.time)
    #: the start of a /forecast answer, up to the first record: ``{"model": {...}, "forecasts": [``
    head: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        model = {"name": self.name, "alias": self.alias, "version": self.version}
        self.head = dump_json({"model": model})[:-1] + b',"forecasts":['

    def describe(self) -> dict[str, Any]:
        f = self.forecaster
        weeks = f.forecast_weeks()
        names = [f.name, *f.weights]
        test = {
            k.split(".", 2)[2]: v for k, v in self.metrics.items() if k.startswith("test.champion.")
        }
        # the run logs backtest.<model>.<metric> (the validation backtest) for every model
        backtest: dict[str, dict[str, float]] = {}
        for key, value in self.metrics.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "backtest" and parts[1] in names:
                backtest.setdefault(parts[1], {})[parts[2]] = value
        return {
            "name": self.name,
            "alias": self.alias,
            "version": self.version,
            "run_id": self.run_id,
            "champion": f.name,
            "family": f.family,
            "members": {m: float(w) for m, w in f.weights.items()},
            "origin_week": f.origin.date().isoformat(),
            "horizon_weeks": int(f.horizon),
            "first_week": weeks[0].date().isoformat(),
            "last_week": weeks[-1].date().isoformat(),
            "stores": sorted(int(s) for s in f.stores["store"]),
            "series": int(len(f.known_series())),
            "metrics": {"test": test, "backtest": backtest},
            "cached_rows": 0 if self.table is None else int(len(self.table.index)),
            "loaded_at": pd.Timestamp(self.loaded_at, unit="s", tz="UTC").isoformat(),
        }


class ModelHolder:
    """The current :class:`Served` model and how to refresh it (thread-safe swap)."""

    def __init__(self, settings: ServingSettings) -> None:
        self.settings = settings
        self.precompute = settings.precompute
        self._current: Served | None = None
        self._lock = threading.Lock()  # one load at a time
        self.last_check: float | None = None
        self.last_error: str | None = None
        self.reloads = 0
        mlflow.set_tracking_uri(settings.tracking_uri)
        mlflow.set_registry_uri(settings.registry_uri)

    @property
    def current(self) -> Served | None:
        return self._current

    def _client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(
            tracking_uri=self.settings.tracking_uri, registry_uri=self.settings.registry_uri
        )

    def resolve(self) -> str:
        """The version the alias points at now (RegisteredModelNotFound saying what to do)."""
        version = check_alias(self.settings.alias, self.settings.model_name)
        assert version is not None
        return version

    def load(self, version: str) -> Served:
        name = self.settings.model_name
        started = time.perf_counter()
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        python_model = model.unwrap_python_model()
        forecaster = forecaster_of(model)
        info = self._client().get_model_version(name, version)
        metrics: dict[str, float] = {}
        if info.run_id:
            try:
                metrics = dict(self._client().get_run(info.run_id).data.metrics)
            except Exception as exc:  # noqa: BLE001 - metrics are informative only
                logger.warning("Could not read the metrics of run %s: %s", info.run_id, exc)
        table = default_table(python_model, forecaster) if self.precompute else None
        logger.info(
            "Loaded %s version %s (%s, origin %s, %d-week horizon) in %.1f s",
            name,
            version,
            forecaster.name,
            forecaster.origin.date(),
            forecaster.horizon,
            time.perf_counter() - started,
        )
        return Served(
            name,
            self.settings.alias,
            str(version),
            info.run_id,
            python_model,
            forecaster,
            table,
            metrics,
        )

    def start(self) -> Served:
        """Load the alias's version; raises (RegisteredModelNotFound, MlflowException) if none."""
        with self._lock:
            served = self.load(self.resolve())
            self._current = served
            self.last_check = time.time()
            freeze_heap()
            return served

    def refresh(self) -> dict[str, Any]:
        """Re-read the alias; load and swap in a new version. Never raises: on failure the
        current model stays and the outcome says why."""
        with self._lock:
            self.last_check = time.time()
            current = self._current
            try:
                version = self.resolve()
                if current is not None and version == current.version:
                    self.last_error = None
                    return {"outcome": "unchanged", "version": version}
                served = self.load(version)
            except Exception as exc:  # noqa: BLE001 - keep serving what we have
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "Registry check failed; still serving version %s: %s",
                    current.version if current else None,
                    self.last_error,
                )
                return {
                    "outcome": "failed",
                    "version": current.version if current else None,
                    "error": self.last_error,
                }
            previous = current.version if current else None
            self._current = served
            current = None  # the previous model: garbage now, collected by freeze_heap
            freeze_heap()
            self.last_error = None
            self.reloads += 1
            logger.info("Now serving %s version %s (was %s)", served.name, served.version, previous)
            return {"outcome": "reloaded", "version": served.version, "previous": previous}

    def poll_forever(self, stop: threading.Event) -> None:
        """Refresh every ``poll_seconds`` until ``stop`` is set (a daemon thread's target)."""
        while not stop.wait(self.settings.poll_seconds):
            self.refresh()
