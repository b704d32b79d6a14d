"""The Spark path (``kedro run --env spark``; ``pip install -e ".[spark]"``; docs/scale.md).

:mod:`.hooks` makes the ``SparkSession`` from ``conf/spark/spark.yml``; :mod:`.engine` runs the
per-department work of the backtests, and the learners' samples and scoring, on it with
``applyInPandas``, reusing the engine functions of :mod:`retail_forecasting.forecasting`
unchanged. Importing this package does not import
PySpark.
"""
