"""Old name of :mod:`retail_forecasting.model_registry` (the MLflow model registry commands).

Kept only because champion versions registered before the rename pickled their class as
``retail_forecasting.registry.ChampionPyfunc``: MLflow unpickles them through this name. Use
``python -m retail_forecasting.model_registry``; this module adds nothing.
"""

from retail_forecasting.model_registry import ChampionPyfunc, main

__all__ = ["ChampionPyfunc"]

if __name__ == "__main__":
    main()
