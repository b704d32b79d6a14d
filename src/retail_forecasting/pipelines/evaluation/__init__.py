"""Evaluation: every model scored on the same test window, the champion and a forecast figure."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
