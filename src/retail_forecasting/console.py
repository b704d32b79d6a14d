"""A console a person can follow: library notices nobody here can act on stay out of it, and
the log is one line per record when it does not go to a terminal.

:func:`quiet_library_notices` installs precise filters, each with the reason it is there. It
runs when this module is imported, which ``settings.py`` does first: Kedro imports the settings
before it loads any plugin (``kedro`` commands, ``python -m retail_forecasting``, the
``%load_ext kedro.ipython`` cell of the notebooks and ``KedroSession`` in the tests), so the
filters are in place before kedro-mlflow and MLflow are imported. Warnings about a user's own
choices (their data, parameters, configuration) are not filtered.

:func:`rich_console_on_terminal` picks the console's look, at the same moment: the project's
``conf/logging.yml`` writes one line per record (handler ``plain``), which is what a file, a pipe
or CI needs (Kedro's rich handler wraps its table at 80 columns there: about 1,800 lines for one
run); on a terminal it switches to Kedro's ``rich`` handler.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

__all__ = ["quiet_library_notices", "rich_console_on_terminal"]

#: (message regex, category, why): warnings.filterwarnings matches the regex at the message's
#: start; MLflow colours its notices with an escape code in front, hence the leading ``.*``.
WARNING_FILTERS: tuple[tuple[str, type[Warning], str], ...] = (
    (
        r"register_new_resolver\(\) is deprecated",
        UserWarning,
        (
            "omegaconf 2.4 deprecates the call that Kedro's config loader and kedro-mlflow make "
            "for every resolver (4 per command); the project registers its own through settings.py"
        ),
    ),
    (
        r"One or more dataset names contain '\.' characters",
        UserWarning,
        (
            "Kedro warns at pipeline construction; the model zoo's dataset names "
            "(`lightgbm.mo_...`) are namespaces on purpose"
        ),
    ),
    (
        r".*Hint: Inferred schema contains integer column",
        UserWarning,
        (
            "MLflow, when the champion is logged: its Store and Dept are integers on purpose "
            "(test.csv has no missing keys, so the schema never needs float)"
        ),
    ),
    (
        r"Option '--pipeline' is deprecated",
        DeprecationWarning,
        (
            "Kedro 1.x prefers --pipelines but still takes --pipeline, which this project's docs "
            "and messages write (both take the same names)"
        ),
    ),
    (
        r"IProgress not found",
        Warning,
        (
            "tqdm, imported by a library in a notebook kernel without ipywidgets: it only means "
            "its progress bars are text; nothing in the project uses them"
        ),
    ),
)

#: (logger, text in the message, why) of log records that say nothing a user can act on.
LOG_FILTERS: tuple[tuple[str, str, str], ...] = (
    (
        "py.warnings",
        "Add type hints to the `predict` method",
        (
            "MLflow checks every PythonModel subclass when it is defined; the one without type "
            "hints is kedro-mlflow's KedroPipelineModel, defined when Kedro loads the plugin (the "
            "project's own ChampionPyfunc.predict is typed: pd.DataFrame -> pd.DataFrame). MLflow "
            "issues it inside its own `simplefilter('once')`, which overrides any warnings filter,"
            " so it is dropped where Kedro's logging receives warnings (logging.captureWarnings)"
        ),
    ),
    (
        "kedro.validation.type_extractor",
        "Conflicting type requirements",
        (
            "Kedro's parameter validation sees `IngestionParams` and `IngestionParams | None` (the"
            " same class) in two pipelines"
        ),
    ),
    (
        "mlflow.pyfunc",
        "Passing a Python object as `python_model`",
        (
            "MLflow says how it pickles a pyfunc on every registration; the champion is pickled "
            "with its code on purpose (docs/modelling.md)"
        ),
    ),
)


class DropMessages(logging.Filter):
    """Drop a logger's records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def quiet_library_notices() -> None:
    """Install :data:`WARNING_FILTERS` and :data:`LOG_FILTERS` (again: idempotent)."""
    for message, category, _why in WARNING_FILTERS:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name, text, _why in LOG_FILTERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, DropMessages) and f.text == text for f in target.filters):
            target.addFilter(DropMessages(text))


def rich_console_on_terminal(stream: Any = None) -> bool:
    """Send the root logger's records to the ``rich`` handler of the project's logging
    configuration when ``stream`` (default stdout) is a terminal.

    ``conf/logging.yml`` starts on the ``plain`` handler, so that a file, a pipe or CI gets one
    line per record from the first record on (rich lays records out as a table wrapped at the
    terminal's width, 80 columns when there is no terminal). Returns whether it switched. Uses
    Kedro's documented ``configure_logging`` with the configuration Kedro loaded; one without
    both handlers (Kedro's default, or ``KEDRO_LOGGING_CONFIG``) is left as it is.
    """
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return False
    from kedro.framework.project import LOGGING, configure_logging

    config = dict(LOGGING.data)
    root = dict(config.get("root", {}))
    if not {"plain", "rich"} <= set(config.get("handlers", {})) or root.get("handlers") != [
        "plain"
    ]:
        return False
    config["root"] = {**root, "handlers": ["rich"]}
    configure_logging(config)
    return True


quiet_library_notices()
rich_console_on_terminal()
