"""Accuracy and drift monitoring of the stored forecasts (docs/monitoring.md)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
