"""Files and folders that are either whole or absent: a crashed or killed run leaves no half
file (:class:`AtomicParquetDataset`) and no half-written set of partitions
(:class:`AtomicPartitionedDataset`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io.core import get_protocol_and_path
from kedro_datasets.pandas import ParquetDataset
from kedro_datasets.partitions import PartitionedDataset

from retail_forecasting.files import replace_whole


class AtomicParquetDataset(ParquetDataset):
    """kedro-datasets' ``pandas.ParquetDataset`` whose local saves are atomic.

    A local file is written to a hidden temporary file in the same folder, then renamed over
    the target (``os.replace``, atomic on POSIX): readers see the old file or the new one,
    never a partial one. Remote paths (``s3://``) keep the parent's save: an object store PUT
    is already all-or-nothing. Everything else (load, arguments, versioning) is the parent's.

    Example catalog entry::

        int_sales:
          type: retail_forecasting.datasets.atomic.AtomicParquetDataset
          filepath: data/02_intermediate/int_sales.parquet
    """

    def __init__(
        self,
        *,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        version: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(filepath=filepath, save_args=save_args, version=version, **kwargs)
        protocol, path = get_protocol_and_path(filepath)
        self._atomic_target = Path(path) if protocol == "file" and version is None else None
        self._atomic_save_args = save_args

    def save(self, data: pd.DataFrame) -> None:
        if self._atomic_target is None:
            super().save(data)
            return
        replace_whole(
            self._atomic_target,
            lambda temporary: ParquetDataset(
                filepath=str(temporary), save_args=self._atomic_save_args
            ).save(data),
        )


class AtomicPartitionedDataset(PartitionedDataset):
    """kedro-datasets' ``partitions.PartitionedDataset`` whose local saves replace the whole
    folder at once: the old partitions or the new ones, never a mix, never a partial set.

    Every save replaces the folder (``overwrite`` is always on: a partition the new data does not
    have must not survive from an earlier run). Locally the partitions are written into a hidden
    sibling folder first (lazily: a callable partition is called when its turn to be written
    comes, so one partition is in memory at a time), which then takes the folder's place: a
    failure while writing leaves the earlier folder as it was. Remote paths (``s3://``) keep the
    parent's save (remove, then write each object). Loading is the parent's: ``{partition id:
    load function}``, so a node can load one partition at a time.

    Example catalog entry::

        mo_test_intervals:
          type: retail_forecasting.datasets.atomic.AtomicPartitionedDataset
          path: data/07_model_output/mo_test_intervals
          dataset: retail_forecasting.datasets.atomic.AtomicParquetDataset
          filename_suffix: .parquet
    """

    def __init__(self, *, path: str, **kwargs: Any) -> None:
        kwargs.pop("overwrite", None)
        super().__init__(path=path, overwrite=True, **kwargs)
        self._atomic_kwargs = kwargs
        self._atomic_target = Path(path) if self._protocol == "file" else None

    def save(self, data: dict[str, Any]) -> None:
        if self._atomic_target is None:
            super().save(data)
            return
        replace_whole(
            self._atomic_target,
            lambda staging: PartitionedDataset(
                path=str(staging), overwrite=True, **self._atomic_kwargs
            ).save(data),
        )
        self._invalidate_caches()
