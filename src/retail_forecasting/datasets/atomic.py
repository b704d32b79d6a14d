"""Parquet files that are either whole or absent: a crashed or killed run leaves no half file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io.core import get_protocol_and_path
from kedro_datasets.pandas import ParquetDataset


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
        target = self._atomic_target
        if target is None:
            super().save(data)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            ParquetDataset(filepath=str(temporary), save_args=self._atomic_save_args).save(data)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
