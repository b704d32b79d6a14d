"""A champion registered before ``IntervalModel.type_ratio`` existed (commit 3d9e8df) must keep
forecasting after an upgrade: its pickle holds an ``IntervalModel`` state without that field.

The pickle here is made the way the old code made it: by an ``IntervalModel`` class of the old
shape (the five fields it had then), standing in for the current class under the same import
path while it is pickled. Unpickling then goes through the current class, whose
``__setstate__`` fills the missing field; without it the restored object has no ``type_ratio``
and this test fails (the ``getattr`` guards in ``apply`` do not save ``as_dict``).
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import numpy as np

from retail_forecasting.forecasting import intervals
from retail_forecasting.forecasting.intervals import IntervalModel, IntervalParams


def _old_class() -> type:
    """``IntervalModel`` as it was before 3d9e8df (its fields: a pickle holds no code), under
    the current class's import path, as pickle records it."""
    old = dataclasses.make_dataclass(
        "IntervalModel",
        [
            ("quantiles", tuple),
            ("bucket_weeks", int),
            ("table", np.ndarray),
            ("counts", np.ndarray),
            ("params", IntervalParams, dataclasses.field(default_factory=IntervalParams)),
        ],
    )
    old.__module__ = intervals.__name__
    return old


def _old_pickle(monkeypatch) -> tuple[bytes, Any]:
    params = IntervalParams()
    quantiles = tuple(params.quantiles)
    rng = np.random.default_rng(0)
    table = np.sort(rng.normal(0, 1, (3, 2, len(quantiles))), axis=2)
    old_class = _old_class()
    old = old_class(quantiles, 13, table, np.full((3, 2), 50), params)
    with monkeypatch.context() as patch:  # the old shape is the class at that path meanwhile
        patch.setattr(intervals, "IntervalModel", old_class)
        data = pickle.dumps(old)
    return data, old


def test_an_old_shape_pickle_unpickles_as_the_current_class_with_no_store_type_factors(
    monkeypatch,
):
    data, old = _old_pickle(monkeypatch)
    assert b"type_ratio" not in data  # really the old shape
    restored = pickle.loads(data)
    assert type(restored) is IntervalModel
    assert restored.__dict__["type_ratio"] == {}  # filled by __setstate__, not a getattr guard
    assert getattr(restored, "young", None) is None  # a later optional field, if any, is unset
    # it forecasts with the pooled quantiles it was calibrated with, whatever the store type
    point, scale, step = np.full(3, 100.0), np.full(3, 2.0), np.array([1, 13, 14])
    bucket = np.array([0, 0, 1])
    expected = np.sort(point[:, None] + scale[:, None] * old.table[0, bucket], axis=1)
    np.testing.assert_allclose(
        restored.apply(point, scale, step, store_type=np.array(["A", "B", "C"])), expected
    )
    # and it can be written in the current JSON form (the serving/monitoring copy of the model)
    again = IntervalModel.from_dict(restored.as_dict())
    np.testing.assert_allclose(again.apply(point, scale, step), expected)


def test_a_current_pickle_keeps_its_store_type_factors():
    params = IntervalParams()
    quantiles = tuple(params.quantiles)
    table = np.tile(np.linspace(-1, 1, len(quantiles)), (3, 1, 1))
    model = IntervalModel(
        quantiles, 13, table, np.full((3, 1), 50), params, {"A": np.full(len(quantiles), 2.0)}
    )
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.type_ratio["A"], 2.0)
    wide = restored.apply(np.zeros(1), np.ones(1), np.ones(1), store_type=np.array(["A"]))
    np.testing.assert_allclose(wide[0], 2 * table[0, 0])
