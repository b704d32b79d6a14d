"""The champion in the MLflow model registry: the pyfunc wrapper and the promotion command.

Every ``kedro run`` of ``evaluation`` logs the champion (``rpt_champion_model``) as an MLflow
pyfunc model registered under :data:`REGISTERED_MODEL` and points the alias ``challenger`` at the
new version (:class:`retail_forecasting.hooks.ChallengerAliasHook`). After review, promote it:

    python -m retail_forecasting.registry promote --version N     # alias champion -> version N
    python -m retail_forecasting.registry list                    # versions and aliases

The model takes raw-shaped rows (Kaggle ``test.csv``: Store, Dept, Date, IsHoliday, optionally
MarkDown1..5) for weeks 1..horizon after the last week of the data it was built from, and
returns Store, Dept, Date, Weekly_Sales::

    model = mlflow.pyfunc.load_model("models:/retail_forecasting_champion@champion")
    forecasts = model.predict(pd.read_csv("test.csv"))
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
import pandas as pd

from retail_forecasting.forecasting.champion import ChampionForecaster

REGISTERED_MODEL = "retail_forecasting_champion"
PROJECT = Path(__file__).resolve().parents[2]


class ChampionPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc around :class:`ChampionForecaster` (pickled with the model)."""

    def __init__(self, forecaster: ChampionForecaster) -> None:
        self.forecaster = forecaster

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:  # noqa: ARG002
        return self.forecaster.forecast(model_input)


def tracking_uri(project: Path = PROJECT) -> str:
    """The project's tracking store (conf/base/mlflow.yml): ``sqlite:///<project>/mlflow.db``."""
    return f"sqlite:///{project / 'mlflow.db'}"


def promote(version: int, alias: str = "champion", name: str = REGISTERED_MODEL) -> None:
    """Point ``alias`` at ``version`` of the registered model."""
    client = mlflow.MlflowClient()
    client.get_model_version(name, str(version))  # fails with a clear message if absent
    client.set_registered_model_alias(name, alias, str(version))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Manage the registered champion model.")
    parser.add_argument("--tracking-uri", default=None, help="default: the project's mlflow.db")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("promote", help="set the alias `champion` on a reviewed version")
    up.add_argument("--version", type=int, required=True)
    up.add_argument("--alias", default="champion")
    commands.add_parser("list", help="versions with their aliases and runs")
    args = parser.parse_args(argv)
    mlflow.set_tracking_uri(args.tracking_uri or tracking_uri())
    mlflow.set_registry_uri(args.tracking_uri or tracking_uri())
    if args.command == "promote":
        promote(args.version, args.alias)
        print(f"{REGISTERED_MODEL}@{args.alias} -> version {args.version}")
    else:
        client = mlflow.MlflowClient()
        aliases: dict[str, list[str]] = {}
        for alias, version in client.get_registered_model(REGISTERED_MODEL).aliases.items():
            aliases.setdefault(str(version), []).append(alias)
        for v in sorted(client.search_model_versions(f"name='{REGISTERED_MODEL}'"), key=lambda v: int(v.version)):
            print(f"version {v.version}  aliases {sorted(aliases.get(str(v.version), []))}  run {v.run_id}")


if __name__ == "__main__":
    main()
