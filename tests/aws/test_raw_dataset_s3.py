"""KaggleRawDataset through fsspec: raw files and the synthetic bundle on S3 (moto server)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from kedro.io import DatasetError

from retail_forecasting.datasets import KaggleRawDataset


def test_real_files_are_read_from_s3_with_their_fingerprint(aws, tiny_raw_dir):
    for name in ("train.csv", "features.csv", "stores.csv"):
        aws.put_file(f"raw/batch-1/{name}", tiny_raw_dir / name)
    raw_dir = f"s3://{aws.bucket}/raw/batch-1/"  # a trailing slash is fine
    frame = KaggleRawDataset(file="stores.csv", raw_data_dir=raw_dir).load()

    expected = pd.read_csv(tiny_raw_dir / "stores.csv")
    pd.testing.assert_frame_equal(frame, expected)
    source = frame.attrs["source"]
    content = (tiny_raw_dir / "stores.csv").read_bytes()
    assert source == {
        "file": "stores.csv",
        "path": f"s3://{aws.bucket}/raw/batch-1/stores.csv",
        "kind": "real",
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
    }
    assert KaggleRawDataset(file="train.csv", raw_data_dir=raw_dir).exists()


def test_missing_file_on_s3_is_an_error_naming_the_url(aws, tiny_raw_dir):
    aws.put_file("raw/partial/train.csv", tiny_raw_dir / "train.csv")
    with pytest.raises(DatasetError, match="features.csv is missing") as info:
        KaggleRawDataset(file="features.csv", raw_data_dir=f"s3://{aws.bucket}/raw/partial").load()
    assert f"s3://{aws.bucket}/raw/partial has no features.csv" in str(info.value)
    with pytest.raises(DatasetError, match="does not exist"):
        KaggleRawDataset(file="train.csv", raw_data_dir=f"s3://{aws.bucket}/raw/nowhere").load()


def test_synthetic_bundle_is_generated_once_into_s3(aws, tiny_config, monkeypatch):
    import retail_forecasting.synthetic as synthetic

    calls = []
    real = synthetic.write_kaggle_files
    monkeypatch.setattr(synthetic, "write_kaggle_files", lambda *a: calls.append(a) or real(*a))
    synthetic_dir = f"s3://{aws.bucket}/retail/01_raw/synthetic"

    def load(config):
        dataset = KaggleRawDataset(file="train.csv", synthetic_dir=synthetic_dir, synthetic=config)
        return dataset.load()

    first = load(tiny_config)
    assert aws.keys("retail/01_raw/synthetic/") == sorted(
        f"retail/01_raw/synthetic/{name}"
        for name in (
            "_synthetic_config.json",
            "train.csv",
            "features.csv",
            "stores.csv",
            "test.csv",
        )
    )
    assert first.attrs["source"]["kind"] == "synthetic"
    assert first.attrs["source"]["path"] == f"{synthetic_dir}/train.csv"
    again = load(tiny_config)
    assert len(calls) == 1, "same configuration: generated once, then read from S3"
    assert again.attrs["source"]["sha256"] == first.attrs["source"]["sha256"]
    load({**tiny_config, "seed": 8})
    assert len(calls) == 2, "another configuration: regenerated"
