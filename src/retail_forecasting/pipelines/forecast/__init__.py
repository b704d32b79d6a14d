"""The rolling forecast from the warehouse's newest week (docs/monitoring.md)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
