"""What the three handlers share: the SQL folder and the warehouse engine (thin over
:mod:`retail_forecasting.aws.etl`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from retail_forecasting.aws import etl

logging.getLogger().setLevel(logging.INFO)


def sql_files() -> tuple[list[Path], Path]:
    """The SQL files shipped with the function (``RETAIL_SQL_DIR``, default ``./sql``)."""
    return etl.sql_files(os.environ.get("RETAIL_SQL_DIR") or Path(__file__).parent / "sql")


def engine():
    """Warehouse engine from ``RDS_SECRET_NAME`` (Secrets Manager) or ``DB_*`` variables."""
    return etl.engine_from_env()
