"""The generative model: calendar, stores, departments, store-week features and weekly sales.

Everything is vectorised with numpy; the only Python loops run over years, holidays, weeks of an
AR(1) recursion and fixed-size chunks of series. Independent random streams are keyed
``(seed, stream[, chunk])`` so the output depends on the configuration only. Holidays (Kaggle's
four, Easter through ``dateutil``) come from :mod:`retail_forecasting.calendar`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from dateutil.easter import easter

from retail_forecasting.calendar import holiday_dates, holiday_fridays
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS
from retail_forecasting.synthetic.config import (
    DEPT_KIND_SHARES,
    PAIRS_PER_CHUNK,
    STREAM_DEPTS,
    STREAM_FEATURES,
    STREAM_PAIRS,
    STREAM_SALES,
    STREAM_STORES,
    SyntheticConfig,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Calendar:
    """Weekly calendar of the generated period and the day-by-day event model."""

    fridays: pd.DatetimeIndex  # all weeks: history + future
    date_str: np.ndarray  # 'YYYY-MM-DD' per week (object array)
    is_holiday: np.ndarray  # bool per week
    years: np.ndarray  # years since start, per week (float)
    doy: np.ndarray  # day of year of the Wednesday in the middle of each week
    base: np.ndarray  # weekly multiplier common to all depts (open days, month, small events)
    xmas: np.ndarray  # weekly extra of Christmas shopping (scaled per dept)
    thanks: np.ndarray  # weekly extra of Thanksgiving/Black Friday shopping (scaled per dept)


# daily level of an ordinary day per month (post-holiday January dip, back-to-school, ...)
_MONTH_LEVEL = np.array(
    [0.0, -0.115, 0.005, -0.035, -0.035, -0.015, 0.02, -0.03, 0.0, -0.07, -0.045, -0.01, -0.025]
)


def _build_calendar(cfg: SyntheticConfig) -> _Calendar:
    """Weeks, holiday flags and the calendar-driven multipliers (loops only over years)."""
    n_all = cfg.n_weeks + cfg.n_future_weeks
    start = pd.Timestamp(cfg.start)
    fridays = pd.DatetimeIndex(start + pd.to_timedelta(7 * np.arange(n_all), unit="D"))
    days = pd.date_range(start - pd.Timedelta(days=6), fridays[-1], freq="D")
    n_days = len(days)
    day0 = days[0].date()

    def pos(d: date) -> int:
        return (d - day0).days

    flagged = {
        f
        for year in range(fridays[0].year, fridays[-1].year + 1)
        for f in holiday_fridays(year).values()
    }
    is_holiday = np.isin(fridays.date, list(flagged))

    month = days.month.to_numpy()
    dom = days.day.to_numpy()
    open_ = np.ones(n_days)
    level = 1.0 + _MONTH_LEVEL[month]
    level += np.where(dom <= 7, 0.06, 0.0)  # paychecks / benefits at the start of the month
    xmas = np.zeros(n_days)
    dec = (month == 12) & (dom <= 24)
    xmas[dec] = 0.06 + 0.98 * np.exp(-(24 - dom[dec]) / 8.5)
    thanks = np.zeros(n_days)

    def add(arr: np.ndarray, first: date, values: Sequence[float]) -> None:
        for k, v in enumerate(values):
            p = pos(first + timedelta(days=k))
            if 0 <= p < n_days:
                arr[p] += v

    for year in range(days[0].year, days[-1].year + 1):
        hol = holiday_dates(year)
        p = pos(hol["Christmas"])
        if 0 <= p < n_days:
            open_[p] = 0.0  # stores closed on Christmas day
        tg = hol["Thanksgiving"]
        add(thanks, tg - timedelta(days=1), [0.25, 0.05, 2.65, 0.35, 0.1])  # Wed..Sun
        add(level, hol["Super_Bowl"] - timedelta(days=2), [0.10, 0.18, 0.08])  # Fri..Sun
        add(level, hol["Labor_Day"] - timedelta(days=2), [0.12, 0.10, 0.10])  # Sat..Mon
        add(level, easter(year) - timedelta(days=6), [0.08] * 6)  # Mon..Sat before Easter
        add(level, date(year, 7, 1), [0.10, 0.12, 0.15, 0.05])  # Independence Day

    def weekly(daily: np.ndarray) -> np.ndarray:
        return (open_ * daily).reshape(n_all, 7).mean(axis=1)

    mid = fridays - pd.Timedelta(days=2)
    return _Calendar(
        fridays=fridays,
        date_str=np.asarray(fridays.strftime("%Y-%m-%d"), dtype=object),
        is_holiday=is_holiday,
        years=(fridays - start).days.to_numpy() / 365.25,
        doy=mid.dayofyear.to_numpy().astype(float),
        base=weekly(level),
        xmas=weekly(xmas),
        thanks=weekly(thanks),
    )


def _type_counts(n: int, shares: Sequence[float]) -> np.ndarray:
    """Split n stores over A/B/C by largest remainder (22/17/6 for 45 with the default shares)."""
    s = np.asarray(shares, dtype=float)
    raw = n * s / s.sum()
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


@dataclass(frozen=True)
class _Stores:
    """Per-store parameters (arrays indexed by store position)."""

    ids: np.ndarray
    type_code: np.ndarray  # 0=A, 1=B, 2=C
    size: np.ndarray
    scale: np.ndarray  # sales multiplier
    trend: np.ndarray  # yearly log-growth
    region: np.ndarray
    n_regions: int


def _make_stores(cfg: SyntheticConfig) -> _Stores:
    """Store types, sizes, sales scale, trend and region."""
    rng = np.random.default_rng([cfg.seed, STREAM_STORES])
    n = cfg.n_stores
    type_code = rng.permutation(np.repeat(np.arange(3), _type_counts(n, cfg.type_shares)))
    size_a = 151_000 + 69_000 * rng.beta(2.2, 1.0, n)  # mostly ~200k, 151k-220k
    size_b = 34_800 + 105_500 * rng.beta(1.8, 1.3, n)  # 35k-140k
    size_c = 34_900 + 10_000 * rng.beta(2.0, 2.0, n)  # 35k-45k
    size = np.choose(type_code, [size_a, size_b, size_c]).round().astype(np.int64)
    scale = (size / 150_000.0) ** 0.6 * rng.lognormal(0.0, 0.22, n)
    trend = rng.normal(0.0, cfg.trend_sd, n)
    trend += cfg.growth - np.average(trend, weights=scale)  # all-store growth = cfg.growth
    n_regions = max(1, round(n / 3.5))
    region = rng.integers(0, n_regions, n)
    return _Stores(np.arange(1, n + 1), type_code, size, scale, trend, region, n_regions)


def _stores_frame(stores: _Stores) -> pd.DataFrame:
    """stores.csv as a DataFrame."""
    return pd.DataFrame(
        {
            "Store": stores.ids.astype(np.int64),
            "Type": pd.array(np.array(["A", "B", "C"], dtype=object)[stores.type_code], "str"),
            "Size": stores.size.astype(np.int64),
        }
    )


@dataclass(frozen=True)
class _Depts:
    """Per-department parameters (arrays indexed by dept position)."""

    ids: np.ndarray
    base: np.ndarray  # typical weekly sales in a reference (150k sq ft) store
    price: np.ndarray  # average value of one sale ("ticket")
    prevalence: np.ndarray  # probability a store carries the dept
    big_store_only: np.ndarray  # absent from type C stores
    kappa: np.ndarray  # strength of the yearly seasonality (von Mises concentration)
    peak_doy: np.ndarray
    h_xmas: np.ndarray  # relative sensitivity to Christmas shopping
    h_thanks: np.ndarray  # relative sensitivity to Black Friday
    return_rate: np.ndarray
    noise_sd: np.ndarray
    trend: np.ndarray
    md_beta: np.ndarray  # sales uplift per unit of log markdown spend


def _make_depts(cfg: SyntheticConfig) -> _Depts:
    """Department scales, prices, seasonality, holiday sensitivity and coverage."""
    rng = np.random.default_rng([cfg.seed, STREAM_DEPTS])
    n = cfg.n_depts
    if cfg.dept_id_gaps:
        max_id = max(n, round(n * 99 / 81))
        ids = np.sort(rng.choice(np.arange(1, max_id + 1), size=n, replace=False))
    else:
        ids = np.arange(1, n + 1)
    # three kinds of department (stratified, so every seed has the same mix): core (~$15k a
    # week in a reference store), small (~$400, lumpy: few but larger tickets), tiny (~$8)
    kind = rng.permutation(np.repeat(np.arange(3), _type_counts(n, DEPT_KIND_SHARES)))
    base = np.choose(
        kind,
        [
            rng.lognormal(np.log(15_000.0), 1.0, n).clip(800.0, 90_000.0),
            rng.lognormal(np.log(400.0), 1.1, n),
            rng.lognormal(np.log(8.0), 1.2, n),
        ],
    )
    # value of one sale ("ticket"): sales come as a Poisson number of tickets
    price = np.choose(
        kind,
        [
            rng.lognormal(np.log(12.0), 0.6, n),
            rng.lognormal(np.log(70.0), 0.9, n),
            rng.lognormal(np.log(13.0), 0.6, n),
        ],
    ).clip(1.0, 1_000.0)
    u = rng.random(n)
    rare = u < cfg.rare_dept_share
    partial = (u >= cfg.rare_dept_share) & (u < cfg.rare_dept_share + 0.10)
    prevalence = np.where(
        rare, rng.uniform(0.02, 0.5, n), np.where(partial, rng.uniform(0.75, 0.97, n), 1.0)
    )
    big_store_only = rng.random(n) < 0.15
    u_season = rng.random(n)
    seasonal = u_season < 0.10  # strongly seasonal (garden, Christmas decorations, ...)
    kappa = np.select(
        [seasonal, u_season < 0.30],
        [rng.uniform(1.0, 2.5, n), rng.uniform(0.3, 0.9, n)],
        rng.uniform(0.0, 0.35, n),
    )
    peak_doy = np.where(
        seasonal & (rng.random(n) < 0.5), rng.normal(350.0, 6.0, n), rng.uniform(0, 365.25, n)
    )
    raw_x = rng.lognormal(0.0, 0.75, n)
    raw_t = raw_x**0.6 * rng.lognormal(0.0, 0.5, n)
    h_xmas, h_thanks = raw_x, raw_t  # rescaled by actual dept sales in _dept_time_effects
    # one or two tiny, rarely active departments where returns dominate (like real dept 47)
    tiny = np.flatnonzero(kind == 2)
    heavy = np.isin(np.arange(n), rng.permutation(tiny)[: max(1, round(0.012 * n))])
    base = np.where(heavy, rng.lognormal(np.log(1.0), 0.3, n), base)
    return_rate = np.where(
        heavy, rng.uniform(0.6, 1.0, n), cfg.return_rate * rng.lognormal(-0.125, 0.5, n)
    )
    noise_sd = cfg.noise_sd * rng.lognormal(-0.1, 0.5, n)
    trend = rng.normal(0.0, cfg.trend_sd, n)
    trend -= np.average(trend, weights=base)  # depts redistribute, stores carry the growth
    md_beta = cfg.markdown_effect * rng.uniform(0.0, 2.0, n)
    return _Depts(
        ids, base, price, prevalence, big_store_only, kappa, peak_doy, h_xmas, h_thanks,
        return_rate, noise_sd, trend, md_beta,
    )  # fmt: skip


def _ar1(rng: np.random.Generator, n_series: int, n_steps: int, phi: float) -> np.ndarray:
    """Standardised AR(1) paths, shape (n_series, n_steps); loops over steps, not series."""
    z = rng.standard_normal((n_steps, n_series))
    scale = np.sqrt(1.0 - phi * phi)
    for t in range(1, n_steps):
        z[t] = phi * z[t - 1] + scale * z[t]
    return z.T


def _markdown_profiles(cal: _Calendar, rng: np.random.Generator) -> np.ndarray:
    """National weekly multipliers of the five markdown types, shape (5, n_weeks)."""
    n = len(cal.fridays)
    prof = np.ones((5, n))
    promo = rng.random(n) < 0.10  # national promotion weeks (MarkDown1/4 spikes)
    prof[0, promo] *= 4.0
    prof[3, promo] *= 6.0
    dates = cal.fridays.date
    for year in range(cal.fridays[0].year, cal.fridays[-1].year + 1):
        hol = holiday_fridays(year)
        tg = np.flatnonzero(dates == hol["Thanksgiving"])
        xm = np.flatnonzero(dates == hol["Christmas"])
        for i in tg:
            prof[2, i] *= 1500.0  # Black Friday clearance
            prof[[0, 3], i] *= 0.06
            if i + 1 < n:
                prof[2, i + 1] *= 40.0
            prof[4, i + 1 : i + 4] *= 3.0
        for i in xm:
            for k, mult in enumerate([100.0, 60.0, 25.0, 10.0, 4.0]):  # after-Christmas sales
                if i + k < n:
                    prof[1, i + k] *= mult
    return prof


@dataclass(frozen=True)
class _Features:
    """features.csv and the latent promotion intensity that feeds into sales."""

    frame: pd.DataFrame
    promo: np.ndarray  # (n_stores, n_weeks) centred log markdown spend, drives sales a little


def _make_features(cfg: SyntheticConfig, cal: _Calendar, stores: _Stores) -> _Features:
    """features.csv: weather, fuel, markdowns, CPI, unemployment per store and week."""
    rng = np.random.default_rng([cfg.seed, STREAM_FEATURES])
    n_s, n_w, n_r = cfg.n_stores, len(cal.fridays), stores.n_regions
    reg = stores.region
    yrs = cal.years

    # temperature (F): regional climate + regional weather + store noise
    t_mean = rng.uniform(38.0, 76.0, n_r)
    t_amp = np.clip(30.0 - 0.28 * (t_mean - 38.0) + rng.normal(0.0, 2.0, n_r), 6.0, 32.0)
    season = np.cos(2 * np.pi * (cal.doy - 200.0) / 365.25)
    weather = 5.0 * _ar1(rng, n_r, n_w, 0.5)
    temp = (
        (t_mean[:, None] + t_amp[:, None] * season[None, :] + weather)[reg]
        + rng.normal(0.0, 1.5, (n_s, 1))
        + rng.normal(0.0, 1.5, (n_s, n_w))
    )

    # fuel price ($/gal): national path with momentum and mean reversion, regional offsets
    steps = rng.normal(0.0, 0.01, n_w)
    x = np.empty(n_w)
    v, x_prev = 0.0, np.log(2.68)
    for t in range(n_w):  # one loop over weeks (a single national series)
        target = np.log(2.75) + np.log(3.7 / 2.75) * min(yrs[t] / 1.4, 1.0)  # 2010-11 rise
        v = 0.75 * v + steps[t] - 0.04 * (x_prev - target)
        x_prev = x_prev + v
        x[t] = x_prev
    fuel = np.exp(x)[None, :] * np.exp(rng.normal(0.0, 0.045, n_r))[reg][:, None]
    fuel = fuel + rng.normal(0.0, 0.004, (n_s, n_w))

    # CPI: monthly regional index (two index bases like the real data), linearly interpolated
    f0 = cal.fridays[0]
    month_pos = (
        (cal.fridays.year - f0.year) * 12
        + (cal.fridays.month - f0.month)
        + (cal.fridays.day - 1) / cal.fridays.days_in_month
    ).to_numpy()
    n_m = int(np.ceil(month_pos.max())) + 2
    low = np.isin(np.arange(n_r), rng.permutation(n_r)[: round(0.4 * n_r)])
    cpi0 = np.where(low, rng.uniform(125.0, 136.0, n_r), rng.uniform(180.0, 215.0, n_r))
    growth = rng.normal(0.022, 0.004, n_r)
    wiggle = np.cumsum(rng.normal(0.0, 0.0015, (n_r, n_m)), axis=1)
    cpi_m = cpi0[:, None] * np.exp(growth[:, None] * np.arange(n_m) / 12.0 + wiggle)
    i0 = np.floor(month_pos).astype(int)
    frac = month_pos - i0
    cpi = (cpi_m[:, i0] * (1 - frac) + cpi_m[:, i0 + 1] * frac)[reg]

    # unemployment (%): quarterly steps, regional level, slowly falling after the recession
    quarter = np.arange(n_w) // 13
    n_q = quarter[-1] + 1
    u_level = rng.uniform(4.5, 11.5, n_r)
    u_path = (
        u_level[:, None]
        - 0.45 * (np.arange(n_q) / 4.0)
        + np.cumsum(rng.normal(0.0, 0.18, (n_r, n_q)), axis=1)
    )
    unemp = np.clip(u_path[reg][:, quarter] + rng.normal(0.0, 0.35, (n_s, 1)), 3.0, 15.0)

    # markdowns: size-scaled, event-timed latent promotion spend (recorded only from a date)
    md_median = np.array([4_700.0, 230.0, 30.0, 1_150.0, 2_700.0])
    md_sd = np.array([0.9, 1.2, 1.2, 1.1, 0.7])
    prof = _markdown_profiles(cal, rng)
    store_md = (stores.size / 150_000.0) * rng.lognormal(0.0, 0.2, n_s)
    md = (
        md_median[:, None, None]
        * prof[:, None, :]
        * store_md[None, :, None]
        * np.exp(md_sd[:, None, None] * rng.standard_normal((5, n_s, n_w)))
    )
    spend = np.log1p(md.sum(axis=0) / (store_md[:, None] * 10_000.0))
    promo = spend - spend.mean(axis=1, keepdims=True)
    neg = (rng.random((5, n_s, n_w)) < 0.004) & np.isin(np.arange(5), [1, 2])[:, None, None]
    md = np.where(neg, -rng.uniform(0.01, 20.0, md.shape), md)
    recorded = np.asarray(cal.fridays >= pd.Timestamp(cfg.markdown_start))
    p_cell = np.array([0.012, 0.15, 0.10, 0.14, 0.01])[:, None, None]
    p_week = np.array([0.005, 0.15, 0.02, 0.01, 0.0])[:, None, None]
    missing = (rng.random((5, n_s, n_w)) < p_cell) | (rng.random((5, 1, n_w)) < p_week)
    md = np.where(missing | ~recorded[None, None, :], np.nan, md)

    tail = min(cfg.macro_missing_weeks, cfg.n_future_weeks)
    if tail:
        cpi[:, -tail:] = np.nan
        unemp[:, -tail:] = np.nan

    def flat(a: np.ndarray, decimals: int) -> np.ndarray:
        return np.round(a.reshape(-1), decimals) + 0.0

    frame = pd.DataFrame(
        {
            "Store": np.repeat(stores.ids, n_w).astype(np.int64),
            "Date": pd.array(np.tile(cal.date_str, n_s), dtype="str"),
            "Temperature": flat(temp, 2),
            "Fuel_Price": flat(fuel, 3),
            **{c: flat(md[k], 2) for k, c in enumerate(MARKDOWN_COLUMNS)},
            "CPI": flat(cpi, 7),
            "Unemployment": flat(unemp, 3),
            "IsHoliday": np.tile(cal.is_holiday, n_s),
        }
    )
    return _Features(frame, promo)


@dataclass(frozen=True)
class _Pairs:
    """Existing (store, dept) series, sorted by store then dept."""

    store: np.ndarray  # store position (0-based) per existing (store, dept) series
    dept: np.ndarray  # dept position (0-based)
    level: np.ndarray  # expected weekly sales before time effects
    trend: np.ndarray
    first: np.ndarray  # first and last week (inclusive) the series is open
    last: np.ndarray


def _make_pairs(cfg: SyntheticConfig, stores: _Stores, depts: _Depts) -> _Pairs:
    """Which store carries which dept, at which level, and when the series opens/closes."""
    rng = np.random.default_rng([cfg.seed, STREAM_PAIRS])
    n_s, n_d, n_w = cfg.n_stores, cfg.n_depts, cfg.n_weeks
    present = rng.random((n_s, n_d)) < depts.prevalence[None, :]
    present &= ~((stores.type_code == 2)[:, None] & depts.big_store_only[None, :])
    s, d = np.nonzero(present)  # sorted by store, then dept
    n = len(s)
    level = depts.base[d] * stores.scale[s] * rng.lognormal(0.0, 0.45, n)
    trend = stores.trend[s] + depts.trend[d] + rng.normal(0.0, cfg.trend_sd / 2, n)
    # openings and closings hit mostly small series (as in the real data)
    weight = 1.0 / (1.0 + level / 1_000.0)
    weight /= weight.mean()
    p_late = np.minimum(cfg.late_start_share * weight, 0.9)
    p_early = np.minimum(cfg.early_end_share * weight, 0.9)
    first = np.where(rng.random(n) < p_late, rng.integers(1, max(n_w, 2), n), 0)
    last = np.where(rng.random(n) < p_early, rng.integers(0, max(n_w - 1, 1), n), n_w - 1)
    first, last = np.minimum(first, last), np.maximum(first, last)
    return _Pairs(s, d, level, trend, first.clip(0, n_w - 1), last.clip(0, n_w - 1))


def _dept_time_effects(
    depts: _Depts, cal: _Calendar, n_weeks: int, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Dept log-seasonality and calendar-event multipliers, each shape (n_depts, n_weeks).

    Seasonality: von Mises shapes (mean of exp = 1 over a year) divided by their sales-weighted
    (`weight`) mean, so departments only redistribute sales over the year.  Holiday
    sensitivities are scaled to a sales-weighted mean of 1.  The all-store total then follows
    the calendar model (`_MONTH_LEVEL` and events) whatever the seed.
    """
    w = weight if weight.sum() > 0 else np.ones_like(weight)
    angle = 2 * np.pi * (cal.doy[None, :n_weeks] - depts.peak_doy[:, None]) / 365.25
    shape = depts.kappa[:, None] * np.cos(angle) - np.log(np.i0(depts.kappa))[:, None]
    common = np.log(np.average(np.exp(shape), axis=0, weights=w))
    h_x = depts.h_xmas / np.average(depts.h_xmas, weights=w)
    h_t = depts.h_thanks / np.average(depts.h_thanks, weights=w)
    event = (
        cal.base[None, :n_weeks]
        + h_x[:, None] * cal.xmas[None, :n_weeks]
        + h_t[:, None] * cal.thanks[None, :n_weeks]
    )
    return shape - common[None, :], event


