"""Modelling: the model zoo (the statistical ``svd_decomposition`` and the learners ``ridge``,
``lightgbm``, ``catboost``, ``xgboost``), each tuned, backtested and forecasting the test window
under its own namespace, then the ``ensemble`` weighting them (see :mod:`.pipeline`)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
