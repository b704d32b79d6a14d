"""The quality gate before model registration: the champion beats every baseline.

SageMaker evaluates the gate in a ``ConditionStep`` from ``metrics.json`` (the evaluation
pipeline's ``rpt_metrics``: ``{"horizon_weeks", "test_start", "test_end", "champion",
"models": {name: {"wmae", "mae", "rmse"}}}``), read through a ``PropertyFile`` with
``JsonGet``. ``JsonGet`` only reads fixed paths, so the gate is written as:

* the champion is not one of the baselines (the evaluation picks a baseline as champion when
  no learner beats the best one), and
* for every metric of ``metrics`` and every baseline ``b``: the champion's score (at
  ``champion_scores``, ``models.champion`` — the evaluation lists the champion's scores under
  that name too) is lower than ``models.<b>.<metric>``: lower than the best baseline's.

:func:`evaluate_conditions` interprets the conditions of a built definition on a metrics file,
exactly as written in the JSON, so the gate can be checked offline against a real run
(``python -m retail_forecasting.aws.sagemaker_pipeline gate --metrics ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GateConfig:
    """What the gate reads (``quality_gate`` in ``conf/sagemaker/sagemaker_pipeline.yml``)."""

    metrics_dataset: str = "rpt_metrics"
    champion_key: str = "champion"
    champion_scores: str = "models.champion"
    baselines: tuple[str, ...] = field(default_factory=tuple)
    metrics: tuple[str, ...] = ("wmae",)

    def __post_init__(self) -> None:
        if not self.baselines:
            raise ValueError("quality_gate.baselines must name at least one baseline model")
        if not self.metrics:
            raise ValueError("quality_gate.metrics must name at least one metric")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> GateConfig:
        values = dict(values)
        for key in ("baselines", "metrics"):
            if key in values:
                values[key] = tuple(values[key] or ())
        return cls(**values)

    def baseline_paths(self, metric: str) -> list[tuple[str, str]]:
        return [(baseline, f"models.{baseline}.{metric}") for baseline in self.baselines]


class GateError(ValueError):
    """The metrics file lacks a value the gate reads."""


def json_get(document: Any, path: str) -> Any:
    """Value at a dotted JSON path (``models.lightgbm.wmae``), as ``Std:JsonGet`` reads it."""
    value = document
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise GateError(f"metrics.json has no value at {path!r} (missing {part!r})")
    return value


def check_metrics(metrics: Mapping[str, Any], config: GateConfig) -> tuple[bool, list[str]]:
    """The gate in plain Python: ``(passed, reasons it failed)``."""
    reasons = []
    champion = json_get(metrics, config.champion_key)
    if champion in config.baselines:
        reasons.append(f"the champion {champion!r} is a baseline")
    for metric in config.metrics:
        score = json_get(metrics, f"{config.champion_scores}.{metric}")
        for baseline, path in config.baseline_paths(metric):
            reference = json_get(metrics, path)
            if not score < reference:
                reasons.append(
                    f"champion {champion!r} {metric}={score} is not below "
                    f"{baseline} {metric}={reference}"
                )
    return not reasons, reasons


# ------------------------------------------------------------------ definition interpreter


def _value(expression: Any, documents: Mapping[str, Any], parameters: Mapping[str, Any]) -> Any:
    if isinstance(expression, Mapping):
        if "Std:JsonGet" in expression:
            spec = expression["Std:JsonGet"]
            source = spec["PropertyFile"]
            key = source["Get"] if isinstance(source, Mapping) else source
            if key not in documents:
                raise GateError(f"No document for property file {key!r}")
            return json_get(documents[key], spec["Path"])
        if "Get" in expression and str(expression["Get"]).startswith("Parameters."):
            return parameters[expression["Get"].removeprefix("Parameters.")]
        if "Std:Join" in expression:
            spec = expression["Std:Join"]
            return spec["On"].join(str(_value(v, documents, parameters)) for v in spec["Values"])
        raise GateError(f"Unsupported expression in a condition: {expression}")
    return expression


_COMPARISONS = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def evaluate_condition(
    condition: Mapping[str, Any], documents: Mapping[str, Any], parameters: Mapping[str, Any]
) -> bool:
    """One condition of a definition's ``ConditionStep`` (the types the gate uses)."""
    kind = condition["Type"]
    if kind in _COMPARISONS:
        left = _value(condition["LeftValue"], documents, parameters)
        right = _value(condition["RightValue"], documents, parameters)
        return bool(_COMPARISONS[kind](left, right))
    if kind == "In":
        value = _value(condition["QueryValue"], documents, parameters)
        return value in [_value(v, documents, parameters) for v in condition["Values"]]
    if kind == "Not":
        return not evaluate_condition(condition["Condition"], documents, parameters)
    if kind == "Or":
        return any(evaluate_condition(c, documents, parameters) for c in condition["Conditions"])
    raise GateError(f"Unsupported condition type {kind!r}")


def evaluate_conditions(
    conditions: Sequence[Mapping[str, Any]],
    documents: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
) -> bool:
    """All conditions of a ``ConditionStep`` (SageMaker ANDs them)."""
    return all(evaluate_condition(c, documents, parameters or {}) for c in conditions)
