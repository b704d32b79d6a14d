"""Project context: credentials for the PostgreSQL warehouse from ``DB_*`` variables.

The ``local`` and ``sagemaker`` environments' catalogs name the credentials ``warehouse_db``.
They come from an ignored ``conf/<env>/credentials.yml`` when it defines ``warehouse_db``;
otherwise, when ``RDS_SECRET_NAME`` is set, from that AWS Secrets Manager secret (region
``AWS_REGION``, see :mod:`retail_forecasting.aws.secrets`); otherwise from the environment
variables ``DB_HOST``, ``DB_PORT``, ``DB_NAME``, ``DB_USER`` and ``DB_PASSWORD`` (the original
project's names), so no secret ever has to live in the repository.

Every catalog the context builds also gets kedro-mlflow artifact datasets whose files are on S3
made loggable (:mod:`retail_forecasting.aws.mlflow_artifacts`); local ones are left as they are.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from kedro.framework.context import KedroContext
from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)

WAREHOUSE_CREDENTIALS = "warehouse_db"

_DEFAULTS = {
    "DB_HOST": "127.0.0.1",
    "DB_PORT": "5432",
    "DB_NAME": "retailds",
    "DB_USER": "postgres",
    "DB_PASSWORD": "",
}


def postgres_credentials_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Build ``{"con": <SQLAlchemy URL>}`` for PostgreSQL from ``DB_*`` variables.

    Unset variables take local-development defaults (``postgres@127.0.0.1:5432/retailds``).
    """
    env = os.environ if environ is None else environ
    values = {key: env.get(key) or default for key, default in _DEFAULTS.items()}
    try:
        port = int(values["DB_PORT"])
    except ValueError as exc:
        raise ValueError(f"DB_PORT must be an integer, got {values['DB_PORT']!r}") from exc
    url = URL.create(
        "postgresql+psycopg2",
        username=values["DB_USER"],
        password=values["DB_PASSWORD"] or None,
        host=values["DB_HOST"],
        port=port,
        database=values["DB_NAME"],
    )
    return {"con": url.render_as_string(hide_password=False)}


class ProjectContext(KedroContext):
    """Kedro context that falls back to Secrets Manager or ``DB_*`` variables for the warehouse
    credentials."""

    def _get_config_credentials(self) -> dict[str, Any]:
        credentials = dict(super()._get_config_credentials())
        if WAREHOUSE_CREDENTIALS not in credentials:
            if os.environ.get("RDS_SECRET_NAME", "").strip():
                from retail_forecasting.aws.secrets import warehouse_credentials

                credentials[WAREHOUSE_CREDENTIALS] = warehouse_credentials()
            else:
                credentials[WAREHOUSE_CREDENTIALS] = postgres_credentials_from_env()
                logger.debug("Warehouse credentials taken from DB_* environment variables")
        return credentials

    def _get_catalog(self, *args: Any, **kwargs: Any):
        from retail_forecasting.aws.mlflow_artifacts import log_remote_artifacts_from_local_copies

        catalog = super()._get_catalog(*args, **kwargs)
        log_remote_artifacts_from_local_copies(catalog)
        return catalog
