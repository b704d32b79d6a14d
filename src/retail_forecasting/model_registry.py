"""The champion in the MLflow model registry: the pyfunc wrapper and the promotion command.

Every ``kedro run`` of ``evaluation`` logs the champion (``rpt_champion_model``) as an MLflow
pyfunc model registered under :data:`REGISTERED_MODEL`; the alias ``challenger`` moves to the new
version only if the run's champion passes the quality gate
(:class:`retail_forecasting.hooks.ChallengerAliasHook`). After review, promote it:

    python -m retail_forecasting.model_registry promote --version N  # alias champion -> version N
    python -m retail_forecasting.model_registry list                 # versions and aliases

The model takes raw-shaped rows (Kaggle ``test.csv``: Store, Dept, Date, IsHoliday, optionally
MarkDown1..5) for weeks 1..horizon after the last week of the data it was built from, and
returns Store, Dept, Date, Weekly_Sales and the champion's quantiles Weekly_Sales_q0.025,
Weekly_Sales_q0.1, Weekly_Sales_q0.5, Weekly_Sales_q0.9, Weekly_Sales_q0.975 (issue #12; the
levels are ``intervals.levels``; a model registered before has no quantile columns)::

    model = mlflow.pyfunc.load_model("models:/retail_forecasting_champion@champion")
    forecasts = model.predict(pd.read_csv("test.csv"))

Three "registries", three things: :mod:`retail_forecasting.pipeline_registry` is Kedro's
registry of *pipelines* (``kedro registry list``);
:data:`retail_forecasting.forecasting.learners.REGISTRY`
is the engine's table of *learners* (name -> fit/predict functions); this module is about the
MLflow *model* registry (registered versions of the champion and their aliases).
(``retail_forecasting.registry`` is this module's old name, kept for models pickled under it.)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from retail_forecasting.errors import InputError
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS

REGISTERED_MODEL = "retail_forecasting_champion"
PROJECT = Path(__file__).resolve().parents[2]


class ChampionPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc around :class:`ChampionForecaster` (pickled with the model); its output is
    the forecaster's: Store, Dept, Date, Weekly_Sales, then ``Weekly_Sales_q<quantile>``."""

    def __init__(self, forecaster: ChampionForecaster) -> None:
        self.forecaster = forecaster

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:  # noqa: ARG002
        return self.forecaster.forecast(model_input)


def input_example(forecaster: ChampionForecaster, n_series: int = 3) -> pd.DataFrame:
    """Raw-shaped rows the model accepts: its first ``n_series`` series at the first week of its
    horizon (Date as YYYY-MM-DD text, IsHoliday from the calendar)."""
    from retail_forecasting.calendar import holiday_fridays

    week = forecaster.forecast_weeks()[0]
    series = forecaster.known_series().head(n_series)
    holiday = week.date() in holiday_fridays(week.year).values()
    return pd.DataFrame(
        {
            "Store": series["store"].astype("int64").to_numpy(),
            "Dept": series["dept"].astype("int64").to_numpy(),
            "Date": week.strftime("%Y-%m-%d"),
            "IsHoliday": holiday,
        }
    )


def signature_and_example(model: ChampionPyfunc) -> tuple[Any, pd.DataFrame]:
    """The pyfunc's signature (input columns, optional markdowns; output as the model returns
    it for the example) and the input example (``rpt_champion_model`` logs both)."""
    from mlflow.models import infer_signature
    from mlflow.types.schema import ColSpec, Schema

    example = input_example(model.forecaster)
    inputs = Schema(
        [
            ColSpec("long", "Store"),
            ColSpec("long", "Dept"),
            ColSpec("string", "Date"),
            ColSpec("boolean", "IsHoliday"),
            *[ColSpec("double", c, required=False) for c in MARKDOWN_COLUMNS],
        ]
    )
    signature = infer_signature(example, model.predict(None, example))
    signature.inputs = inputs
    return signature, example


class RegisteredModelNotFound(InputError, LookupError):
    """The registry has no model, or no version with the requested alias; the message says
    what exists and what to do."""


def forecaster_of(model: Any) -> ChampionForecaster:
    """The :class:`ChampionForecaster` inside a loaded registered model (``mlflow.pyfunc``'s
    ``PyFuncModel``, a :class:`ChampionPyfunc`, or the forecaster itself)."""
    unwrap = getattr(model, "unwrap_python_model", None)
    python_model = unwrap() if callable(unwrap) else model
    forecaster = getattr(python_model, "forecaster", python_model)
    if not isinstance(forecaster, ChampionForecaster):
        raise TypeError(
            f"the registered model is a {type(forecaster).__name__}, not a ChampionForecaster: "
            f"register models with `kedro run` (evaluation's rpt_champion_model)"
        )
    return forecaster


def _aliases_by_version(client: mlflow.MlflowClient, name: str) -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    return aliases


def check_alias(alias: str | None, name: str = REGISTERED_MODEL) -> str | None:
    """The version ``alias`` points at (None for ``alias=None`` once the model exists).

    Raises :class:`RegisteredModelNotFound` when nothing is registered under ``name`` (run
    ``kedro run`` first) or no version carries ``alias``, naming the versions and aliases that
    do exist, the promote command and the ``model_alias`` runtime parameter.
    """
    client = mlflow.MlflowClient()
    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        model = None
    versions = (
        sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        if model
        else []
    )
    if not versions:
        raise RegisteredModelNotFound(
            f"No model is registered as {name} in the MLflow registry {mlflow.get_registry_uri()}: "
            f"run `kedro run` first (its evaluation pipeline registers the champion), then promote "
            "a reviewed version with `python -m retail_forecasting.model_registry promote "
            f"--version N` "
            f"or run inference with `--params model_alias=challenger`."
        )
    if alias is None:
        return None
    aliases = dict(model.aliases)
    if alias in aliases:
        return str(aliases[alias])
    present = ", ".join(f"{a} -> version {v}" for a, v in sorted(aliases.items())) or "none"
    listed = ", ".join(map(str, versions))
    others = " or ".join(f"`--params model_alias={a}`" for a in sorted(aliases))
    promote_alias = "" if alias == "champion" else f" --alias {alias}"
    raise RegisteredModelNotFound(
        f"No version of {name} has the alias {alias!r} (versions: {listed}; aliases present: "
        f"{present}). Promote a reviewed version with `python -m retail_forecasting.model_registry "
        f"promote --version N{promote_alias}`" + (f", or run with {others}." if others else ".")
    )


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
        try:
            check_alias(None)
        except RegisteredModelNotFound as exc:
            raise SystemExit(str(exc)) from None
        client = mlflow.MlflowClient()
        aliases = _aliases_by_version(client, REGISTERED_MODEL)
        for v in sorted(
            client.search_model_versions(f"name='{REGISTERED_MODEL}'"), key=lambda v: int(v.version)
        ):
            print(
                f"version {v.version}  aliases {sorted(aliases.get(str(v.version), []))}  "
                f"run {v.run_id}"
            )


if __name__ == "__main__":
    main()
