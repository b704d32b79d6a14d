"""``evaluation``: see ``pipeline.py`` for the nodes and ``nodes.py`` for their logic."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
