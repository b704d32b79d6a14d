"""``__default__`` without the prediction intervals (issue #12): what the intervals cost."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
