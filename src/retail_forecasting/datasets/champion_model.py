"""kedro-mlflow's model tracking dataset for the champion, logging what ``mlflow models serve``
and the serving API need besides the pickled model: a signature, an input example and the
project's code.

- **signature**: input Store, Dept (long), Date (string, YYYY-MM-DD), IsHoliday (boolean) and the
  optional MarkDown1..5 (double); output inferred from the model's own forecast of the example,
  so whatever value columns the champion returns (Weekly_Sales, interval columns) are in it;
- **input example**: the first three series the model knows, at the first week of its horizon
  (:func:`retail_forecasting.model_registry.input_example`);
- **code**: the ``retail_forecasting`` package (``code_paths``), so the model loads where the
  project is not installed (``mlflow models serve --env-manager local`` with the pip
  requirements).

Arguments given in the catalog's ``save_args`` win.

This subclass is the one place that touches kedro-mlflow's internals for the champion (its
``_save`` and ``_save_args``; kedro-mlflow offers no per-save arguments): tested with
kedro-mlflow 2.0.x, the range ``pyproject.toml`` caps, by ``tests/serving/test_pyfunc_logging.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro_mlflow.io.models import MlflowModelTrackingDataset

PACKAGE = Path(__file__).resolve().parents[1]


class ChampionModelDataset(MlflowModelTrackingDataset):
    def _save(self, model: Any) -> None:
        from retail_forecasting.model_registry import ChampionPyfunc, signature_and_example

        added = []
        if isinstance(model, ChampionPyfunc):
            signature, example = signature_and_example(model)
            for key, value in (
                ("signature", signature),
                ("input_example", example),
                ("code_paths", [str(PACKAGE)]),
            ):
                if key not in self._save_args:
                    self._save_args[key] = value
                    added.append(key)
        try:
            super()._save(model)
        finally:  # the dataset may save again (another run in the same session)
            for key in added:
                self._save_args.pop(key, None)
