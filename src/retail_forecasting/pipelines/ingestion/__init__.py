"""Ingestion: raw Kaggle files -> validated, cleaned, fingerprinted -> warehouse -> splits."""

from retail_forecasting.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
