"""Framework warnings a user cannot act on stay out of the `kedro run` console (retail_forecasting.cli)."""

from __future__ import annotations

import importlib
import warnings

from kedro import KedroDeprecationWarning

import retail_forecasting.cli


def test_the_pipeline_option_deprecation_is_not_shown_but_other_deprecations_are():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # what a console shows (pytest ignores deprecations)
        importlib.reload(retail_forecasting.cli)  # the project's filters, in front
        warnings.warn("Option '--pipeline' is deprecated and will be removed in a future release. "
                      "Please use '--pipelines' instead.", KedroDeprecationWarning, stacklevel=1)
        warnings.warn("Option '--something' is deprecated", KedroDeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["Option '--something' is deprecated"]


def test_library_notices_about_the_projects_own_code_are_dropped():
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep()
    for name in ("kedro.validation.type_extractor", "mlflow.pyfunc"):
        logging.getLogger(name).addHandler(handler)
    try:
        logging.getLogger("kedro.validation.type_extractor").warning(
            "Conflicting type requirements for parameter '%s': A vs A | None", "ingestion")
        logging.getLogger("mlflow.pyfunc").warning("Passing a Python object as `python_model` causes ...")
        logging.getLogger("mlflow.pyfunc").warning("something else")
    finally:
        for name in ("kedro.validation.type_extractor", "mlflow.pyfunc"):
            logging.getLogger(name).removeHandler(handler)
    assert records == ["something else"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(retail_forecasting.cli)
        warnings.warn("One or more dataset names contain '.' characters, which is ...", UserWarning, stacklevel=1)
        warnings.warn("Hint: Inferred schema contains integer column(s). ...", UserWarning, stacklevel=1)
    assert caught == []
