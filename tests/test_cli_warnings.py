"""The console of `kedro run` (retail_forecasting.console, conf/logging.yml): library notices a
user cannot act on stay out of it, other warnings stay in, and the log is one line per record
unless it goes to a terminal."""

from __future__ import annotations

import importlib
import io
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml
from kedro import KedroDeprecationWarning

from retail_forecasting import console

PROJECT = Path(__file__).resolve().parents[1]


def test_the_pipeline_option_deprecation_is_not_shown_but_other_deprecations_are():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # what a console shows (pytest ignores deprecations)
        importlib.reload(console)  # the project's filters, in front
        warnings.warn(
            "Option '--pipeline' is deprecated and will be removed in a future release. "
            "Please use '--pipelines' instead.",
            KedroDeprecationWarning,
            stacklevel=1,
        )
        warnings.warn("Option '--something' is deprecated", KedroDeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["Option '--something' is deprecated"]


def test_library_warnings_about_the_projects_own_code_are_dropped_and_a_users_are_not():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(console)
        warnings.warn(
            "One or more dataset names contain '.' characters, ...", UserWarning, stacklevel=1
        )
        warnings.warn(
            "\x1b[33mHint: Inferred schema contains integer column(s). ...",
            UserWarning,
            stacklevel=1,
        )
        warnings.warn("register_new_resolver() is deprecated, use ...", UserWarning, stacklevel=1)
        warnings.warn(
            "IProgress not found. Please update jupyter and ipywidgets.", UserWarning, stacklevel=1
        )
        warnings.warn("Parameter 'horizon_weeks' looks wrong", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["Parameter 'horizon_weeks' looks wrong"]


def test_library_log_notices_are_dropped_and_other_records_of_those_loggers_are_kept():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep()
    names = ("kedro.validation.type_extractor", "mlflow.pyfunc", "py.warnings")
    console.quiet_library_notices()
    console.quiet_library_notices()  # idempotent: one filter per notice
    for name in names:
        logging.getLogger(name).addHandler(handler)
    try:
        assert (
            sum(
                isinstance(f, console.DropMessages)
                for f in logging.getLogger("py.warnings").filters
            )
            == 1
        )
        logging.getLogger("kedro.validation.type_extractor").warning(
            "Conflicting type requirements for parameter '%s': A vs A | None", "ingestion"
        )
        logging.getLogger("mlflow.pyfunc").warning(
            "Passing a Python object as `python_model` causes ..."
        )
        logging.getLogger("mlflow.pyfunc").warning("something else")
        # what logging.captureWarnings makes of MLflow's notice about kedro-mlflow's model class
        logging.getLogger("py.warnings").warning(
            "%s",
            ".../data_validation.py:187: UserWarning: "
            "\x1b[33mAdd type hints to the `predict` method ...",
        )
        logging.getLogger("py.warnings").warning("%s", "x.py:1: UserWarning: your data has a gap")
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(handler)
    assert records == ["something else", "x.py:1: UserWarning: your data has a gap"]


def test_the_champion_pyfunc_is_typed_so_mlflow_validates_it_without_a_notice():
    """The 'Add type hints' notice is filtered because it concerns kedro-mlflow's class; the
    project's own pyfunc must not be the cause (MLflow's check of a subclass returns quietly)."""
    import pandas as pd
    from mlflow.models.signature import _extract_type_hints

    from retail_forecasting.model_registry import ChampionPyfunc

    hints = _extract_type_hints(ChampionPyfunc.predict, input_arg_index=1)
    assert hints.input is pd.DataFrame and hints.output is pd.DataFrame


def test_the_logging_configuration_is_valid_for_kedro_and_starts_plain():
    from kedro.framework.project import _DEFAULT_LOGGING_MODULE_ALLOWLIST, _ProjectLogging

    config = yaml.safe_load((PROJECT / "conf/logging.yml").read_text(encoding="utf-8"))
    # Kedro only accepts handler classes from `logging` and `kedro.logging` (no "()" factories)
    checker = _ProjectLogging.__new__(_ProjectLogging)
    checker._logging_module_allowlist = _DEFAULT_LOGGING_MODULE_ALLOWLIST
    checker._validate_logging_config(config)
    assert config["root"]["handlers"] == ["plain"]
    assert config["handlers"]["rich"]["class"] == "kedro.logging.RichHandler"
    assert config["loggers"]["retail_forecasting"]["level"] == "INFO"
    # Kedro's per-dataset and per-node lines are replaced by node_progress's line per node
    for name in ("kedro.io.data_catalog", "kedro.pipeline.node", "kedro.runner.sequential_runner"):
        assert config["loggers"][name]["level"] == "WARNING"


def test_the_plain_handler_writes_a_long_record_on_one_line():
    config = yaml.safe_load((PROJECT / "conf/logging.yml").read_text(encoding="utf-8"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    plain = config["formatters"]["plain"]
    handler.setFormatter(logging.Formatter(fmt=plain["format"], datefmt=plain["datefmt"]))
    record = logging.LogRecord(
        "retail_forecasting.x", logging.INFO, __file__, 1, "%s", ("word " * 60,), None
    )
    handler.emit(record)
    assert stream.getvalue().count("\n") == 1 and len(stream.getvalue()) > 300


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_switches_the_root_to_rich_and_a_file_does_not(monkeypatch):
    from kedro.framework import project

    config = yaml.safe_load((PROJECT / "conf/logging.yml").read_text(encoding="utf-8"))
    applied = []
    monkeypatch.setattr(project.LOGGING, "data", config)
    monkeypatch.setattr(project, "configure_logging", applied.append)
    assert console.rich_console_on_terminal(io.StringIO()) is False
    assert applied == []
    assert console.rich_console_on_terminal(_Terminal()) is True
    assert (
        applied[0]["root"]["handlers"] == ["rich"] and applied[0]["handlers"] == config["handlers"]
    )
    # Kedro's own default configuration (no `plain` handler) is left alone
    applied.clear()
    monkeypatch.setattr(
        project.LOGGING,
        "data",
        {"version": 1, "handlers": {"rich": {}}, "root": {"handlers": ["rich"]}},
    )
    assert console.rich_console_on_terminal(_Terminal()) is False and applied == []


@pytest.mark.slow
def test_kedro_run_into_a_file_is_one_line_per_record_with_no_library_warning(
    project_copy, tiny_config
):
    """`kedro run --pipeline ingestion` with its output in a pipe, as CI or `> run.log` has it."""
    params = (
        f"synthetic_seed={tiny_config['seed']},synthetic_stores={tiny_config['n_stores']},"
        f"synthetic_depts={tiny_config['n_depts']}"
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("kedro")),
            "run",
            "--pipeline",
            "ingestion",
            "--params",
            params,
        ],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    records = [line for line in lines if line[:4].isdigit() and line[4] == "-"]
    # every line is a whole record (date first), except MLflow's own one-line notices
    strays = [
        line
        for line in lines
        if line not in records and not line.startswith(("20", "Registered model"))
    ]
    assert strays == [], strays
    assert not [line for line in lines if " WARNING " in line], result.stdout
    assert "UserWarning" not in result.stdout + result.stderr
    # one line per node, with the node count and the elapsed time
    steps = [line for line in records if "retail_forecasting.node_progress: Node " in line]
    assert steps and steps[0].split("Node ", 1)[1].startswith("1/") and "elapsed" in steps[0]
    assert not [line for line in lines if "Loading data from" in line or "Running node:" in line]


def test_run_help_names_this_projects_default_environment():
    from click.testing import CliRunner

    from retail_forecasting.cli import cli

    shown = CliRunner().invoke(cli, ["run", "--help"], terminal_width=200).output
    env_help = shown.split("--env TEXT", 1)[1].split("\n  -", 1)[0]
    assert "Defaults to `base`" in env_help and "`local`" not in env_help
    assert "--verbose" in shown and "--pipeline TEXT" in shown  # Kedro's options are all there


def test_an_unknown_pipeline_name_is_said_as_such_and_a_real_import_error_is_not():
    from retail_forecasting.cli import describe_failure, unknown_pipeline

    kedros = ImportError(
        "An error occurred while importing the 'retail_forecasting.pipelines.modeling' module."
    )
    block = describe_failure(kedros, None)
    assert "The run did not start" in block and "no pipeline named 'modeling'" in block
    assert "modelling" in block and "ingestion" in block and "unexpected" not in block
    # the same words for a pipeline that exists but fails to import: a bug, with its cause
    broken = ImportError(
        "An error occurred while importing the 'retail_forecasting.pipelines.modelling' module."
    )
    assert unknown_pipeline(broken) is None
    broken.__cause__ = NameError("x")
    assert unknown_pipeline(broken) is None
    assert "unexpected error" in describe_failure(broken, None)
