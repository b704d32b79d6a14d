"""Read-only dataset for one file of the Kaggle Walmart bundle, real or synthetic."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import get_protocol_and_path

from retail_forecasting.errors import RawDataError

logger = logging.getLogger(__name__)

KAGGLE_DOWNLOAD_HINT = (
    "Download the bundle with `kaggle competitions download -c "
    "walmart-recruiting-store-sales-forecasting` and unzip it there "
    "(see README, 'Real Kaggle data'), "
    "or leave out --params raw_data_dir to run on synthetic data."
)

SYNTHETIC_FILES = ("train.csv", "features.csv", "stores.csv", "test.csv")


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_cut_last_line(content: bytes, n_columns: int, url: str) -> None:
    """Refuse a file whose last line has too few fields and no line break: it was cut mid-line
    (pandas would read the missing fields as empty)."""
    if content.endswith((b"\n", b"\r")):
        return
    lines = content.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    last = lines[-1].decode("utf-8", errors="replace")
    fields = next(csv.reader([last]), [])
    if len(lines) > 1 and len(fields) < n_columns:
        raise RawDataError(
            f"{url}, line {len(lines)}: {len(fields)} of {n_columns} fields ({last!r}) and no "
            "line break at the end: the file looks cut off mid-line. Copy or download it again; "
            "nothing was loaded."
        )


class _Folder:
    """A directory on any fsspec filesystem: local paths stay absolute ``Path``s, others URLs."""

    def __init__(self, location: str, storage_options: dict[str, Any]) -> None:
        protocol, path = get_protocol_and_path(location)
        self.remote = protocol != "file"
        if self.remote:
            self.fs = fsspec.filesystem(protocol, **storage_options)
            self.path = path.rstrip("/")
            self.display = f"{protocol}://{self.path}"
        else:
            self.fs = fsspec.filesystem("file")
            self.path = Path(path).expanduser().resolve().as_posix()
            self.display = self.path

    def file(self, name: str) -> str:
        return f"{self.path}/{name}"

    def url(self, name: str) -> str:
        return f"{self.display}/{name}"


class KaggleRawDataset(AbstractDataset[None, pd.DataFrame]):
    """One CSV of the Kaggle bundle (``train.csv``, ``features.csv``, ``stores.csv``, ``test.csv``).

    Where the file comes from is decided by ``raw_data_dir`` (the runtime parameter of the same
    name): set, the file must exist there — a missing file is an error naming it, never a silent
    fallback; empty, the project's synthetic generator writes the bundle into ``synthetic_dir``
    once per generator configuration, and the file is read from there. Both paths parse the same
    bytes the same way.

    Both folders may be local paths or fsspec URLs (``s3://bucket/prefix/raw``, as in the
    ``sagemaker`` environment); ``credentials`` and ``fs_args`` go to the filesystem, as in
    kedro-datasets. A remote synthetic bundle is generated locally in a temporary folder and
    uploaded.

    The loaded frame carries its provenance in ``frame.attrs["source"]`` (file name, absolute
    path or URL, sha256, size, ``real``/``synthetic``) for the input manifest.

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
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._file = file
        self._raw_data_dir = str(raw_data_dir).strip() if raw_data_dir else ""
        self._synthetic_dir = str(synthetic_dir)
        self._synthetic = dict(synthetic or {})
        self._load_args = dict(load_args or {})
        self._storage_options = {**(fs_args or {}), **(credentials or {})}
        self.metadata = metadata

    def _folder(self) -> _Folder:
        location = self._raw_data_dir if self.uses_real_data else self._synthetic_dir
        return _Folder(location, self._storage_options)

    @property
    def uses_real_data(self) -> bool:
        """Whether the file is read from a user-supplied ``raw_data_dir``."""
        return bool(self._raw_data_dir)

    def _describe(self) -> dict[str, Any]:
        return {
            "file": self._file,
            "raw_data_dir": self._raw_data_dir or None,
            "synthetic_dir": self._synthetic_dir,
            "synthetic": self._synthetic,
        }

    def _resolve(self) -> _Folder:
        """The folder to read from: checked (real data) or generated if needed (synthetic)."""
        folder = self._folder()
        if self.uses_real_data:
            if folder.fs.isfile(folder.path):
                raise RawDataError(
                    f"raw_data_dir={self._raw_data_dir!r} is a file, not a folder: point it at "
                    "the folder holding train.csv, features.csv and stores.csv."
                )
            if not folder.fs.isfile(folder.file(self._file)):
                exists = folder.fs.isdir(folder.path) or folder.fs.exists(folder.path)
                reason = f"has no {self._file}" if exists else "does not exist"
                raise DatasetError(
                    f"Real data was requested (raw_data_dir={self._raw_data_dir!r}) but "
                    f"{self._file} is missing: {folder.display} {reason}. {KAGGLE_DOWNLOAD_HINT}"
                )
            return folder
        self._ensure_synthetic_bundle(folder)
        return folder

    def _ensure_synthetic_bundle(self, folder: _Folder) -> None:
        """Generate the synthetic bundle unless it exists for the same configuration."""
        from retail_forecasting.synthetic import SyntheticConfig, write_kaggle_files

        config = SyntheticConfig(**self._synthetic)
        wanted = json.dumps(config.__dict__, sort_keys=True, default=str)
        fs, marker = folder.fs, folder.file("_synthetic_config.json")
        complete = all(fs.isfile(folder.file(name)) for name in SYNTHETIC_FILES)
        if complete and fs.isfile(marker) and fs.cat_file(marker).decode("utf-8") == wanted:
            return
        logger.info(
            "raw_data_dir is not set: generating synthetic Kaggle-format data in %s (%s)",
            folder.display,
            wanted,
        )
        if fs.isfile(marker):
            fs.rm_file(marker)
        if not folder.remote:
            write_kaggle_files(folder.path, config)
        else:  # generate locally, then upload the files (the marker last)
            with tempfile.TemporaryDirectory(prefix="synthetic-") as local:
                write_kaggle_files(local, config)
                for name in SYNTHETIC_FILES:
                    fs.put_file(f"{local}/{name}", folder.file(name))
        fs.pipe_file(marker, wanted.encode("utf-8"))

    def load(self) -> pd.DataFrame:
        folder = self._resolve()
        url = folder.url(self._file)
        content = folder.fs.cat_file(folder.file(self._file))  # one read: parse and hash alike
        if not content.strip():
            raise RawDataError(
                f"{url} is empty ({len(content)} bytes): expected a CSV with a header line and "
                "rows. Copy or download the file again; nothing was loaded."
            )
        try:
            frame = pd.read_csv(io.BytesIO(content), **self._load_args)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise RawDataError(f"Cannot parse {url} as CSV: {exc}") from exc
        _refuse_cut_last_line(content, len(frame.columns), url)
        frame.attrs["source"] = {
            "file": self._file,
            "path": url,
            "kind": "real" if self.uses_real_data else "synthetic",
            "sha256": hashlib.sha256(content).hexdigest(),
            "bytes": len(content),
        }
        logger.info(
            "Loaded %s (%s, %d rows) from %s",
            self._file,
            frame.attrs["source"]["kind"],
            len(frame),
            url,
        )
        return frame

    def save(self, data: None) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only: raw files are never overwritten")

    def _exists(self) -> bool:
        folder = self._folder()
        return folder.fs.isfile(folder.file(self._file))
