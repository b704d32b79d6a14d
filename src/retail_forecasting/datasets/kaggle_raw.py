"""Read-only dataset for one file of the Kaggle Walmart bundle, real or synthetic."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)

KAGGLE_DOWNLOAD_HINT = (
    "Download the bundle with `kaggle competitions download -c "
    "walmart-recruiting-store-sales-forecasting` and unzip it there (see README, 'Real data'), "
    "or leave out --params raw_data_dir to run on synthetic data."
)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


class KaggleRawDataset(AbstractDataset[None, pd.DataFrame]):
    """One CSV of the Kaggle bundle (``train.csv``, ``features.csv``, ``stores.csv``, ``test.csv``).

    Where the file comes from is decided by ``raw_data_dir`` (the runtime parameter of the same
    name): set, the file must exist there — a missing file is an error naming it, never a silent
    fallback; empty, the project's synthetic generator writes the bundle into ``synthetic_dir``
    once per generator configuration, and the file is read from there. Both paths parse the same
    bytes the same way.

    The loaded frame carries its provenance in ``frame.attrs["source"]`` (file name, absolute
    path, sha256, size, ``real``/``synthetic``) for the input manifest.

    Example catalog entry::

        raw_train:
          type: retail_forecasting.datasets.KaggleRawDataset
          file: train.csv
          raw_data_dir: ${runtime_params:raw_data_dir, ""}
          synthetic_dir: data/01_raw/synthetic
          synthetic: {seed: 42, n_stores: 45}
    """

    def __init__(
        self,
        *,
        file: str,
        raw_data_dir: str | None = None,
        synthetic_dir: str = "data/01_raw/synthetic",
        synthetic: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._file = file
        self._raw_data_dir = str(raw_data_dir).strip() if raw_data_dir else ""
        self._synthetic_dir = Path(synthetic_dir)
        self._synthetic = dict(synthetic or {})
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    @property
    def uses_real_data(self) -> bool:
        """Whether the file is read from a user-supplied ``raw_data_dir``."""
        return bool(self._raw_data_dir)

    def _describe(self) -> dict[str, Any]:
        return {
            "file": self._file,
            "raw_data_dir": self._raw_data_dir or None,
            "synthetic_dir": str(self._synthetic_dir),
            "synthetic": self._synthetic,
        }

    def _resolve_path(self) -> Path:
        if self.uses_real_data:
            directory = Path(self._raw_data_dir).expanduser().resolve()
            path = directory / self._file
            if not path.is_file():
                reason = "does not exist" if not directory.exists() else f"has no {self._file}"
                raise DatasetError(
                    f"Real data was requested (raw_data_dir={self._raw_data_dir!r}) but "
                    f"{self._file} is missing: {directory} {reason}. {KAGGLE_DOWNLOAD_HINT}"
                )
            return path
        self._ensure_synthetic_bundle()
        return self._synthetic_dir.resolve() / self._file

    def _ensure_synthetic_bundle(self) -> None:
        """Generate the synthetic bundle unless it exists for the same configuration."""
        from retail_forecasting.synthetic import SyntheticConfig, write_kaggle_files

        config = SyntheticConfig(**self._synthetic)
        wanted = json.dumps(config.__dict__, sort_keys=True, default=str)
        marker = self._synthetic_dir / "_synthetic_config.json"
        complete = all(
            (self._synthetic_dir / name).is_file()
            for name in ("train.csv", "features.csv", "stores.csv", "test.csv")
        )
        if complete and marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
            return
        logger.info(
            "raw_data_dir is not set: generating synthetic Kaggle-format data in %s (%s)",
            self._synthetic_dir,
            wanted,
        )
        marker.unlink(missing_ok=True)
        write_kaggle_files(self._synthetic_dir, config)
        marker.write_text(wanted, encoding="utf-8")

    def load(self) -> pd.DataFrame:
        path = self._resolve_path()
        try:
            frame = pd.read_csv(path, **self._load_args)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DatasetError(f"Cannot parse {path} as CSV: {exc}") from exc
        frame.attrs["source"] = {
            "file": self._file,
            "path": path.as_posix(),
            "kind": "real" if self.uses_real_data else "synthetic",
            "sha256": file_sha256(path),
            "bytes": path.stat().st_size,
        }
        logger.info(
            "Loaded %s (%s, %d rows) from %s",
            self._file,
            frame.attrs["source"]["kind"],
            len(frame),
            path,
        )
        return frame

    def save(self, data: None) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only: raw files are never overwritten")

    def _exists(self) -> bool:
        if self.uses_real_data:
            return (Path(self._raw_data_dir).expanduser() / self._file).is_file()
        return (self._synthetic_dir / self._file).is_file()
