"""The serving API: the approved registered model (alias ``champion``) behind FastAPI.

- :mod:`.app` — :func:`create_app` and the endpoints (docs/serving.md);
- :mod:`.holder` — the model loaded by alias, refreshed when the alias moves;
- :mod:`.forecast` — requests to forecasts, with the inference pipeline's checks;
- :mod:`.server` — ``retail-forecasting serve`` and the container's ``serve``;
- :mod:`.settings` — the environment variables it reads.
"""
