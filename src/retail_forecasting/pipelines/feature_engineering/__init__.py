"""Feature engineering: one long frame of calendar, lag and static features for all splits."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
