"""Step order from the Kedro DAG: computed from datasets, on toy pipelines and the real ones."""

from __future__ import annotations

import pytest
from kedro.framework.project import configure_project
from kedro.pipeline import Node, Pipeline

from retail_forecasting.aws.pipeline_graph import (
    PipelineGraphError,
    producers,
    step_dependencies,
    topological_order,
)


def first(*values):
    return values[0]


def node(inputs, outputs, name):
    return Node(first, inputs, outputs, name=name)


TOY = {
    "load": Pipeline([node("raw", "a", "n1"), node("a", "b", "n2")]),
    "features": Pipeline([node(["b", "params:x"], "f@pandas", "n3")]),
    "model": Pipeline([node("f@spark", "m", "n4")]),
    "report": Pipeline([node(["a", "m"], "r", "n5")]),
    "side": Pipeline([node("raw", "s", "n6")]),
}


def test_dependencies_come_from_datasets_read_and_written():
    deps = step_dependencies({**TOY, "__default__": sum(TOY.values())})
    assert deps == {
        "features": ["load"],  # reads b, an output that load also consumes itself
        "load": [],
        "model": ["features"],  # transcoded f@pandas / f@spark is one dataset
        "report": ["load", "model"],
        "side": [],
    }
    assert topological_order(deps) == ["load", "side", "features", "model", "report"]


def test_pipelines_outside_default_are_steps_only_when_named():
    pipelines = {**TOY, "__default__": TOY["load"] + TOY["features"] + TOY["model"]}
    assert set(step_dependencies(pipelines)) == {"load", "features", "model"}
    assert set(step_dependencies(pipelines, ["side"])) == {"side"}


def test_a_selection_reads_what_others_wrote_as_it_is():
    assert step_dependencies(TOY, ["model", "report"]) == {"model": [], "report": ["model"]}


def test_overlapping_pipelines_are_refused():
    with pytest.raises(PipelineGraphError, match="Node 'n3' is in pipelines 'both' and 'features'"):
        step_dependencies({**TOY, "both": TOY["load"] + TOY["features"]})


def test_two_writers_of_a_dataset_are_refused():
    with pytest.raises(PipelineGraphError, match="'a' is written by pipelines 'load' and 'other'"):
        producers({**TOY, "other": Pipeline([node("raw", "a", "n7")])}, ["load", "other"])


def test_cycle_is_refused():
    cyclic = {"x": Pipeline([node("q", "p", "nx")]), "y": Pipeline([node("p", "q", "ny")])}
    with pytest.raises(PipelineGraphError, match=r"cycle: \['x', 'y'\]"):
        step_dependencies(cyclic)


def test_unknown_pipeline_is_refused():
    with pytest.raises(PipelineGraphError, match="Unknown pipeline"):
        step_dependencies(TOY, ["nope"])


def test_real_registry_every_edge_is_a_shared_dataset():
    configure_project("retail_forecasting")
    from retail_forecasting.pipeline_registry import register_pipelines

    pipelines = register_pipelines()
    deps = step_dependencies(pipelines)
    default_nodes = set(pipelines["__default__"].nodes)
    assert set(deps) == {
        name
        for name, p in pipelines.items()
        if name != "__default__" and set(p.nodes) <= default_nodes
    }
    writer = producers(pipelines, list(deps))
    for name, upstream in deps.items():
        reads = pipelines[name].inputs()
        assert set(upstream) == {writer[d] for d in reads if d in writer} - {name}
    order = topological_order(deps)
    assert order[0] == "ingestion"  # the only step reading nothing another step writes
    assert [name for name, up in deps.items() if not up] == ["ingestion"]
    for name, upstream in deps.items():  # the order respects every edge
        assert all(order.index(up) < order.index(name) for up in upstream)
