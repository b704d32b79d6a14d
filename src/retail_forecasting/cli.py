"""Project command line: Kedro's own ``run``, with failures a person can read.

Kedro picks up this module's ``cli`` group (its documented way to override a built-in
command) so ``kedro run`` accepts every option it always did. What changes is a failure: instead
of hundreds of lines of traceback boxes, the console shows one short block: what went wrong,
where (the message of an :class:`~retail_forecasting.errors.InputError` names the file, line,
column and values) and what to do. The full traceback is appended to ``logs/run_errors.log``.
``kedro run --verbose`` (or ``RETAIL_FORECASTING_VERBOSE=1``) re-raises as before.

The console itself (one line per record unless on a terminal, no library notices a user cannot
act on) is :mod:`retail_forecasting.console`'s.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import os
import re
import sys
import traceback
from pathlib import Path

import click
from kedro.framework.cli.project import run as kedro_run

from retail_forecasting.console import quiet_library_notices
from retail_forecasting.errors import InputError

# Library notices a user cannot act on are filtered by retail_forecasting.console (imported by
# settings.py, before Kedro loads its plugins); importing it here keeps them for a bare import.
quiet_library_notices()

ERROR_LOG = Path("logs") / "run_errors.log"
VERBOSE_ENV = "RETAIL_FORECASTING_VERBOSE"


def find_input_error(exc: BaseException) -> InputError | None:
    """The first :class:`InputError` in ``exc``'s chain (Kedro wraps dataset errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, InputError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def log_traceback(exc: BaseException, log_file: Path = ERROR_LOG) -> Path:
    """Append ``exc``'s full traceback, with the time and command, to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n=== {dt.datetime.now().isoformat(timespec='seconds')} {' '.join(sys.argv)}\n"
        )
        handle.write("".join(traceback.format_exception(exc)))
    return log_file


#: Kedro's error for a ``--pipeline``/``--pipelines`` name that no pipeline folder provides
_MISSING_PIPELINE = re.compile(
    r"An error occurred while importing the '(\w+)\.pipelines\.(\w+)' module\."
)


def unknown_pipeline(exc: BaseException) -> str | None:
    """The message for a run of a pipeline name nothing registers, or None for any other error.

    Kedro says "An error occurred while importing the 'retail_forecasting.pipelines.<name>'
    module", which reads like a bug; a genuine import error inside an existing pipeline keeps
    its cause (``__cause__``) and is not this case.
    """
    match = _MISSING_PIPELINE.fullmatch(str(exc).strip())
    if not isinstance(exc, ImportError) or exc.__cause__ is not None or match is None:
        return None
    package, name = match.groups()
    folder = Path(importlib.import_module(f"{package}.pipelines").__file__ or ".").parent
    names = sorted(path.parent.name for path in folder.glob("*/pipeline.py"))
    if name in names:
        return None
    return (
        f"There is no pipeline named '{name}'. The pipelines: __default__ (the default), "
        f"{', '.join(names)} (also: kedro registry list)."
    )


def describe_failure(exc: BaseException, log_file: Path | None) -> str:
    """The short block printed for a failed run."""
    cause = find_input_error(exc)
    missing = unknown_pipeline(exc)
    where = f"Full traceback: {log_file}" if log_file else "No traceback was kept"
    if cause is not None:
        headline, body = "The run stopped on bad input or a refused request:", str(cause)
    elif missing is not None:
        headline, body = "The run did not start:", missing
    else:
        headline = "The run failed with an unexpected error (a bug, or the environment):"
        body = (
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        )
    return f"\n{headline}\n\n  {body}\n\n{where} (run with --verbose to see it here).\n"


def _run(verbose: bool = False, **kwargs):
    verbose = verbose or os.environ.get(VERBOSE_ENV, "").lower() in ("1", "true", "yes")
    try:
        result = kedro_run.callback(**kwargs)
    except Exception as exc:
        if verbose:
            raise
        try:
            log_file: Path | None = log_traceback(exc)
        except OSError:
            log_file = None
        click.echo(describe_failure(exc, log_file), err=True)
        sys.exit(1)
    # a monitoring run that crossed a threshold completed, but says so with its own exit code
    from retail_forecasting.monitoring import alerts

    code = alerts.exit_code()
    if code:
        click.echo(
            "\nMonitoring raised alerts (see data/08_reporting/monitoring/alerts.json): "
            f"exit code {code}.\n",
            err=True,
        )
        sys.exit(code)
    return result


def _this_projects_options(params: list[click.Parameter]) -> list[click.Parameter]:
    """Kedro's ``run`` options, with the help of ``--env`` naming this project's default
    environment (``base``, settings.py) instead of Kedro's generic ``local``."""
    options = []
    for param in params:
        if param.name == "env" and isinstance(param, click.Option):
            param = copy.copy(param)
            param.help = (
                "Kedro configuration environment name. Defaults to `base` in this project "
                "(embedded warehouse, no credentials); the others: conf/README.md."
            )
        options.append(param)
    return options


@click.group(name="retail-forecasting")
def cli() -> None:
    """Project commands of retail-forecasting."""


#: Kedro's ``run`` with the short failure block; also what ``python -m retail_forecasting`` runs
#: (Kedro's ``find_run_command`` looks for ``run`` in this module).
run = click.Command(
    name="run",
    callback=_run,
    params=[
        *_this_projects_options(kedro_run.params),
        click.Option(
            ["--verbose", "-v"],
            is_flag=True,
            help=f"Show the full traceback of a failure (also: {VERBOSE_ENV}=1).",
        ),
    ],
    help=kedro_run.help,
    short_help=kedro_run.short_help,
)
cli.add_command(run)
