"""The retail calendar shared by the generator, the features and the baselines.

Kaggle's weeks run Saturday..Friday and are labelled by their Friday; a holiday week is the
week that contains the holiday (``IsHoliday``).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from dateutil.easter import easter

FRIDAY = 4
HOLIDAYS = ("Super_Bowl", "Labor_Day", "Thanksgiving", "Christmas")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) given weekday (Monday=0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def holiday_dates(year: int) -> dict[str, date]:
    """The days of the four Kaggle holidays in a year.

    Super Bowl Sunday is the first Sunday of February up to 2021 (true since 2004) and the second
    Sunday from 2022 (17-game NFL season); Labor Day is the first Monday of September,
    Thanksgiving the fourth Thursday of November, Christmas December 25.
    """
    return {
        "Super_Bowl": _nth_weekday(year, 2, 6, 1 if year < 2022 else 2),
        "Labor_Day": _nth_weekday(year, 9, 0, 1),
        "Thanksgiving": _nth_weekday(year, 11, 3, 4),
        "Christmas": date(year, 12, 25),
    }


def week_ending_friday(day: date) -> date:
    """The Kaggle week of a day: weeks run Saturday..Friday and are labelled by their Friday."""
    return day + timedelta(days=(FRIDAY - day.weekday()) % 7)


def holiday_fridays(year: int) -> dict[str, date]:
    """Kaggle's IsHoliday Fridays of a year: the Friday ending the week that contains the holiday.

    Reproduces Kaggle's 2010-2013 dates, e.g. Super Bowl 2010-02-12, Labor Day 2010-09-10,
    Thanksgiving 2010-11-26, Christmas 2010-12-31.
    """
    return {name: week_ending_friday(day) for name, day in holiday_dates(year).items()}


# --------------------------------------------------------------------------- vectorised helpers
# These work on the handful of unique weeks of a panel (a loop over weeks, never over series).


HOLIDAY_SLUGS = {
    "Super_Bowl": "super_bowl",
    "Labor_Day": "labor_day",
    "Thanksgiving": "thanksgiving",
    "Christmas": "christmas",
}


def holiday_weeks(years: range | list[int]) -> pd.DataFrame:
    """One row per (holiday, year): the Friday of the holiday week (Kaggle's IsHoliday week)."""
    rows = [
        {"holiday": name, "year": year, "friday": pd.Timestamp(friday)}
        for year in years
        for name, friday in holiday_fridays(year).items()
    ]
    return pd.DataFrame(rows)


def _nearest_holiday_offsets(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Signed weeks from each date to the nearest week of each holiday (negative = before)."""
    years = range(dates.year.min() - 1, dates.year.max() + 2)
    table = holiday_weeks(years)
    out = {}
    values = dates.values.astype("datetime64[D]")
    for name in HOLIDAYS:
        fridays = np.sort(
            table.loc[table["holiday"] == name, "friday"].values.astype("datetime64[D]")
        )
        diffs = (values[:, None] - fridays[None, :]).astype(np.int64) // 7  # weeks after holiday
        nearest = np.abs(diffs).argmin(axis=1)
        out[name] = diffs[np.arange(len(values)), nearest]
    return out


def pre_christmas_days(dates: pd.DatetimeIndex) -> np.ndarray:
    """Days of each week (Saturday..Friday ending at the date) that fall on December 18-24.

    The last seven shopping days before Christmas carry the December peak. They fall into one
    Kaggle week in some years (2010: the week ending Dec 24) and straddle two in others
    (2012: four in the week ending Dec 21, three in the week ending Dec 28): this is why the
    peak moves between weeks from year to year.
    """
    out = np.zeros(len(dates), dtype=np.int64)
    for back in range(7):
        day = dates - pd.Timedelta(days=back)
        out += ((day.month == 12) & (day.day >= 18) & (day.day <= 24)).astype(np.int64)
    return out


def calendar_features(dates: pd.DatetimeIndex, holiday_window: int) -> pd.DataFrame:
    """Calendar features of week-ending dates, indexed by date.

    ``weeks_to_<holiday>``: signed weeks to the nearest week of that holiday, clipped to
    ``±(holiday_window + 1)`` (the clip value means "not near"); ``pre_christmas_days``: see
    :func:`pre_christmas_days`.
    """
    dates = pd.DatetimeIndex(pd.unique(dates)).sort_values()
    frame = pd.DataFrame(
        {
            "week_of_year": dates.isocalendar().week.to_numpy(dtype=np.int64),
            "month": dates.month.to_numpy(dtype=np.int64),
            "year": dates.year.to_numpy(dtype=np.int64),
            "day_of_year": dates.dayofyear.to_numpy(dtype=np.int64),
            "pre_christmas_days": pre_christmas_days(dates),
        },
        index=dates,
    )
    limit = holiday_window + 1
    for name, offsets in _nearest_holiday_offsets(dates).items():
        frame[f"weeks_to_{HOLIDAY_SLUGS[name]}"] = np.clip(-offsets, -limit, limit)
    return frame


def aligned_previous_year(dates: pd.DatetimeIndex, holiday_window: int) -> pd.Series:
    """For each week, the week one year earlier in the same position relative to a holiday.

    Weeks within ``holiday_window`` weeks of a holiday week map to the same offset from that
    holiday's week in the previous year (so Thanksgiving maps to Thanksgiving, Christmas to
    Christmas, even in years where the holiday week moves by 53 weeks); other weeks map to the
    date 52 weeks earlier.
    """
    dates = pd.DatetimeIndex(pd.unique(dates)).sort_values()
    aligned = dates - pd.Timedelta(weeks=52)
    offsets = _nearest_holiday_offsets(dates)
    years = range(dates.year.min() - 2, dates.year.max() + 2)
    table = holiday_weeks(years).set_index(["holiday", "year"])["friday"]
    result = aligned.to_numpy().copy()
    for name, offset in offsets.items():
        near = np.abs(offset) <= holiday_window
        if not near.any():
            continue
        holiday_friday = dates[near] - pd.to_timedelta(offset[near] * 7, unit="D")
        previous = table.reindex(
            pd.MultiIndex.from_arrays([[name] * near.sum(), holiday_friday.year - 1])
        ).to_numpy()
        result[near] = previous + (offset[near] * 7).astype("timedelta64[D]")
    return pd.Series(pd.DatetimeIndex(result), index=dates)


def easter_fridays(years: np.ndarray) -> np.ndarray:
    """Label (Good Friday, datetime64[D]) of the Easter shopping week of each year."""
    unique, inverse = np.unique(years, return_inverse=True)
    fridays = np.array([np.datetime64(easter(int(y)) - timedelta(days=2), "D") for y in unique])
    return fridays[inverse].reshape(np.shape(years))


def christmas_season(dates: pd.DatetimeIndex) -> np.ndarray:
    """Weeks ending December 10 .. January 7: the Christmas shopping weeks and the one after."""
    return np.asarray(
        ((dates.month == 12) & (dates.day >= 10)) | ((dates.month == 1) & (dates.day <= 7))
    )


def calendar_sensitive(dates: pd.DatetimeIndex) -> np.ndarray:
    """Weeks within one week of a Kaggle holiday week, or in the Christmas season (not smoothed)."""
    day = dates.values.astype("datetime64[D]")
    years = range(dates.year.min() - 1, dates.year.max() + 2)
    fridays = np.array([np.datetime64(f, "D") for y in years for f in holiday_fridays(y).values()])
    near = (np.abs(day[:, None] - fridays[None, :]).astype(np.int64) // 7 <= 1).any(axis=1)
    return near | christmas_season(dates)
