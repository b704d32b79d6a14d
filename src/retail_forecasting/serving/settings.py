"""What the serving API reads from its environment (all optional).

``MLFLOW_TRACKING_URI``
    tracking store and registry; default the project's ``sqlite:///<project>/mlflow.db``
``MLFLOW_REGISTRY_URI``
    the registry, when it differs from the tracking URI
``RETAIL_SERVING_MODEL``
    registered model name; default ``retail_forecasting_champion``
``RETAIL_SERVING_ALIAS``
    the alias served (the approved version); default ``champion``
``RETAIL_SERVING_POLL_SECONDS``
    how often the alias is re-read; default ``60``, ``0`` = never (reload endpoint only)
``RETAIL_SERVING_API_KEY``
    key of ``POST /admin/reload`` (header ``X-API-Key``); unset (default) = the endpoint is
    refused (403)
``RETAIL_SERVING_MAX_BODY_BYTES``
    larger bodies get 413; default ``8388608`` (8 MiB; Kaggle's test.csv is 2.6 MB)
``RETAIL_SERVING_MAX_ROWS``
    rows of one request; default ``200000`` (test.csv has 115,064)
``RETAIL_SERVING_PRECOMPUTE``
    default ``1``: forecast every known store x known department x horizon week at load (the
    default-input table, :mod:`.forecast`); ``0`` = checks and model on every request
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from retail_forecasting.errors import InputError
from retail_forecasting.model_registry import REGISTERED_MODEL, tracking_uri


@dataclass(frozen=True)
class ServingSettings:
    tracking_uri: str
    registry_uri: str
    model_name: str = REGISTERED_MODEL
    alias: str = "champion"
    poll_seconds: float = 60.0
    api_key: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_rows: int = 200_000
    precompute: bool = True

    def __repr__(self) -> str:  # never print the key
        key = "set" if self.api_key else "unset"
        return (
            f"ServingSettings(model={self.model_name}@{self.alias}, "
            f"tracking_uri={self.tracking_uri!r}, poll_seconds={self.poll_seconds}, "
            f"api_key={key}, max_body_bytes={self.max_body_bytes}, "
            f"max_rows={self.max_rows}, precompute={self.precompute})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> ServingSettings:
        env = os.environ if environ is None else environ
        tracking = env.get("MLFLOW_TRACKING_URI") or tracking_uri()

        def number(name: str, default: float, kind=float):
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise InputError(f"{name} must be a number, got {raw!r}") from None
            if value < 0:
                raise InputError(f"{name} must be >= 0, got {raw!r}")
            return value

        values = dict(
            tracking_uri=tracking,
            registry_uri=env.get("MLFLOW_REGISTRY_URI") or tracking,
            model_name=env.get("RETAIL_SERVING_MODEL") or REGISTERED_MODEL,
            alias=env.get("RETAIL_SERVING_ALIAS") or "champion",
            poll_seconds=number("RETAIL_SERVING_POLL_SECONDS", 60.0),
            api_key=env.get("RETAIL_SERVING_API_KEY") or None,
            max_body_bytes=number("RETAIL_SERVING_MAX_BODY_BYTES", 8 * 1024 * 1024, int),
            max_rows=number("RETAIL_SERVING_MAX_ROWS", 200_000, int),
            precompute=(env.get("RETAIL_SERVING_PRECOMPUTE") or "1").strip().lower()
            not in ("0", "false", "no"),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
