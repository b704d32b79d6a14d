"""Where raw data comes from: real files (or a clear error), else the synthetic bundle."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from kedro.io import DatasetError

from retail_forecasting.datasets import KaggleRawDataset


def test_missing_real_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "train.csv").write_text("Store,Dept,Date,Weekly_Sales,IsHoliday\n")
    dataset = KaggleRawDataset(file="features.csv", raw_data_dir=str(tmp_path))
    with pytest.raises(DatasetError, match="features.csv is missing") as info:
        dataset.load()
    assert str(tmp_path) in str(info.value) and "kaggle competitions download" in str(info.value)
    assert not (tmp_path / "features.csv").exists(), "no silent fallback to synthetic data"


def test_missing_real_directory_is_an_error(tmp_path):
    dataset = KaggleRawDataset(file="train.csv", raw_data_dir=str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="does not exist"):
        dataset.load()


def test_real_file_with_bare_cr_line_endings_loads_with_provenance(tmp_path):
    # Kaggle's stores.csv ends its lines with a bare CR (old Mac style)
    content = b"Store,Type,Size\r1,A,151315\r2,B,202307\r"
    (tmp_path / "stores.csv").write_bytes(content)
    frame = KaggleRawDataset(file="stores.csv", raw_data_dir=str(tmp_path)).load()
    assert frame.to_dict("list") == {"Store": [1, 2], "Type": ["A", "B"], "Size": [151315, 202307]}
    source = frame.attrs["source"]
    assert source["kind"] == "real" and source["sha256"] == hashlib.sha256(content).hexdigest()


def test_synthetic_bundle_is_generated_once_per_configuration(tmp_path, tiny_config):
    TINY = tiny_config
    directory = tmp_path / "synthetic"
    dataset = KaggleRawDataset(file="train.csv", synthetic_dir=str(directory), synthetic=TINY)
    first = dataset.load()
    assert first.attrs["source"]["kind"] == "synthetic"
    assert list(first.columns) == ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"]
    stamp = (directory / "train.csv").stat().st_mtime_ns
    second = KaggleRawDataset(file="train.csv", synthetic_dir=str(directory), synthetic=TINY).load()
    assert (directory / "train.csv").stat().st_mtime_ns == stamp, "same config: not regenerated"
    pd.testing.assert_frame_equal(first, second)
    other = KaggleRawDataset(
        file="train.csv", synthetic_dir=str(directory), synthetic={**TINY, "seed": 8}
    ).load()
    assert other.attrs["source"]["sha256"] != first.attrs["source"]["sha256"]


def test_raw_dataset_is_read_only(tmp_path):
    with pytest.raises(DatasetError, match="read-only"):
        KaggleRawDataset(file="train.csv", raw_data_dir=str(tmp_path)).save(
            pd.DataFrame({"a": [1]})
        )
