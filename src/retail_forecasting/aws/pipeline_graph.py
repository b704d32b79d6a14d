"""The order of the Kedro pipelines, read from their datasets (no SageMaker SDK needed).

Each registered pipeline becomes one SageMaker step. Step B depends on step A when B reads a
dataset that A writes (any output of A, also one A itself consumes). Nothing about the order is
written down anywhere else: a new pipeline, or a new dataset between two pipelines, changes the
graph by itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kedro.pipeline import Pipeline

DEFAULT_PIPELINE = "__default__"


class PipelineGraphError(ValueError):
    """The selected pipelines cannot be steps of one SageMaker Pipeline."""


def _dataset(name: str) -> str:
    return name.split("@", 1)[0]  # transcoded datasets share their storage


def step_names(pipelines: Mapping[str, Pipeline], names: Sequence[str] | None = None) -> list[str]:
    """The pipelines that become steps: ``names``, or by default every registered pipeline
    that is part of ``__default__`` (what ``kedro run`` runs). A pipeline left out of
    ``__default__`` on purpose — e.g. ``inference``, which reads a registered model rather than
    a dataset of another pipeline — is not a step unless named."""
    if names:
        unknown = [name for name in names if name not in pipelines]
        if unknown:
            raise PipelineGraphError(
                f"Unknown pipeline(s) {unknown}; registered: {sorted(pipelines)}"
            )
        return list(dict.fromkeys(names))
    default = pipelines.get(DEFAULT_PIPELINE)
    in_default = {node.name for node in default.nodes} if default is not None else None
    return sorted(
        name
        for name, pipeline in pipelines.items()
        if name != DEFAULT_PIPELINE
        and (in_default is None or {node.name for node in pipeline.nodes} <= in_default)
    )


def producers(pipelines: Mapping[str, Pipeline], names: Sequence[str]) -> dict[str, str]:
    """``{dataset: pipeline that writes it}``; two writers of one dataset, or one node in two
    pipelines, is an error (the same work would run in two steps)."""
    writer: dict[str, str] = {}
    node_owner: dict[str, str] = {}
    for name in names:
        for node in pipelines[name].nodes:
            other = node_owner.setdefault(node.name, name)
            if other != name:
                raise PipelineGraphError(
                    f"Node {node.name!r} is in pipelines {other!r} and {name!r}: each node must "
                    "run in one step. Choose the pipelines with --pipeline (e.g. leave out a "
                    "composite pipeline)."
                )
        for dataset in map(_dataset, pipelines[name].all_outputs()):
            other = writer.setdefault(dataset, name)
            if other != name:
                raise PipelineGraphError(
                    f"Dataset {dataset!r} is written by pipelines {other!r} and {name!r}"
                )
    return writer


def step_dependencies(
    pipelines: Mapping[str, Pipeline], names: Sequence[str] | None = None
) -> dict[str, list[str]]:
    """``{pipeline: [pipelines it reads from]}`` for the selected pipelines, in a stable order.

    A dataset that no selected pipeline writes (raw files, the warehouse view, outputs of a
    pipeline left out) is read as it already is.
    """
    selected = step_names(pipelines, names)
    writer = producers(pipelines, selected)
    dependencies = {}
    for name in selected:
        reads = {_dataset(d) for d in pipelines[name].inputs()}
        upstream = {writer[d] for d in reads if d in writer and writer[d] != name}
        dependencies[name] = sorted(upstream)
    topological_order(dependencies)  # raises on a cycle
    return dependencies


def topological_order(dependencies: Mapping[str, Sequence[str]]) -> list[str]:
    """The steps in dependency order, ties by name; a cycle is an error naming its steps."""
    remaining = {name: set(upstream) for name, upstream in dependencies.items()}
    order: list[str] = []
    while remaining:
        ready = sorted(name for name, upstream in remaining.items() if not upstream - set(order))
        if not ready:
            raise PipelineGraphError(
                f"The pipelines depend on each other in a cycle: {sorted(remaining)}"
            )
        for name in ready:
            order.append(name)
            del remaining[name]
    return order


def terminal_writer(writer: Mapping[str, str], dataset: str) -> str:
    """The pipeline that writes ``dataset``, or an error naming the dataset."""
    try:
        return writer[dataset]
    except KeyError:
        raise PipelineGraphError(
            f"No selected pipeline writes {dataset!r}, which the quality gate reads"
        ) from None
