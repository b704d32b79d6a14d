"""The command line: ``python -m retail_forecasting.synthetic OUT_DIR [--stores N --depts N
--weeks N --future-weeks N --seed N]``."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from retail_forecasting.kaggle.schema import FILE_NAMES
from retail_forecasting.synthetic.config import SyntheticConfig
from retail_forecasting.synthetic.files import write_frames
from retail_forecasting.synthetic.model import generate


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: write the four CSVs and print a one-line summary."""
    defaults = SyntheticConfig()
    parser = argparse.ArgumentParser(
        prog="python -m retail_forecasting.synthetic",
        description="Write a synthetic Walmart (Kaggle) bundle: train/features/stores/test.csv.",
    )
    parser.add_argument("out_dir", type=Path, help="directory to write the CSV files into")
    parser.add_argument("--stores", type=int, default=defaults.n_stores)
    parser.add_argument("--depts", type=int, default=defaults.n_depts)
    parser.add_argument("--weeks", type=int, default=defaults.n_weeks)
    parser.add_argument("--future-weeks", type=int, default=defaults.n_future_weeks)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--start", default=defaults.start, help="first Friday (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    try:
        config = SyntheticConfig(
            seed=args.seed,
            n_stores=args.stores,
            n_depts=args.depts,
            n_weeks=args.weeks,
            n_future_weeks=args.future_weeks,
            start=args.start,
        )
    except ValueError as exc:
        parser.error(str(exc))
    t0 = time.perf_counter()
    frames = generate(config)
    paths = write_frames(args.out_dir, frames, config)
    rows = " ".join(f"{paths[k].name}={len(frames[k]):,}" for k in FILE_NAMES)
    print(f"wrote {rows} rows to {args.out_dir} in {time.perf_counter() - t0:.2f} s")
    return 0
