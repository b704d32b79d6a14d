"""What the champion's backtest promises per horizon step (part of ``__default__``)."""
from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
