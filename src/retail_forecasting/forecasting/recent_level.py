"""A recent-level correction of the statistical model (:mod:`.decomposition`) for short steps.

The decomposition's level at the origin is the mean of the last ``level_window`` (52) weeks: a
year-long average, centred half a year before the origin. Where a series has moved since, the
forecast misses that move at every step, which weighs most at short horizons (statsforecast's
MSTL + AutoETS follows it with an exponentially smoothed level). The correction reads it from
the history only:

1. **Backcast.** The decomposition forecasts the last ``weeks`` weeks *of the history* from the
   same origin (the same level; the seasonal effects of those weeks, taken from the years before
   them), so ``actual - backcast`` is what the level misses lately.
2. **Level correction.** Per series, the exponentially weighted mean of those residuals (weight
   ``(1 - alpha) ** j`` for the week ``j`` weeks before the origin). Weight 0 for weeks that are
   calendar-sensitive (:func:`retail_forecasting.calendar.calendar_sensitive`: within a week of
   a Kaggle holiday week, or in Dec 10 .. Jan 7; a holiday miss is not a level), weeks without a
   seasonal source a season earlier (there the backcast is the level, and the residual would be
   the season itself), and weeks before a series' first row. No week left: no correction.
3. **Damped.** Step ``h`` gets ``damping ** (h - 1)`` times the correction: a recent shift is
   trusted for the next weeks and fades toward the year-long level further out.

``weeks: 0`` turns it off. It is per series and the backcast is the model's own, so a forecaster
that is per department stays per department (:mod:`.partitioned`). Only the history is read:
nothing after the cutoff can leak in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from retail_forecasting.calendar import calendar_sensitive
from retail_forecasting.forecasting.contract import ID_COLUMNS, TIME_COLUMN
from retail_forecasting.forecasting.history import WEEK, History


def recent_weeks(history: History, weeks: int) -> np.ndarray:
    """Week indices of the last ``weeks`` weeks of the history (fewer if it is shorter)."""
    last = history.origin_week
    return np.arange(max(last - weeks + 1, 0), last + 1)


def recent_rows(history: History, weeks: int) -> pd.DataFrame:
    """store, dept, date of every series of the history at each of its last ``weeks`` weeks,
    series-major: row ``i * k + j`` is series ``i`` at recent week ``j`` (``k`` weeks)."""
    index = recent_weeks(history, weeks)
    dates = pd.DatetimeIndex([history.start + WEEK * int(w) for w in index])
    ids = history.series.to_frame(index=False)
    return pd.DataFrame(
        {
            **{c: np.repeat(ids[c].to_numpy(), len(index)) for c in ID_COLUMNS},
            TIME_COLUMN: np.tile(dates.values, len(ids)),
        }
    )


def level_correction(
    history: History, backcast: np.ndarray, weeks: int, alpha: float, season: int
) -> np.ndarray:
    """Per series of the history: the weighted mean of ``actual - backcast`` over its last
    ``weeks`` weeks (``backcast`` in :func:`recent_rows`' order; weights in the module
    docstring); 0 where no week counts."""
    index = recent_weeks(history, weeks)
    n, k = len(history.series), len(index)
    actual = history.y[:, index]
    weight = np.tile((1.0 - alpha) ** np.arange(k - 1, -1, -1, dtype=float), (n, 1))
    dates = pd.DatetimeIndex([history.start + WEEK * int(w) for w in index])
    weight[:, calendar_sensitive(dates)] = 0.0
    weight[index[None, :] - season < history.first_week[:, None]] = 0.0  # no seasonal source
    weight[np.isnan(actual)] = 0.0
    residual = np.where(weight > 0, actual - np.reshape(backcast, (n, k)), 0.0)
    total = weight.sum(axis=1)
    return np.where(total > 0, (weight * residual).sum(axis=1) / np.where(total > 0, total, 1), 0)


def corrected(
    history: History,
    future: pd.DataFrame,
    base: Callable[[pd.DataFrame], np.ndarray],
    weeks: int,
    alpha: float,
    damping: float,
    season: int,
) -> np.ndarray:
    """``base(future)`` plus each series' damped level correction (0 for unseen series).

    ``base(rows)`` is the uncorrected forecast of ``rows`` (store, dept, date) from the
    history's cutoff; it is called once, on the future rows and the recent rows together."""
    if weeks <= 0:
        return np.asarray(base(future), dtype=float)
    past = recent_rows(history, weeks)
    both = pd.concat([future[[*ID_COLUMNS, TIME_COLUMN]], past], ignore_index=True)
    values = np.asarray(base(both), dtype=float)
    ahead, backcast = values[: len(future)], values[len(future) :]
    correction = level_correction(history, backcast, weeks, alpha, season)
    series = history.series_index(future)
    step = history.week_index(future[TIME_COLUMN]) - history.origin_week
    shift = np.where(series >= 0, correction[np.maximum(series, 0)], 0.0)
    return ahead + shift * damping ** np.maximum(step - 1, 0)