def _sales_chunk(
    rng: np.random.Generator,
    idx: np.ndarray,
    pairs: _Pairs,
    depts: _Depts,
    cal: _Calendar,
    season: np.ndarray,
    event: np.ndarray,
    promo: np.ndarray,
    n_weeks: int,
    drift_sd: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly sales of a chunk of series; returns (series index, week index, sales) of the rows."""
    d, s = pairs.dept[idx], pairs.store[idx]
    weeks = np.arange(n_weeks)
    log_mu = (
        np.log(pairs.level[idx])[:, None]
        + pairs.trend[idx][:, None] * cal.years[None, :n_weeks]
        + season[d]
        + np.log(event[d])
        + depts.md_beta[d][:, None] * promo[s, :n_weeks]
        + depts.noise_sd[d][:, None] * _ar1(rng, len(idx), n_weeks, 0.5)
        - 0.5 * depts.noise_sd[d][:, None] ** 2  # mean-one noise
    )
    # slow random-walk drift of the level, centred per series, with its variance profile
    # removed so the expected level stays flat
    drift = np.cumsum(rng.normal(0.0, drift_sd, (len(idx), n_weeks)), axis=1)
    centred = np.tril(np.ones((n_weeks, n_weeks))) - np.tri(n_weeks).mean(axis=0)
    log_mu += drift - drift.mean(axis=1, keepdims=True)
    log_mu -= 0.5 * drift_sd**2 * (centred**2).sum(axis=1)[None, :]
    lam = np.exp(log_mu) / depts.price[d][:, None]
    sold = rng.poisson(lam)
    # returns follow sales with a lag of a few weeks (after-Christmas returns of seasonal goods)
    lagged = np.empty_like(lam)
    lagged[:, 0] = lam[:, 0]
    for t in range(1, n_weeks):
        lagged[:, t] = 0.65 * lagged[:, t - 1] + 0.35 * lam[:, t - 1]
    returned = rng.poisson(lagged * depts.return_rate[d][:, None])
    price = depts.price[d][:, None] * rng.lognormal(0.0, 0.04, lam.shape)
    value = np.round((sold - returned) * price, 2) + 0.0
    open_ = (weeks[None, :] >= pairs.first[idx][:, None]) & (
        weeks[None, :] <= pairs.last[idx][:, None]
    )
    row = open_ & ((sold > 0) | (returned > 0))
    pi, wi = np.nonzero(row)
    return idx[pi].astype(np.int32), wi.astype(np.int32), value[pi, wi]


def _make_sales(
    cfg: SyntheticConfig,
    cal: _Calendar,
    stores: _Stores,
    depts: _Depts,
    pairs: _Pairs,
    promo: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """train.csv rows (sorted by Store, Dept, Date) and per-series row counts."""
    n_w = cfg.n_weeks
    weight = np.bincount(pairs.dept, weights=pairs.level, minlength=cfg.n_depts)
    season, event = _dept_time_effects(depts, cal, n_w, weight)
    parts = []
    n_pairs = len(pairs.store)
    for c, lo in enumerate(range(0, n_pairs, PAIRS_PER_CHUNK)):
        rng = np.random.default_rng([cfg.seed, STREAM_SALES, c])
        idx = np.arange(lo, min(lo + PAIRS_PER_CHUNK, n_pairs))
        parts.append(
            _sales_chunk(rng, idx, pairs, depts, cal, season, event, promo, n_w, cfg.level_drift_sd)
        )
    pi = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    wi = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
    val = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    del parts
    train = pd.DataFrame(
        {
            "Store": stores.ids[pairs.store[pi]].astype(np.int64),
            "Dept": depts.ids[pairs.dept[pi]].astype(np.int64),
            "Date": _date_column(cal.date_str, wi),
            "Weekly_Sales": val.astype(np.float64),
            "IsHoliday": cal.is_holiday[wi],
        }
    )
    return train, np.bincount(pi, minlength=n_pairs)


def _make_test(
    cfg: SyntheticConfig,
    cal: _Calendar,
    stores: _Stores,
    depts: _Depts,
    pairs: _Pairs,
    rows_per_pair: np.ndarray,
) -> pd.DataFrame:
    """test.csv: series still open at the end of history (and seen in train) x future weeks."""
    active = np.flatnonzero((pairs.last == cfg.n_weeks - 1) & (rows_per_pair > 0))
    n_f = cfg.n_future_weeks
    wi = np.tile(np.arange(cfg.n_weeks, cfg.n_weeks + n_f, dtype=np.int32), len(active))
    pi = np.repeat(active, n_f)
    return pd.DataFrame(
        {
            "Store": stores.ids[pairs.store[pi]].astype(np.int64),
            "Dept": depts.ids[pairs.dept[pi]].astype(np.int64),
            "Date": _date_column(cal.date_str, wi),
            "IsHoliday": cal.is_holiday[wi],
        }
    )


def _date_column(date_str: np.ndarray, week_idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The 'YYYY-MM-DD' strings of week indices as pandas' ``str`` dtype (what read_csv gives)."""
    if getattr(pd.api.types.pandas_dtype("str"), "storage", None) != "pyarrow":
        return pd.array(date_str[week_idx], dtype="str")  # pragma: no cover (pandas<3/no arrow)
    import pyarrow as pa  # fast path: decode a dictionary array instead of 4M Python objects

    dictionary = pa.array(list(date_str), pa.large_string())
    strings = pa.DictionaryArray.from_arrays(pa.array(week_idx, pa.int32()), dictionary)
    return pd.array(strings.cast(pa.large_string()), dtype="str")


def generate(config: SyntheticConfig | None = None) -> dict[str, pd.DataFrame]:
    """Return {"train", "features", "stores", "test"} DataFrames shaped like the Kaggle CSVs.

    Columns and dtypes are those ``pandas.read_csv`` gives for the Kaggle files: Store/Dept/Size
    int64, Date ``str`` ('YYYY-MM-DD'), IsHoliday bool, Type ``str``, the rest float64 (NaN for
    missing cells).  Rows are sorted like Kaggle's (Store, Dept, Date).  Same config, same data.
    """
    t0 = time.perf_counter()
    config = config or SyntheticConfig()
    cal = _build_calendar(config)
    stores = _make_stores(config)
    depts = _make_depts(config)
    feats = _make_features(config, cal, stores)
    pairs = _make_pairs(config, stores, depts)
    train, rows_per_pair = _make_sales(config, cal, stores, depts, pairs, feats.promo)
    test = _make_test(config, cal, stores, depts, pairs, rows_per_pair)
    out = {
        "train": train,
        "features": feats.frame,
        "stores": _stores_frame(stores),
        "test": test,
    }
    logger.info(
        "generated %s in %.2f s",
        ", ".join(f"{k}={len(v):,}" for k, v in out.items()),
        time.perf_counter() - t0,
    )
    return out
