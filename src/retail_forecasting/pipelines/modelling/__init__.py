"""Modelling: the model zoo (:mod:`retail_forecasting.forecasting.zoo`: the statistical
``svd_decomposition`` and the learners of ``forecasting.learners.REGISTRY``), each tuned,
backtested and forecasting the test window under its own namespace, then the ``ensemble``
weighting them (see :mod:`.pipeline`)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
