"""Credentials of the PostgreSQL warehouse (the ``local`` and ``sagemaker`` environments).

The catalogs name the credentials ``warehouse_db``. ``conf/base/credentials.yml`` (committed,
it holds no secret) defines them as ``${warehouse_credentials:}``, the OmegaConf resolver
registered in ``settings.py`` (Kedro's documented ``CONFIG_LOADER_ARGS["custom_resolvers"]``),
which returns :func:`warehouse_credentials`:

1. an environment's own ignored ``conf/<env>/credentials.yml`` that defines ``warehouse_db``
   replaces base's (Kedro merges an environment over ``base`` key by key);
2. otherwise, when ``RDS_SECRET_NAME`` is set, that AWS Secrets Manager secret (region
   ``AWS_REGION``, see :mod:`retail_forecasting.aws.secrets`), completed by the ``DB_*``
   variables;
3. otherwise the variables ``DB_HOST``, ``DB_PORT``, ``DB_NAME``, ``DB_USER`` and
   ``DB_PASSWORD`` (the names the project's predecessor, the PostgreSQL ETL this project grew
   from, used), with local-development defaults.

So no secret ever has to live in the repository. Kedro resolves ``base`` before merging an
environment over it: with ``RDS_SECRET_NAME`` set the secret is read even when the
environment's own credentials file defines ``warehouse_db`` (unset it in that case).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)

#: the credentials' name in the catalogs and in ``credentials.yml``
WAREHOUSE_CREDENTIALS = "warehouse_db"
SECRET_VARIABLE = "RDS_SECRET_NAME"

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


def warehouse_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"con": <SQLAlchemy URL>}`` for the PostgreSQL warehouse.

    With ``RDS_SECRET_NAME`` set, from that secret (region ``AWS_REGION``) completed by the
    ``DB_*`` variables; without it, from the ``DB_*`` variables alone.
    """
    env = os.environ if environ is None else environ
    name = (env.get(SECRET_VARIABLE) or "").strip()
    if not name:
        logger.debug("Warehouse credentials taken from DB_* environment variables")
        return postgres_credentials_from_env(env)
    from retail_forecasting.aws.secrets import (
        db_variables_from_secret,
        fetch_secret,
        region_from_env,
    )

    region = region_from_env(env)
    secret = fetch_secret(name, region)
    logger.info("Warehouse credentials read from AWS Secrets Manager secret %r", name)
    return postgres_credentials_from_env(db_variables_from_secret(secret, env))
