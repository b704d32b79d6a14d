"""The forecasting engine shared by every pipeline after ingestion.

- :mod:`.contract` — the long panel frame that is the contract between pipelines, with each
  covariate tagged known-in-advance or observed, and the missing-week policy.
- :mod:`.history` — what is known at a forecast origin: the target history up to the cutoff
  as a dense (series x week) matrix, built from rows dated at or before the cutoff only.
- :mod:`.features` — calendar, holiday, seasonal-lag, origin-level and covariate features.
- :mod:`.baselines` — naive, seasonal naive, holiday-aligned seasonal naive, moving average,
  seasonal average and a hybrid, with one documented fallback chain.
- :mod:`.backtest` — rolling-origin cross-validation and segment metrics.
- :mod:`.learners` — the model zoo (ridge, LightGBM, CatBoost, XGBoost) as a registry of
  fit/predict pairs, refit at each cutoff, and the tuning on one validation cutoff.
- :mod:`.ensemble` — WMAE-optimal non-negative weights summing to 1, cross-fitted backtest.
- :mod:`.champion` — the champion bundled with its history, forecasting raw-shaped rows.

Every forecast, baseline or learned, is made by :func:`.backtest.cross_validation` from a
cutoff: the forecaster receives the history up to the cutoff and the rows to forecast without
their target, so it cannot see the weeks it predicts.
"""
