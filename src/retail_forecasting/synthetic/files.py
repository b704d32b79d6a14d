"""Writing the bundle in Kaggle's CSV dialect (``TRUE``/``FALSE``, ``NA`` for missing cells,
trailing ``.0`` dropped from numbers, ``stores.csv`` with bare CR line ends), atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from retail_forecasting.kaggle.schema import FILE_NAMES, MARKDOWN_COLUMNS
from retail_forecasting.synthetic.config import SyntheticConfig
from retail_forecasting.synthetic.model import generate

# decimals written per float column (as in the Kaggle files)
_DECIMALS = {
    "Weekly_Sales": 2,
    "Temperature": 2,
    "Fuel_Price": 3,
    **{c: 2 for c in MARKDOWN_COLUMNS},
    "CPI": 7,
    "Unemployment": 3,
}


_WRITE_ROWS_PER_CHUNK = 250_000


def _fmt_floats(values: np.ndarray, na_rep: str = "NA") -> list[str]:
    """Kaggle number style: shortest repr, no trailing '.0', `na_rep` for missing."""
    return [
        na_rep if t == "nan" else t[:-2] if t.endswith(".0") else t
        for t in map(repr, values.tolist())
    ]


def _csv_text(
    df: pd.DataFrame, lineterminator: str = "\n", final: bool = True, na_rep: str = "NA"
) -> Iterable[str]:
    """Yield the CSV text of a frame in chunks (header first)."""
    yield ",".join(df.columns)
    for lo in range(0, len(df), _WRITE_ROWS_PER_CHUNK):
        part = df.iloc[lo : lo + _WRITE_ROWS_PER_CHUNK]
        cols: list[Iterable[str]] = []
        for name in df.columns:
            col = part[name]
            if name == "IsHoliday":
                cols.append(np.where(col.to_numpy(bool), "TRUE", "FALSE").tolist())
            elif name in _DECIMALS:
                cols.append(_fmt_floats(col.to_numpy(np.float64), na_rep))
            else:
                cols.append(col.astype(str).tolist())
        yield lineterminator + lineterminator.join(map(",".join, zip(*cols, strict=True)))
    if final:
        yield lineterminator


def write_frames(
    directory: str | os.PathLike[str], frames: dict[str, pd.DataFrame], config: SyntheticConfig
) -> dict[str, Path]:
    """Write frames as Kaggle CSVs into a temp dir inside `directory`, then rename into place."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synthetic-tmp-", dir=target))
    paths: dict[str, Path] = {}
    try:
        for key, name in FILE_NAMES.items():
            df = frames[key]
            if key == "stores":  # Kaggle's stores.csv: bare CR line ends, none after the last
                chunks = _csv_text(df, config.stores_line_terminator, final=False)
            else:
                chunks = _csv_text(df, na_rep=config.na_rep)
            with open(tmp / name, "w", encoding="utf-8", newline="") as fh:
                for text in chunks:
                    fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for key, name in FILE_NAMES.items():
            os.replace(tmp / name, target / name)
            paths[key] = target / name
        _fsync_dir(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return paths


def _fsync_dir(path: Path) -> None:
    """Persist a directory entry change (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_kaggle_files(
    directory: str | os.PathLike[str], config: SyntheticConfig | None = None
) -> dict[str, Path]:
    """Generate and write train.csv, features.csv, stores.csv, test.csv in Kaggle's CSV format.

    Files are first written to a temp dir inside `directory` and then renamed into place, so a
    crash never leaves a half-written file.  Returns {"train": path, ...}.
    """
    config = config or SyntheticConfig()
    return write_frames(directory, generate(config), config)
