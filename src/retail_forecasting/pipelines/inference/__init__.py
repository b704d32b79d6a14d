"""Inference: the registered champion forecasts the weeks of test.csv (Kaggle submission)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
