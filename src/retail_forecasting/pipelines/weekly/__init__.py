"""The weekly cycle: ingestion (an incremental load of the new weeks) + forecast + monitoring."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
