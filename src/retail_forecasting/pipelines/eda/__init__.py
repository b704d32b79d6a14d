"""Exploratory analysis of the primary splits: data-quality report, dashboard tables, figures."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
