"""Modelling: one global LightGBM regressor, its validation report and its test forecast."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
