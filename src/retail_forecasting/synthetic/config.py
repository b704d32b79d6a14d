"""The generator's knobs (:class:`SyntheticConfig`) and the constants its output depends on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_forecasting.calendar import FRIDAY as _FRIDAY

DEPT_KIND_SHARES = (0.69, 0.19, 0.12)  # core, small, tiny departments


PAIRS_PER_CHUNK = 4096  # series per vectorised chunk (fixed: the output depends on it)


# independent random streams, keyed (seed, stream[, chunk])
STREAM_STORES, STREAM_DEPTS, STREAM_FEATURES, STREAM_PAIRS, STREAM_SALES = range(5)


@dataclass(frozen=True)
class SyntheticConfig:
    """Size, calendar and realism knobs of the generator (defaults imitate the Kaggle bundle)."""

    seed: int = 42
    n_stores: int = 45
    n_depts: int = 81
    n_weeks: int = 143  # weeks of sales history (train.csv)
    n_future_weeks: int = 39  # weeks in test.csv and extra weeks of features.csv
    start: str = "2010-02-05"  # a Friday
    # store mix and sizes
    type_shares: tuple[float, float, float] = (22 / 45, 17 / 45, 6 / 45)  # A, B, C
    # department ids 1..~1.22*n_depts with gaps (real ids are 1..99 with 18 missing)
    dept_id_gaps: bool = True
    # coverage: share of depts present in only a few stores, and of series opening late /
    # closing early (on top of the weeks without any sale of small series)
    rare_dept_share: float = 0.06
    late_start_share: float = 0.01
    early_end_share: float = 0.01
    # mean share of items returned (negative sales come from returns exceeding sales)
    return_rate: float = 0.06
    noise_sd: float = 0.075  # typical weekly log-noise of a series (AR(1), phi = 0.5)
    growth: float = 0.0  # yearly log-growth of all-store sales (the real total is ~flat)
    trend_sd: float = 0.03  # sd of the yearly log-growth of stores, depts and series
    markdown_effect: float = 0.01  # mean log-uplift of sales per unit of (log) markdown spend
    level_drift_sd: float = 0.012  # weekly sd of a random-walk drift of each series' level
    markdown_start: str = "2011-11-11"  # first week with recorded markdowns (empty before)
    macro_missing_weeks: int = 13  # CPI/Unemployment empty for the last weeks of features.csv
    stores_line_terminator: str = "\r"  # the real stores.csv ends its lines with a bare CR
    na_rep: str = "NA"  # missing cells: the real features.csv writes NA ("" for empty cells)

    def __post_init__(self) -> None:
        """Validate the knobs."""
        for name in ("n_stores", "n_depts", "n_weeks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_future_weeks < 0 or self.macro_missing_weeks < 0:
            raise ValueError("n_future_weeks and macro_missing_weeks must be >= 0")
        if pd.Timestamp(self.start).weekday() != _FRIDAY:
            raise ValueError(f"start must be a Friday, got {self.start}")
        shares = np.asarray(self.type_shares, dtype=float)
        if shares.shape != (3,) or (shares < 0).any() or shares.sum() <= 0:
            raise ValueError("type_shares must be three non-negative numbers (A, B, C)")
        if self.stores_line_terminator not in ("\r", "\n", "\r\n"):
            raise ValueError("stores_line_terminator must be one of CR, LF, CRLF")
        if any(ch in self.na_rep for ch in ',"\r\n'):
            raise ValueError("na_rep must not contain commas, quotes or line breaks")
