"""Baselines: the seasonal naive forecast of the validation and test windows, and its scores."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
