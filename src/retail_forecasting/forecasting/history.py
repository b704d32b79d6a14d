"""What is known at a forecast origin: the target history as a dense series x week matrix.

A :class:`History` is built from the panel rows dated at or before the cutoff **only**, so any
lookup past the cutoff returns NaN: leakage is impossible by construction, not by care. The
matrix follows the missing-week policy of :mod:`.contract` (0 inside a series' life, NaN before
its first row). All lookups are vectorised (numpy fancy indexing; no loop per series).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_forecasting.forecasting.contract import ID_COLUMNS, TARGET, TIME_COLUMN

WEEK = pd.Timedelta(weeks=1)


@dataclass(frozen=True)
class History:
    """Target and observed-covariate history up to (and including) ``cutoff``."""

    cutoff: pd.Timestamp
    start: pd.Timestamp  # the date of week index 0
    series: pd.MultiIndex  # (store, dept) of each matrix row
    first_week: np.ndarray  # first week index with a row, per series
    y: np.ndarray  # (n_series, origin_week + 1): target, 0 in gaps, NaN before the first row
    stores: pd.Index
    covariates: dict[str, np.ndarray]  # name -> (n_stores, origin_week + 1), forward-filled
    _cum: np.ndarray  # cumulative sums of y (NaN as 0), with a leading zero column
    _cnt: np.ndarray  # cumulative counts of known y, with a leading zero column

    @property
    def origin_week(self) -> int:
        """Week index of the cutoff."""
        return self.y.shape[1] - 1

    @classmethod
    def from_panel(
        cls,
        panel: pd.DataFrame,
        cutoff: pd.Timestamp,
        observed: Sequence[str] = (),
        start: pd.Timestamp | None = None,
    ) -> History:
        """Build the history from the rows of ``panel`` dated at or before ``cutoff``."""
        cutoff = pd.Timestamp(cutoff)
        past = panel.loc[panel[TIME_COLUMN] <= cutoff]
        if past.empty:
            raise ValueError(f"no history at or before the cutoff {cutoff.date()}")
        start = pd.Timestamp(start) if start is not None else past[TIME_COLUMN].min()
        if (cutoff - start) % WEEK:
            raise ValueError(
                f"cutoff {cutoff.date()} is not a whole number of weeks after {start.date()}"
            )
        n_weeks = (cutoff - start) // WEEK + 1
        week = ((past[TIME_COLUMN] - start) // WEEK).to_numpy()
        if (week < 0).any():
            raise ValueError(f"rows before the history start {start.date()}")

        series = pd.MultiIndex.from_frame(
            past[ID_COLUMNS].drop_duplicates().sort_values(ID_COLUMNS)
        )
        row = series.get_indexer(pd.MultiIndex.from_frame(past[ID_COLUMNS]))
        y = np.full((len(series), n_weeks), np.nan)
        first = np.full(len(series), n_weeks, dtype=np.int64)
        np.minimum.at(first, row, week)
        # inside a series' life a week without a row had no sales (Kaggle convention)
        alive = np.arange(n_weeks)[None, :] >= first[:, None]
        y[alive] = 0.0
        y[row, week] = past[TARGET].to_numpy(dtype=float)

        stores = pd.Index(np.sort(past["store"].unique()), name="store")
        covariates = {}
        if observed:
            per_store = past.drop_duplicates(["store", TIME_COLUMN])
            s_row = stores.get_indexer(per_store["store"])
            s_week = ((per_store[TIME_COLUMN] - start) // WEEK).to_numpy()
            for name in observed:
                matrix = np.full((len(stores), n_weeks), np.nan)
                matrix[s_row, s_week] = per_store[name].to_numpy(dtype=float)
                covariates[name] = _ffill(matrix)

        known = ~np.isnan(y)
        zeros = np.zeros((len(series), 1))
        return cls(
            cutoff=cutoff,
            start=start,
            series=series,
            first_week=first,
            y=y,
            stores=stores,
            covariates=covariates,
            _cum=np.concatenate([zeros, np.nancumsum(y, axis=1)], axis=1),
            _cnt=np.concatenate([zeros, np.cumsum(known, axis=1)], axis=1),
        )

    @classmethod
    def without_series(
        cls,
        cutoff: pd.Timestamp,
        start: pd.Timestamp,
        stores: pd.Index,
        covariates: dict[str, np.ndarray],
    ) -> History:
        """A history with no known series up to ``cutoff``, on the week grid from ``start``: its
        one placeholder series, (-1, -1), matches no row, so every row read against it is an
        unseen series (one placeholder, not none: the features index the per-series arrays even
        for unseen rows). ``stores`` and ``covariates`` are kept as given."""
        cutoff, start = pd.Timestamp(cutoff), pd.Timestamp(start)
        n_weeks = (cutoff - start) // WEEK + 1
        placeholder = np.array([-1], dtype=np.int64)
        return cls(
            cutoff=cutoff,
            start=start,
            series=pd.MultiIndex.from_arrays([placeholder, placeholder], names=ID_COLUMNS),
            first_week=np.array([n_weeks], dtype=np.int64),
            y=np.full((1, n_weeks), np.nan),
            stores=stores,
            covariates=dict(covariates),
            _cum=np.zeros((1, n_weeks + 1)),
            _cnt=np.zeros((1, n_weeks + 1)),
        )

    # ------------------------------------------------------------------ indexing

    def week_index(self, dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Week index of each date on this history's grid (may exceed ``origin_week``)."""
        delta = pd.DatetimeIndex(dates) - self.start
        if (delta % WEEK != pd.Timedelta(0)).any():
            raise ValueError("dates must fall on the weekly grid (Fridays)")
        return np.asarray(delta // WEEK, dtype=np.int64)

    def series_index(self, frame: pd.DataFrame) -> np.ndarray:
        """Matrix row of each (store, dept) in ``frame``; -1 for series unseen at the cutoff."""
        return self.series.get_indexer(pd.MultiIndex.from_frame(frame[ID_COLUMNS]))

    # ------------------------------------------------------------------ lookups

    def value_at(self, rows: np.ndarray, weeks: np.ndarray) -> np.ndarray:
        """Target of series ``rows`` at week indices ``weeks``; NaN past the cutoff or unknown."""
        rows, weeks = np.broadcast_arrays(np.asarray(rows), np.asarray(weeks))
        ok = (rows >= 0) & (weeks >= 0) & (weeks <= self.origin_week)
        out = np.full(rows.shape, np.nan)
        out[ok] = self.y[rows[ok], weeks[ok]]
        return out

    def window_mean(self, rows: np.ndarray, end_weeks: np.ndarray, length: int) -> np.ndarray:
        """Mean of the known target over the ``length`` weeks ending at ``end_weeks``."""
        rows, end = np.broadcast_arrays(np.asarray(rows), np.asarray(end_weeks))
        ok = (rows >= 0) & (end >= 0) & (end <= self.origin_week)
        out = np.full(rows.shape, np.nan)
        r, e = rows[ok], end[ok] + 1
        b = np.maximum(e - length, 0)
        total = self._cum[r, e] - self._cum[r, b]
        count = self._cnt[r, e] - self._cnt[r, b]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[ok] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        return out

    def covariate_at(self, name: str, stores: np.ndarray, weeks: np.ndarray) -> np.ndarray:
        """Observed covariate of each store at week indices (last value known by then)."""
        matrix = self.covariates[name]
        rows = self.stores.get_indexer(np.asarray(stores))
        rows, weeks = np.broadcast_arrays(rows, np.asarray(weeks))
        ok = (rows >= 0) & (weeks >= 0) & (weeks <= self.origin_week)
        out = np.full(rows.shape, np.nan)
        out[ok] = matrix[rows[ok], weeks[ok]]
        return out


def mean_of_known(stacked: np.ndarray) -> np.ndarray:
    """Column-wise mean of the known (non-NaN) values of ``stacked``; NaN where none is known."""
    known = ~np.isnan(stacked)
    with np.errstate(invalid="ignore"):
        return np.where(
            known.any(axis=0), np.nansum(stacked, axis=0) / np.maximum(known.sum(axis=0), 1), np.nan
        )


def _ffill(matrix: np.ndarray) -> np.ndarray:
    """Forward-fill NaN along the week axis (vectorised)."""
    idx = np.where(~np.isnan(matrix), np.arange(matrix.shape[1])[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = matrix[np.arange(matrix.shape[0])[:, None], idx]
    return filled
