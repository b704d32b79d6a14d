"""Exploratory summaries of the primary splits: a table per split and a total-sales figure."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
