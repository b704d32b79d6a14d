"""The Kaggle Walmart files: their schema and the checks every reader of them shares.

- :mod:`~retail_forecasting.kaggle.schema` — file names, each file's columns and keys, and the
  one Kaggle-to-panel column mapping (``Weekly_Sales`` -> ``weekly_sales``, ``Type`` ->
  ``store_type`` ...).
- :mod:`~retail_forecasting.kaggle.checks` — column checks with the messages users see (file,
  column, CSV line numbers, example values): required columns, numbers, Friday dates, TRUE/FALSE
  flags, duplicate keys, plausible ranges.
- :mod:`~retail_forecasting.kaggle.validation` — ``stores.csv``, ``features.csv`` and
  ``train.csv`` validated into the panel's names and dtypes.

Used by the ingestion pipeline (its nodes), the Glue job and the ETL Lambdas
(:mod:`retail_forecasting.aws.etl`), inference and serving (``test.csv``-shaped input), the
synthetic generator, the benchmarks and the tests. Needs pandas and pydantic only.
"""
