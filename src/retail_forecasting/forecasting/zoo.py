"""The model zoo: the one list of the models that are tuned, backtested, weighted by the ensemble,
scored on the test window and packaged as the champion, with what each model needs.

The list is the statistical model (:data:`STATISTICAL`, implemented in :mod:`.decomposition`)
followed by the learners, the entries of :data:`.learners.REGISTRY` in their order (each entry
holds its fit/predict functions, the pip distributions the fitted model needs and whether it is
a tree model). Everything else that needs the list reads it from here, when it is built:

- the modelling pipelines: one namespaced pipeline per model, and the ensemble over all of them
  (:mod:`retail_forecasting.pipelines.modelling.pipeline`);
- the evaluation: the candidates of the champion decision, each model's family, the models of
  the feature-importance figure (the tree models)
  (:mod:`retail_forecasting.pipelines.evaluation`);
- the champion's MLflow ``pip_requirements``: :func:`pip_requirements`, the
  ``${model_requirements:}`` resolver of the catalog entry ``rpt_champion_model``, pinned to the
  installed versions (the versions of ``uv.lock`` in a synced environment);
- the check that ``modelling`` in ``conf/base/parameters_modelling.yml`` has one entry per model
  (:func:`check_parameters`, run by :class:`retail_forecasting.hooks.ModelZooHook` before a run
  that reads the models' parameters).

Adding a learner: its fit/predict functions and one :data:`.learners.REGISTRY` entry, and its
parameters as ``modelling.<name>`` (``kind: <name>``) in ``conf/base/parameters_modelling.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from retail_forecasting.errors import InputError

Family = Literal["statistical", "learner"]

#: where each model's parameters live (``modelling.<name>``), named in the errors
PARAMETERS_FILE = "conf/base/parameters_modelling.yml"
#: the entries of ``modelling`` that are not models of the zoo
NOT_MODELS = ("ensemble",)

#: the pip distributions every champion needs, whatever its models: MLflow's pyfunc, the frames,
#: the prediction intervals (scipy; scikit-learn's isotonic regression), the typed parameters and
#: the pickle
CORE_REQUIREMENTS = (
    "mlflow",
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "pydantic",
    "cloudpickle",
)


@dataclass(frozen=True)
class ModelSpec:
    """One model of the zoo: its name (its namespace, parameters key and forecast column), its
    family (which pipeline template it runs), the pip distributions its fitted form needs beyond
    :data:`CORE_REQUIREMENTS`, and whether it is a tree model (feature-importance figure)."""

    name: str
    family: Family
    requires: tuple[str, ...] = ()
    tree: bool = False


#: the statistical models, before the learners (numpy only: no requirement of their own)
STATISTICAL: tuple[ModelSpec, ...] = (ModelSpec("svd_decomposition", "statistical"),)


def models() -> tuple[ModelSpec, ...]:
    """The zoo, in order: :data:`STATISTICAL`, then :data:`.learners.REGISTRY` (read when called,
    so a registry entry added before the pipelines are built is part of them)."""
    from retail_forecasting.forecasting import learners

    return (
        *STATISTICAL,
        *(
            ModelSpec(name, "learner", learner.requires, learner.tree)
            for name, learner in learners.REGISTRY.items()
        ),
    )


def names(family: Family | None = None) -> tuple[str, ...]:
    """The models' names in zoo order (of one family if given)."""
    return tuple(m.name for m in models() if family is None or m.family == family)


def tree_models() -> tuple[str, ...]:
    """The tree models, whose importance the evaluation plots."""
    return tuple(m.name for m in models() if m.tree)


def family(name: str) -> Family:
    """``statistical`` or ``learner``; a ``ValueError`` for a name outside the zoo."""
    for model in models():
        if model.name == name:
            return model.family
    raise ValueError(f"{name!r} is no model of the zoo; the zoo is {list(names())}")


def pip_requirements() -> list[str]:
    """The champion's MLflow requirements: :data:`CORE_REQUIREMENTS`, then each model's own
    distributions (zoo order, each once), every one pinned ``==`` to its installed version (a
    pickled model needs the libraries it was fitted with)."""
    wanted = dict.fromkeys([*CORE_REQUIREMENTS, *(d for m in models() for d in m.requires)])
    pinned = []
    for distribution in wanted:
        try:
            version = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            users = [m.name for m in models() if distribution in m.requires] or ["every champion"]
            raise RuntimeError(
                f"{distribution} (needed by {', '.join(users)}) is not installed: the champion's "
                "pip requirements pin the installed versions (install the project: uv sync)"
            ) from None
        pinned.append(f"{distribution}=={version}")
    return pinned


def check_parameters(modelling: Mapping[str, Any], source: str = PARAMETERS_FILE) -> None:
    """Raise an :class:`~retail_forecasting.errors.InputError` (a ``ValueError`` the command
    line prints as a short message) naming ``source`` unless ``modelling`` has exactly one entry
    per model of the zoo (besides :data:`NOT_MODELS`), each with ``kind`` equal to its key."""
    zoo = names()
    missing = [m for m in zoo if m not in modelling]
    extra = [k for k in modelling if k not in zoo and k not in NOT_MODELS]
    problems = []
    if missing:
        problems.append(
            f"no entry for {missing} (models of the zoo: the statistical models of "
            "forecasting.zoo.STATISTICAL and the learners of forecasting.learners.REGISTRY); "
            "add modelling.<name> with kind: <name>"
        )
    if extra:
        problems.append(
            f"modelling.{extra[0]}: no such model in the zoo {list(zoo)} (add it to "
            "forecasting.learners.REGISTRY, or remove the entry)"
        )
    for name in zoo:
        kind = _kind(modelling.get(name))
        if name in modelling and kind != name:
            problems.append(f"modelling.{name}.kind is {kind!r}, must be {name!r}")
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems))


def _kind(entry: Any) -> Any:
    if isinstance(entry, Mapping):
        return entry.get("kind")
    return getattr(entry, "kind", None)


__all__ = [
    "CORE_REQUIREMENTS",
    "NOT_MODELS",
    "PARAMETERS_FILE",
    "STATISTICAL",
    "ModelSpec",
    "check_parameters",
    "family",
    "models",
    "names",
    "pip_requirements",
    "tree_models",
]
