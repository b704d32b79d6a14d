"""Reading the warehouse's AWS Secrets Manager secret (``RDS_SECRET_NAME``, ``AWS_REGION``).

:func:`retail_forecasting.warehouse.credentials.warehouse_credentials` decides where the
credentials come from and calls this module when ``RDS_SECRET_NAME`` is set. The original
project (the PostgreSQL ETL this one re-implements, see ``docs/architecture.md``) read the RDS
connection either from ``DB_*`` variables or from a Secrets
Manager secret; so does this one. The secret is a JSON object. Both the format RDS writes for a
managed secret (``username``, ``password`` and, for secrets made by the console,
``host``, ``port``, ``dbname``) and the project's own variable names (``DB_HOST``, ``DB_PORT``,
``DB_NAME``, ``DB_USER``, ``DB_PASSWORD``) are understood. What the secret holds wins; what it
lacks comes from the ``DB_*`` variables and their local defaults (an RDS-managed master secret
holds only the user name and password, so ``DB_HOST`` and ``DB_NAME`` come from the
environment).

Only ``botocore`` is used (it comes with ``s3fs``), so the container image needs no ``boto3``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

#: secret key -> DB_* variable
SECRET_KEYS = {
    "host": "DB_HOST",
    "port": "DB_PORT",
    "dbname": "DB_NAME",
    "database": "DB_NAME",
    "username": "DB_USER",
    "user": "DB_USER",
    "password": "DB_PASSWORD",
    **{name: name for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD")},
}


class SecretError(RuntimeError):
    """The secret cannot be read or does not describe a database connection."""


def region_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``AWS_REGION`` (set by SageMaker, Lambda and Glue), else ``AWS_DEFAULT_REGION``."""
    env = os.environ if environ is None else environ
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None


def secretsmanager_client(region: str | None):
    """A botocore Secrets Manager client (honours ``AWS_ENDPOINT_URL`` like every AWS SDK)."""
    import botocore.session

    return botocore.session.get_session().create_client("secretsmanager", region_name=region)


def fetch_secret(name: str, region: str | None = None, client: Any = None) -> dict[str, Any]:
    """Read secret ``name`` and parse it as a JSON object."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = client or secretsmanager_client(region)
        response = client.get_secret_value(SecretId=name)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SecretError(
            f"Cannot read secret {name!r} from AWS Secrets Manager (region {region}): "
            f"{error.get('Code')}: {error.get('Message')}"
        ) from exc
    except BotoCoreError as exc:
        raise SecretError(
            f"Cannot read secret {name!r} from AWS Secrets Manager (region {region}): {exc}. "
            "Set AWS_REGION and make credentials available (role, profile or AWS_* variables)."
        ) from exc
    text = response.get("SecretString")
    if text is None:
        text = bytes(response.get("SecretBinary") or b"").decode("utf-8")
    try:
        secret = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SecretError(f"Secret {name!r} is not JSON: {exc}") from exc
    if not isinstance(secret, dict):
        raise SecretError(f"Secret {name!r} must be a JSON object, got {type(secret).__name__}")
    return secret


def db_variables_from_secret(
    secret: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``DB_*`` variables of ``environ``, overridden by what ``secret`` defines."""
    env = dict(os.environ if environ is None else environ)
    known = {key: value for key, value in secret.items() if key in SECRET_KEYS}
    if not known:
        raise SecretError(
            f"The secret holds none of the expected keys {sorted(set(SECRET_KEYS))}; "
            f"found {sorted(secret)}"
        )
    for key, value in known.items():
        if value is not None and value != "":
            env[SECRET_KEYS[key]] = str(value)
    return env
