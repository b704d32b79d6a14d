"""The ``SparkSession`` of ``kedro run --env spark``, made in a hook as Kedro's PySpark docs do.

:class:`SparkHooks` reads the Spark settings of the run's environment (``spark*.yml``, the
``spark`` config pattern of ``settings.py``; only ``conf/spark/spark.yml`` has any), builds the
session from them before any node runs, and registers
:func:`retail_forecasting.spark.engine.cross_validation_by_department` as the runner of the
per-department backtests and :class:`retail_forecasting.spark.engine.SparkLearners` as the
learners' engine (their training sample and scoring by department;
:mod:`retail_forecasting.forecasting.partitioned`). Environments
without Spark settings (``base``, ``local``, ``sagemaker``) are left alone: PySpark is not even
imported there.

Before each node, a node input ``X`` with a catalog entry ``X@spark`` (``conf/spark/catalog.yml``:
``feat_panel@spark``, kedro-datasets' Spark dataset of ``feat_panel``'s parquet file, Kedro's
transcoding notation for the same file read as another type) is registered with the engines as
the Spark frame of the pandas object the node receives
(:class:`retail_forecasting.spark.engine.SparkPanels`): their calls on that panel, or on rows of
it, read it with Spark from storage instead of handing it over from the driver. The node itself
still gets the pandas frame (node signatures are those of every environment).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from functools import partial
from typing import Any

import pandas as pd
from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from retail_forecasting.forecasting import partitioned

logger = logging.getLogger(__name__)

# the suffix of the catalog entry that reads a node input's file with Spark (Kedro's
# transcoding notation: the same file as another type)
SPARK_TWIN = "@spark"

# the start of PySpark's warning about pandas 3 (make_session silences it)
PANDAS_VERSION_WARNING = "PySpark does not yet fully support pandas"


def spark_settings(config_loader: Any) -> dict[str, str]:
    """The environment's Spark settings as strings ({} when it has none)."""
    try:
        settings = config_loader["spark"]
    except (KeyError, MissingConfigException):
        return {}
    return {
        str(k): str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in (settings or {}).items()
    }


def make_session(settings: dict[str, str], app_name: str) -> Any:
    """A SparkSession from ``settings``; Python workers use this interpreter unless told
    otherwise."""
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ImportError(
            'the spark environment needs PySpark: pip install -e ".[spark]" (and Java 17 or later)'
        ) from error

    # PySpark 4.0 warns that it "does not yet fully support pandas >= 3.0.0" at each use of its
    # pandas bridge, in the driver and in every Python worker (1,044 lines in a 10x run's log).
    # The project runs pandas 3 and tests/spark check the Spark path's results against the pandas
    # path's: nothing a user can act on. Only that message is silenced, in the driver here and in
    # the workers through their environment (a cluster's own PYTHONWARNINGS setting wins).
    warnings.filterwarnings("ignore", message=PANDAS_VERSION_WARNING, category=FutureWarning)
    settings = {
        "spark.pyspark.python": sys.executable,
        "spark.executorEnv.PYTHONWARNINGS": f"ignore:{PANDAS_VERSION_WARNING}:FutureWarning",
        **settings,
    }
    # the Python workers of a local master start PYSPARK_PYTHON (default `python3` on PATH, which
    # need not have this project installed); a cluster's own setting wins
    os.environ.setdefault("PYSPARK_PYTHON", settings["spark.pyspark.python"])
    conf = SparkConf().setAll(list(settings.items()))
    session = SparkSession.builder.appName(app_name).config(conf=conf).getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    # py4j logs every gateway connection it closes at INFO, also from __del__ at interpreter exit
    # when the log stream may be closed ("--- Logging error ---"): nothing a user can act on
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


class SparkHooks:
    """Session from ``spark.yml``; per-department backtests and the learners' per-department
    work on it for the run."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._previous_learners: Any = None
        self._learners: Any = None
        self._active = False

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        settings = spark_settings(context.config_loader)
        if not settings:
            return
        session = make_session(settings, context.project_path.name)
        from retail_forecasting.spark.engine import SparkLearners, SparkPanels, runner

        panels = SparkPanels(session)
        self._previous = partitioned.use(runner(session, panels))
        self._learners = SparkLearners(session, panels)
        self._previous_learners = partitioned.use_learners(self._learners)
        self._active = True
        logger.info(
            "Spark %s (master %s): per-department backtests, and the learners' samples and "
            "scoring, run on Spark",
            session.version,
            session.sparkContext.master,
        )

    def _restore(self) -> None:
        if self._active:
            self._learners.release()
            partitioned.use(self._previous)
            partitioned.use_learners(self._previous_learners)
            self._learners = None
            self._active = False

    @hook_impl
    def before_node_run(self, catalog: Any, inputs: dict[str, Any]) -> None:
        """The node's input with a ``<name>@spark`` catalog entry is registered as the panel
        whose Spark frame that dataset loads (read only if a Spark call of the node needs it)."""
        if not self._active:
            return
        # declared entries only: `in catalog` also matches dataset factory patterns
        declared = set(catalog.keys())
        for name, data in inputs.items():
            twin = f"{name}{SPARK_TWIN}"
            if twin not in declared or not isinstance(data, pd.DataFrame):
                continue
            self._learners.panels.register(data, partial(catalog.load, twin), name)
            return

    @hook_impl
    def after_node_run(self) -> None:
        """A node's cached panel is released when the node ends (the next node hands its own)."""
        if self._active:
            self._learners.release()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._restore()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._restore()
