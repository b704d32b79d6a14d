"""Start the serving API: ``retail-forecasting serve`` / ``make serve`` / the container's ``serve``.

Before uvicorn starts, the registry is asked whether the alias exists; if not, the command
prints what exists and how to promote a version (``python -m retail_forecasting.model_registry
promote --version N``) and exits with code 2 instead of starting a server with nothing to serve.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from retail_forecasting.errors import InputError

logger = logging.getLogger(__name__)


def preflight(settings) -> str | None:
    """None when the alias resolves, else the message to print."""
    import mlflow

    from retail_forecasting.model_registry import check_alias

    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.registry_uri)
    try:
        check_alias(settings.alias, settings.model_name)
    except InputError as exc:
        return (
            str(exc)
            .replace(
                "run inference with `--params model_alias=", "serve another alias with `--alias "
            )
            .replace("run with `--params model_alias=", "serve with `--alias ")
        )
    except Exception as exc:  # noqa: BLE001 - unreachable registry, bad URI
        return (
            f"Cannot read the MLflow registry {settings.registry_uri}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}. Set MLFLOW_TRACKING_URI to the "
            f"tracking server (or run from the project, whose mlflow.db is the default)."
        )
    return None


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    **overrides,
) -> int:
    """Run the API until stopped; returns the exit code (2 when there is nothing to serve)."""
    import uvicorn

    from retail_forecasting.serving.app import create_app
    from retail_forecasting.serving.settings import ServingSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = ServingSettings.from_env(**overrides)
    except InputError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    problem = preflight(settings)
    if problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    logger.info("Serving on http://%s:%d (%s)", host, port, settings)
    if workers > 1:  # each worker builds its own app (and loads its own copy of the model)
        import os

        for key, value in overrides.items():
            if value is not None:
                os.environ[_ENV[key]] = str(value)
        uvicorn.run(
            "retail_forecasting.serving.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
        )
    else:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level=log_level, access_log=False
        )
    return 0


_ENV = {
    "alias": "RETAIL_SERVING_ALIAS",
    "model_name": "RETAIL_SERVING_MODEL",
    "tracking_uri": "MLFLOW_TRACKING_URI",
    "registry_uri": "MLFLOW_REGISTRY_URI",
    "poll_seconds": "RETAIL_SERVING_POLL_SECONDS",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="retail-forecasting serve",
        description="Serve the registered model (alias champion by default) over HTTP; "
        "docs at /docs.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--alias", default=None, help="registry alias to serve (default champion)")
    parser.add_argument(
        "--model-name", default=None, help="registered model (default retail_forecasting_champion)"
    )
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default MLFLOW_TRACKING_URI, else the project's mlflow.db)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=None,
        help="re-read the alias this often (default 60; 0 = only POST /admin/reload)",
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    overrides = dict(alias=args.alias, model_name=args.model_name, poll_seconds=args.poll_seconds)
    if args.tracking_uri:
        overrides.update(tracking_uri=args.tracking_uri, registry_uri=args.tracking_uri)
    return serve(args.host, args.port, args.workers, args.log_level, **overrides)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
