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
