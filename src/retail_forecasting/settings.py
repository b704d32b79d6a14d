"""Project settings: configuration loader, custom resolvers and hooks.

Environments: ``base`` is the embedded default (DuckDB warehouse file under ``data/``, no
credentials), ``local`` switches the warehouse to PostgreSQL (``DB_*`` variables or an ignored
``conf/local/credentials.yml``), ``sagemaker`` is the AWS path. The PostgreSQL credentials come
from the ``${warehouse_credentials:}`` resolver (``conf/base/credentials.yml``,
:mod:`retail_forecasting.warehouse.credentials`); Kedro's own ``KedroContext`` is used as it is.
"""

# first: filters library notices a user cannot act on before Kedro loads its plugins
import retail_forecasting.console  # noqa: F401
from retail_forecasting.hooks import ChallengerAliasHook, FlatParamsHook, ModelZooHook
from retail_forecasting.resolvers import CUSTOM_RESOLVERS
from retail_forecasting.runlock import RunLockHook

# ChallengerAliasHook moves `challenger` to a newly registered champion version that passes the
# quality gate (retail_forecasting.aws.quality_gate); FlatParamsHook logs typed parameters to
# MLflow one leaf each;
# RunLockHook allows one `kedro run` at a time per project (retail_forecasting.runlock);
# ModelZooHook checks that parameters_modelling.yml has one entry per model of the zoo.
HOOKS = (RunLockHook(), ChallengerAliasHook(), FlatParamsHook(), ModelZooHook())

# ProvenanceHook stamps each saved dataset with the settings it was made under and refuses a
# training node whose inputs were made under other ones (retail_forecasting.provenance);
# RunNameHook names and tags the MLflow run by scope, data, horizon and commit (run_names).
from retail_forecasting.provenance import ProvenanceHook  # noqa: E402
from retail_forecasting.run_names import RunNameHook  # noqa: E402

HOOKS = (*HOOKS, ProvenanceHook(), RunNameHook())

# NodeProgressHook logs one line per node with elapsed time and time left (node_progress).
from retail_forecasting.node_progress import NodeProgressHook  # noqa: E402

HOOKS = (*HOOKS, NodeProgressHook())

# SparkHooks makes the SparkSession of `kedro run --env spark` from conf/spark/spark.yml and runs
# the per-department backtests, and the learners' samples and scoring, on it
# (retail_forecasting.spark); without spark*.yml it does nothing.
from retail_forecasting.spark.hooks import SparkHooks  # noqa: E402

HOOKS = (*HOOKS, SparkHooks())

# ReleaseMemoryHook gives the memory freed by one node back to the system before the next runs
# (glibc's malloc_trim, Arrow's pool; retail_forecasting.memory, docs/scale.md).
from retail_forecasting.memory import ReleaseMemoryHook  # noqa: E402

HOOKS = (*HOOKS, ReleaseMemoryHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    # `kedro run` without --env uses `base` alone: the embedded default needs no credentials.
    "default_run_env": "base",
    "custom_resolvers": CUSTOM_RESOLVERS,
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "spark": ["spark*", "spark*/**"],
    },
}
