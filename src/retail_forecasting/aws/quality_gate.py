"""The quality gate before model registration: the champion beats every baseline, its test
metrics are finite, and (locally) it is not much worse than the previous challenger.

SageMaker evaluates the gate in a ``ConditionStep`` from ``metrics.json`` (the evaluation
pipeline's ``rpt_metrics``: ``{"horizon_weeks", "test_start", "test_end", "champion",
"models": {name: {"wmae", "mae", "rmse"}}}``), read through a ``PropertyFile`` with
``JsonGet``. ``JsonGet`` only reads fixed paths, so the gate is written as:

* the champion is not one of the baselines (the evaluation picks a baseline as champion when
  no learner beats the best one), and
* for every metric of ``metrics`` and every baseline ``b``: the champion's score (at
  ``champion_scores``, ``models.champion`` — the evaluation lists the champion's scores under
  that name too) is lower than ``models.<b>.<metric>``: lower than the best baseline's.

* for every metric of ``finite_metrics``: the champion's score is a finite, non-negative
  number (``0 <= score <= sys.float_info.max``: NaN and infinities fail both comparisons).

:func:`check_registration` is the whole rule in plain Python, one home for both places that
apply it: the ``ChallengerAliasHook`` (``retail_forecasting.hooks``), which moves the MLflow
alias ``challenger`` only when the gate passes, and — with ``previous=None`` — the SageMaker
``ConditionStep``, whose ``JsonGet`` conditions (built by
:mod:`retail_forecasting.aws.sagemaker_pipeline` from the same :class:`GateConfig`) say the
same thing. Only the hook adds the last check, which needs the MLflow registry: for every
metric of ``metrics``, the champion's score is at most ``max_ratio_to_previous`` times the
previous challenger's (no previous challenger: the check passes).

:func:`evaluate_conditions` interprets the conditions of a built definition on a metrics file,
exactly as written in the JSON, so the gate can be checked offline against a real run
(``python -m retail_forecasting.aws.sagemaker_pipeline gate --metrics ...``).
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the largest finite float: ``0 <= x <= MAX_FINITE`` holds for finite non-negative numbers only
MAX_FINITE = sys.float_info.max


@dataclass(frozen=True)
class GateConfig:
    """What the gate reads: ``evaluation.quality_gate`` in ``conf/base/parameters_evaluation.yml``
    (``baselines``, ``metrics``, ``finite_metrics``, ``max_ratio_to_previous``), completed for
    SageMaker by ``quality_gate`` in ``conf/sagemaker/sagemaker_pipeline.yml`` (where the
    metrics file is and its paths)."""

    metrics_dataset: str = "rpt_metrics"
    champion_key: str = "champion"
    champion_scores: str = "models.champion"
    baselines: tuple[str, ...] = field(default_factory=tuple)
    metrics: tuple[str, ...] = ("wmae",)
    finite_metrics: tuple[str, ...] = ("wmae", "mae", "rmse")
    max_ratio_to_previous: float | None = None

    def __post_init__(self) -> None:
        if not self.baselines:
            raise ValueError("quality_gate.baselines must name at least one baseline model")
        if not self.metrics:
            raise ValueError("quality_gate.metrics must name at least one metric")
        ratio = self.max_ratio_to_previous
        if ratio is not None and not (is_finite_score(ratio) and ratio >= 1):
            raise ValueError(
                f"quality_gate.max_ratio_to_previous must be a number >= 1 or null, got {ratio!r}"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> GateConfig:
        values = dict(values)
        for key in ("baselines", "metrics", "finite_metrics"):
            if key in values:
                values[key] = tuple(values[key] or ())
        return cls(**values)

    def baseline_paths(self, metric: str) -> list[tuple[str, str]]:
        return [(baseline, f"models.{baseline}.{metric}") for baseline in self.baselines]

    def finite_paths(self) -> list[tuple[str, str]]:
        """``(metric, path)`` of each champion score that must be a finite, non-negative number."""
        return [(metric, f"{self.champion_scores}.{metric}") for metric in self.finite_metrics]


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


def _show(value: Any) -> str:
    """A score for a message: 6 significant digits (``2769.9``, ``7.2e+09``, ``inf``)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:.6g}"
    return repr(value)


def _less(left: Any, right: Any) -> bool:
    """``left < right``, False for values that do not compare (a string against a number)."""
    try:
        return bool(left < right)
    except TypeError:
        return False


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
            if not _less(score, reference):
                reasons.append(
                    f"champion {champion!r} test {metric}={_show(score)} is not below "
                    f"{baseline} {metric}={_show(reference)}"
                )
    return not reasons, reasons


def is_finite_score(value: Any) -> bool:
    """A finite, non-negative number: what an error metric must be (NaN, infinities, negative
    values, strings, ``None`` and booleans are not). The ``ConditionStep`` says the same with
    ``value >= 0`` and ``value <= MAX_FINITE``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return 0 <= value <= MAX_FINITE


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict: ``reasons`` say why it failed (empty when it passed), ``notes``
    which checks could not be made (no previous challenger, a value it lacks)."""

    passed: bool
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


def check_registration(
    metrics: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    config: GateConfig,
) -> GateDecision:
    """The whole gate in plain Python, on a run's ``metrics.json``.

    1. every ``finite_metrics`` score of the champion (``champion_scores``) is a finite,
       non-negative number (:func:`is_finite_score`);
    2. :func:`check_metrics`: the champion is no baseline and beats every baseline on every
       metric of ``metrics``;
    3. when ``config.max_ratio_to_previous`` is set and ``previous`` is given (the previous
       challenger's test scores, ``{metric: value}``): for every metric of ``metrics`` the
       champion's score is at most ``max_ratio_to_previous`` times the previous one. No previous
       challenger (``previous=None``), or a previous value that is missing or not a finite
       positive number, leaves this check out, with a note.

    A value the metrics file lacks fails the gate (with the path in the reason); nothing raises.
    """
    reasons: list[str] = []
    notes: list[str] = []
    champion = metrics.get(config.champion_key) if isinstance(metrics, Mapping) else None
    for metric, path in config.finite_paths():
        try:
            value = json_get(metrics, path)
        except GateError as exc:
            reasons.append(str(exc))
            continue
        if not is_finite_score(value):
            reasons.append(
                f"champion {champion!r} test {metric}={value!r} is not a finite, "
                "non-negative number"
            )
    try:
        reasons.extend(check_metrics(metrics, config)[1])
    except GateError as exc:
        reasons.append(str(exc))

    ratio = config.max_ratio_to_previous
    if ratio is not None:
        if previous is None:
            notes.append("no previous challenger: the ratio check does not apply")
        else:
            for metric in config.metrics:
                before = previous.get(metric)
                try:
                    now = json_get(metrics, f"{config.champion_scores}.{metric}")
                except GateError:
                    continue  # already a reason above
                if not is_finite_score(before) or before == 0:
                    notes.append(
                        f"previous challenger's test {metric}={before!r} is not a positive finite "
                        f"number: the ratio check on {metric} does not apply"
                    )
                    continue
                if not is_finite_score(now):
                    continue  # already a reason above
                if not now <= ratio * before:
                    reasons.append(
                        f"champion {champion!r} test {metric}={now:.6g} is "
                        f"{now / before:.3g} times "
                        f"the previous challenger's {metric}={before:.6g}, above "
                        f"max_ratio_to_previous={ratio:g}"
                    )
    return GateDecision(passed=not reasons, reasons=tuple(reasons), notes=tuple(notes))


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
