"""One Spark session in local[2] for every Spark test (starting one costs seconds)."""

from __future__ import annotations

import os

import pytest

# `make test` installs the spark extra, and CI must run these tests: there a missing PySpark
# fails the run; elsewhere (a venv without the extra) the Spark tests are skipped.
if os.environ.get("CI"):
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark", reason='needs the spark extra: pip install -e ".[test,spark]"')


@pytest.fixture(scope="session")
def spark():
    from retail_forecasting.spark.hooks import make_session

    settings = {
        "spark.master": "local[2]",
        "spark.driver.memory": "1g",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    session = make_session(settings, "retail-forecasting-tests")
    yield session
    session.stop()
