r"""Compare our champion with the systems users would pick instead (issue 4, "Benchmark ...").

On a directory holding the Kaggle files (``train.csv`` is the only one read by the other
systems), this runs side by side, in one process tree, each system in its own child process:

1. ``ours``: ``kedro run --params raw_data_dir=DIR`` from the project root (the whole default run:
   ingestion, EDA, baselines, tuning, evaluation), then ``data/08_reporting/metrics.json`` is read
   for the champion's test WMAE/MAE/RMSE (the best learner is listed too). Its seconds include
   everything the run does, not only fit+predict. ``--skip-kedro`` reads an existing
   ``metrics.json`` instead (no time or memory figures then).
2. ``seasonal_naive``: the forecast of a week is the same series 52 weeks earlier.
3. ``statsforecast_mstl``: ``MSTL(season_length=52, trend_forecaster=AutoETS(model="ZZN"))``, the
   closest analogue of the 2014 winner's ``stlf`` models, ``n_jobs=2``.
4. ``mlforecast_lightgbm``: one global LightGBM (lags 1, 2, 4, 52; rolling means of lag 1 over 4
   and 12 weeks and of lag 52 over 4 weeks; week-of-year and month; Store and Dept as static
   features), recursive multi-step forecast of the whole horizon, 2 threads, fixed seed.

Same data preparation for 2-4 (:func:`load_train`, :func:`split`, :func:`regular_panel`):

- test window = the last ``--horizon`` weeks of ``train.csv`` (2012-02-03..2012-10-26 on the real
  data with the default 39); history = the weeks before. Nothing is tuned on the test window:
  every setting below is fixed in this file.
- every (Store, Dept) with at least one history row is a series; it is made regular from its
  first history week to the last history week (the cutoff), a missing week counting as 0 sales
  (Kaggle convention: no row = no sales). Every system forecasts every series for every test week.
- only the rows of the test window that exist in ``train.csv`` are scored; a test row whose series
  has no history (a (Store, Dept) that first appears in the test window) is forecast 0.
- metrics: :func:`retail_forecasting.forecasting.backtest.score_column` (WMAE with weight 5 on
  ``IsHoliday`` weeks, MAE, RMSE; the engine's own scoring) over every scored (Store, Dept, Date)
  row.

Fallbacks (counted and printed by each child):

- ``seasonal_naive``: where the week 52 weeks back is before the series' first row, the mean of
  the series' last 52 history weeks (zeros included) — the level of what the series shows.
- ``statsforecast_mstl``: MSTL needs two full seasons (STL's requirement), so series with fewer than
  104 history weeks get ``SeasonalNaive(52)`` when they have at least 52 weeks and
  ``AutoETS(model="ZZN")`` (non-seasonal) otherwise, and the last value where ETS cannot fit (too
  few weeks: statsforecast's "tiny datasets"). MSTL itself has no fallback: a failure stops the run.
- ``mlforecast_lightgbm``: none needed (LightGBM handles the missing lag values of young series).

Seconds and memory: the parent starts each child and collects it with ``os.wait4``; ``process s``
is the child's wall time (start-up, reading CSV, fit, predict, writing the forecasts), ``fit+predict
s`` is timed inside the child around the model calls only, ``peak MiB`` is the child's
``ru_maxrss``, which on Linux is the peak of the largest single process in its tree (worker
processes such as statsforecast's ``n_jobs=2`` pool are not summed).

    python benchmarks/compare_systems.py --data-dir ../shared/data/walmart
    python benchmarks/compare_systems.py --data-dir ../shared/data/walmart --skip-kedro
    python benchmarks/compare_systems.py --data-dir ../shared/data/walmart --horizon 13,26,39,52 \
        --markdown table.md

``--horizon`` runs ours as ``kedro run --params raw_data_dir=DIR,horizon_weeks=H`` (default
parameters otherwise: the backtest design adapts to H) and every other system on the same last H
weeks; with several horizons they run one after another and a horizon x system Markdown table
(every member of our zoo listed too, with the backtest design used) is printed at the end.

``--peer-cache DIR`` keeps each reference system's forecasts, seconds and peak memory in DIR
(``h<H>_<system>.*``) and reuses them on the next call (they are deterministic), so ours can be
rerun alone; ``--peers-only`` fills the cache without running ours (e.g. while ours runs elsewhere):

    python benchmarks/compare_systems.py --data-dir DIR --horizon 13,26,39,52 --peer-cache peers \
        --peers-only
    python benchmarks/compare_systems.py --data-dir DIR --horizon 13,26,39,52 --peer-cache peers \
        --markdown table.md

Prediction intervals (issue #12), at ``LEVELS`` (80 and 95 %) on the same rows:

- ours: the champion's ``intervals`` in ``metrics.json`` (split-conformal quantiles of scaled
  backtest residuals, docs/forecasting.md);
- ``statsforecast_mstl``: the models' own intervals (``forecast(level=[80, 95])``: MSTL through
  its AutoETS trend forecaster, SeasonalNaive and AutoETS for the fallbacks); the last-value
  fallback has none (a zero-width interval, counted);
- ``mlforecast_lightgbm``: mlforecast's conformal intervals, ``PredictionIntervals(n_windows=2,
  h=horizon)`` (conformal distribution of the absolute errors per step over two windows). Its
  windows of ``horizon`` weeks before the cutoff leave the first one a training set too short for
  lag 52 at long horizons, so the conformal fit uses ``dropna=False`` (LightGBM handles the
  missing lags); the point forecast and its WMAE come from the benchmark's own fit
  (``dropna=True``) as before, the interval bounds from the conformal fit;
- the script's seasonal naive has no interval.

Scored with :func:`retail_forecasting.forecasting.intervals.score_intervals` on every test row:
coverage, mean width, interval (Winkler) score (and with the WMAE's holiday weights) and the
pinball loss over the quantiles 0.025, 0.1, 0.5, 0.9, 0.975 (a peer's 0.5 quantile is its point
forecast). A test row whose series has no history is forecast 0 with a zero-width interval.

Needs the ``benchmarks`` extra (``pip install ".[benchmarks]"``: statsforecast, mlforecast).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))  # retail_forecasting without installing

from retail_forecasting.forecasting.backtest import score_column  # noqa: E402

SEASON = 52
SEED = 0
FREQ = "W-FRI"  # Kaggle weeks end on Fridays
SYSTEMS = ("seasonal_naive", "statsforecast_mstl", "mlforecast_lightgbm")
METRICS_JSON = PROJECT / "data" / "08_reporting" / "metrics.json"
CHAMPION_JSON = PROJECT / "data" / "08_reporting" / "champion.json"
TARGET_IMPROVEMENT = 0.05
LEVELS = (80, 95)  # interval levels, %, as the project's intervals.levels
TARGET_INTERVAL_IMPROVEMENT = (
    0.10  # issue #12: interval score at least 10 % better than the best peer's
)


# ----------------------------------------------------------------------------- data preparation
def load_train(data_dir: str | Path) -> pd.DataFrame:
    """Read ``train.csv`` into ``store, dept, date, weekly_sales, is_holiday`` sorted rows."""
    raw = pd.read_csv(Path(data_dir) / "train.csv")
    holiday = raw["IsHoliday"]
    if holiday.dtype != bool:
        holiday = holiday.astype(str).str.strip().str.upper().map({"TRUE": True, "FALSE": False})
    frame = pd.DataFrame(
        {
            "store": raw["Store"].astype("int64"),
            "dept": raw["Dept"].astype("int64"),
            "date": pd.to_datetime(raw["Date"]),
            "weekly_sales": raw["Weekly_Sales"].astype(float),
            "is_holiday": holiday.astype(bool),
        }
    )
    return frame.sort_values(["store", "dept", "date"], ignore_index=True)


def kaggle_folder(data_dir: Path, out: Path, train: pd.DataFrame) -> Path:
    """``out`` as a Kaggle folder: ``train`` (rows of ``data_dir``'s train.csv) as train.csv,
    features.csv and stores.csv as ``data_dir`` has them."""
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "train.csv", index=False)
    for name in ("features.csv", "stores.csv"):
        shutil.copy2(data_dir / name, out / name)
    return out


def cut_data(data_dir: Path, cut: str, out: Path) -> Path:
    """``out`` holding ``data_dir``'s Kaggle files with ``train.csv`` up to ``cut`` (inclusive):
    the data as it stood that week, for a test window the main table never used."""
    train = pd.read_csv(data_dir / "train.csv", dtype={"Date": str})
    kept = train[pd.to_datetime(train["Date"]) <= pd.Timestamp(cut)]
    if kept.empty or len(kept) == len(train):
        raise SystemExit(f"--cut {cut} keeps {len(kept)} of {len(train)} rows of train.csv")
    return kaggle_folder(data_dir, out, kept)


def split(train: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into (history, test): test = the rows of the last ``horizon`` distinct weeks."""
    weeks = np.sort(train["date"].unique())
    if len(weeks) <= horizon:
        raise ValueError(f"train.csv has {len(weeks)} weeks, not more than the horizon {horizon}")
    first_test = weeks[-horizon]
    is_test = train["date"] >= first_test
    return train[~is_test].reset_index(drop=True), train[is_test].reset_index(drop=True)


def series_id(store: pd.Series, dept: pd.Series) -> pd.Series:
    return store.astype(str) + "_" + dept.astype(str)


def regular_panel(history: pd.DataFrame) -> pd.DataFrame:
    """Nixtla long format ``unique_id, ds, y, store, dept``: every series regular from its first
    history week to the cutoff (the last history week), a missing week filled with 0."""
    cutoff = history["date"].max()
    firsts = history.groupby(["store", "dept"], sort=True)["date"].min()
    n_weeks = ((cutoff - firsts).dt.days // 7 + 1).to_numpy()
    store = np.repeat(firsts.index.get_level_values("store").to_numpy(), n_weeks)
    dept = np.repeat(firsts.index.get_level_values("dept").to_numpy(), n_weeks)
    offsets = np.concatenate([np.arange(n) for n in n_weeks])
    dates = np.repeat(firsts.to_numpy(), n_weeks) + pd.to_timedelta(offsets * 7, unit="D")
    grid = pd.DataFrame({"store": store, "dept": dept, "date": dates})
    panel = grid.merge(
        history[["store", "dept", "date", "weekly_sales"]],
        how="left",
        on=["store", "dept", "date"],
        validate="one_to_one",
    )
    panel = pd.DataFrame(
        {
            "unique_id": series_id(panel["store"], panel["dept"]),
            "ds": panel["date"],
            "y": panel["weekly_sales"].fillna(0.0).astype(float),
            "store": panel["store"],
            "dept": panel["dept"],
        }
    )
    return panel.sort_values(["unique_id", "ds"], ignore_index=True)


def test_dates(history: pd.DataFrame, horizon: int) -> pd.DatetimeIndex:
    return pd.date_range(history["date"].max() + pd.Timedelta(weeks=1), periods=horizon, freq=FREQ)


def seasonal_naive_forecast(
    panel: pd.DataFrame, horizon: int, season: int = SEASON
) -> tuple[pd.DataFrame, int]:
    """Forecast ``unique_id, ds, yhat`` = the value ``season`` weeks earlier; where that week is
    before the series' first row, the mean of its last ``season`` weeks. Returns (forecasts,
    number of series using the fallback for at least one week)."""
    if horizon > season:
        raise ValueError(f"seasonal naive needs horizon <= {season}, got {horizon}")
    cutoff = panel["ds"].max()
    future = test_dates(panel.rename(columns={"ds": "date"}), horizon)
    ids = panel["unique_id"].unique()
    grid = pd.DataFrame({"unique_id": np.repeat(ids, horizon), "ds": np.tile(future, len(ids))})
    lookup = grid.assign(ds=grid["ds"] - pd.Timedelta(weeks=season))
    values = lookup.merge(panel[["unique_id", "ds", "y"]], how="left", on=["unique_id", "ds"])["y"]
    level = (
        panel[panel["ds"] > cutoff - pd.Timedelta(weeks=season)].groupby("unique_id")["y"].mean()
    )
    missing = values.isna().to_numpy()
    yhat = np.where(missing, grid["unique_id"].map(level).to_numpy(dtype=float), values.to_numpy())
    n_fallback = int(grid.loc[missing, "unique_id"].nunique())
    return grid.assign(yhat=yhat), n_fallback


def score_forecasts(test: pd.DataFrame, forecasts: pd.DataFrame) -> tuple[dict[str, float], int]:
    """Score ``forecasts`` (``unique_id, ds, yhat``) on every row of ``test``; a test row without
    a forecast (series without history) is forecast 0. Returns (metrics, rows forecast 0)."""
    rows = test.assign(unique_id=series_id(test["store"], test["dept"]))
    merged = rows.merge(
        forecasts[["unique_id", "ds", "yhat"]].rename(columns={"ds": "date"}),
        how="left",
        on=["unique_id", "date"],
        validate="one_to_one",
    )
    n_zero = int(merged["yhat"].isna().sum())
    merged["yhat"] = merged["yhat"].fillna(0.0)
    if len(merged) != len(test):
        raise AssertionError("scoring changed the number of test rows")
    return score_column(merged, "yhat", actual_col="weekly_sales", holiday_col="is_holiday"), n_zero


def best_of(ours: float, theirs: dict[str, float]) -> tuple[str, float, bool]:
    """Return (best other system, its WMAE, whether ours is at least 5% lower)."""
    name = min(theirs, key=theirs.get)
    return name, theirs[name], ours <= (1.0 - TARGET_IMPROVEMENT) * theirs[name]


def bound_columns(levels=LEVELS) -> list[str]:
    """Nixtla's interval columns of a model aliased ``yhat``: yhat-lo-95, yhat-lo-80, yhat-hi-80,
    yhat-hi-95."""
    return [f"yhat-lo-{level}" for level in sorted(levels, reverse=True)] + [
        f"yhat-hi-{level}" for level in sorted(levels)
    ]


def score_interval_forecasts(
    test: pd.DataFrame, forecasts: pd.DataFrame, levels=LEVELS
) -> dict | None:
    """Coverage, width, interval score and pinball loss of ``forecasts``' bounds (Nixtla's
    ``yhat-lo-80`` … columns) on every row of ``test``; ``None`` if it has no bounds. The
    quantiles are (lower bounds, ``yhat`` as the median, upper bounds), sorted per row."""
    from retail_forecasting.forecasting.intervals import quantile_levels, score_intervals

    columns = bound_columns(levels)
    if not set(columns) <= set(forecasts.columns):
        return None
    rows = test.assign(unique_id=series_id(test["store"], test["dept"]))
    merged = rows.merge(
        forecasts[["unique_id", "ds", "yhat", *columns]].rename(columns={"ds": "date"}),
        how="left",
        on=["unique_id", "date"],
        validate="one_to_one",
    )
    merged["yhat"] = merged["yhat"].fillna(0.0)
    n_low = len(levels)
    ordered = [*columns[:n_low], "yhat", *columns[n_low:]]
    values = merged[ordered].to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    values = np.where(missing, merged["yhat"].to_numpy()[:, None], values)  # no bound: zero width
    totals, _ = score_intervals(
        merged.rename(columns={"weekly_sales": "actual"}),
        np.sort(values, axis=1),
        quantile_levels(levels),
        levels,
        segments=(),
    )
    totals["rows_without_bounds"] = int(missing.any(axis=1).sum())
    return totals


# ------------------------------------------------------------------------ the systems (children)
def run_statsforecast(panel: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, dict]:
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    lengths = panel.groupby("unique_id").size()
    long_ids = lengths.index[lengths >= 2 * SEASON]
    mid_ids = lengths.index[(lengths >= SEASON) & (lengths < 2 * SEASON)]
    short_ids = lengths.index[lengths < SEASON]
    data = panel[["unique_id", "ds", "y"]]
    parts = []
    started = time.perf_counter()
    groups = [
        (long_ids, MSTL(season_length=SEASON, trend_forecaster=AutoETS(model="ZZN"), alias="yhat")),
        (mid_ids, SeasonalNaive(season_length=SEASON, alias="yhat")),
    ]
    for ids, model in groups:
        if len(ids) == 0:
            continue
        sf = StatsForecast(models=[model], freq=FREQ, n_jobs=2)
        parts.append(
            sf.forecast(df=data[data["unique_id"].isin(ids)], h=horizon, level=list(LEVELS))
        )
    # series shorter than one season: AutoETS(ZZN) one by one, the last value where ETS raises
    # (statsforecast's "tiny datasets" on a handful of weeks)
    n_naive = 0
    short = data[data["unique_id"].isin(short_ids)]
    for uid, frame in short.groupby("unique_id", sort=True):
        y = frame["y"].to_numpy(dtype=float)
        try:
            fitted = AutoETS(model="ZZN").forecast(y=y, h=horizon, level=list(LEVELS))
            yhat = fitted["mean"]
            bounds = {
                f"yhat-{side}-{level}": fitted[f"{side}-{level}"]
                for side in ("lo", "hi")
                for level in LEVELS
            }
        except Exception:  # noqa: BLE001 - any ETS failure takes the documented fallback
            yhat, n_naive = np.repeat(y[-1], horizon), n_naive + 1
            bounds = {column: np.full(horizon, np.nan) for column in bound_columns()}  # no interval
        start = frame["ds"].iloc[-1] + pd.Timedelta(weeks=1)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "yhat": yhat,
                    **bounds,
                    "ds": pd.date_range(start, periods=horizon, freq=FREQ),
                }
            )
        )
    seconds = time.perf_counter() - started
    forecasts = pd.concat(parts, ignore_index=True)
    forecasts = forecasts.reset_index() if "unique_id" not in forecasts.columns else forecasts
    info = {
        "fit_predict_seconds": seconds,
        "series": int(len(lengths)),
        "mstl_series": int(len(long_ids)),
        "fallback_seasonal_naive_series": int(len(mid_ids)),
        "fallback_ets_series": int(len(short_ids)) - n_naive,
        "fallback_last_value_series": n_naive,
        "non_finite_forecasts_set_to_0": int((~np.isfinite(forecasts["yhat"])).sum()),
    }
    forecasts["yhat"] = forecasts["yhat"].where(np.isfinite(forecasts["yhat"]), 0.0)
    return forecasts[["unique_id", "ds", "yhat", *bound_columns()]], info


def run_mlforecast(panel: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, dict]:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    model = lgb.LGBMRegressor(
        n_estimators=500,
        learning_rate=0.05,
        num_leaves=63,
        min_child_samples=20,
        subsample=1.0,
        colsample_bytree=0.9,
        objective="l2",
        random_state=SEED,
        n_jobs=2,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )

    def make(regressor) -> MLForecast:
        return MLForecast(
            models={"yhat": regressor},
            freq=FREQ,
            lags=[1, 2, 4, SEASON],
            lag_transforms={
                1: [RollingMean(window_size=4), RollingMean(window_size=12)],
                SEASON: [RollingMean(window_size=4)],
            },
            date_features=["week", "month"],
            num_threads=2,
        )

    mlf = make(model)
    data = panel[["unique_id", "ds", "y", "store", "dept"]]
    started = time.perf_counter()
    mlf.fit(data, static_features=["store", "dept"], dropna=True)
    forecasts = mlf.predict(h=horizon)
    seconds = time.perf_counter() - started
    # conformal intervals (mlforecast's PredictionIntervals), a second fit: see the module docstring
    from mlforecast.utils import PredictionIntervals

    started = time.perf_counter()
    long_enough = data.groupby("unique_id")["ds"].transform("size") > 2 * horizon
    if long_enough.any():
        conformal = make(lgb.LGBMRegressor(**model.get_params()))
        conformal.fit(
            data[long_enough],
            static_features=["store", "dept"],
            dropna=False,
            prediction_intervals=PredictionIntervals(n_windows=2, h=horizon),
        )
        bounds = conformal.predict(h=horizon, level=list(LEVELS))
    else:  # no series has two windows of history: no conformal interval at this horizon
        bounds = forecasts[["unique_id", "ds", "yhat"]].assign(
            **{c: np.nan for c in bound_columns()}
        )
    # the intervals around the benchmark's own point forecast: each bound's offset from the
    # conformal fit's point (mlforecast's bounds are symmetric around its point)
    bounds = forecasts.merge(
        bounds, on=["unique_id", "ds"], how="left", suffixes=("", "_conformal")
    )
    for column in bound_columns():
        bounds[column] = bounds["yhat"] + bounds[column] - bounds["yhat_conformal"]
    interval_seconds = time.perf_counter() - started
    return bounds[["unique_id", "ds", "yhat", *bound_columns()]], {
        "fit_predict_seconds": seconds,
        "series": int(panel["unique_id"].nunique()),
        "interval_fit_predict_seconds": interval_seconds,
        "series_without_interval_too_short": int(data.loc[~long_enough, "unique_id"].nunique()),
    }


def run_system(system: str, data_dir: str, horizon: int, out: str) -> None:
    """Child entry point: prepare the data, fit+predict one system, write forecasts and info."""
    history, _ = split(load_train(data_dir), horizon)
    panel = regular_panel(history)
    if system == "seasonal_naive":
        started = time.perf_counter()
        forecasts, n_fallback = seasonal_naive_forecast(panel, horizon)
        info = {
            "fit_predict_seconds": time.perf_counter() - started,
            "series": int(panel["unique_id"].nunique()),
            "fallback_level_series": n_fallback,
        }
    elif system == "statsforecast_mstl":
        forecasts, info = run_statsforecast(panel, horizon)
    elif system == "mlforecast_lightgbm":
        forecasts, info = run_mlforecast(panel, horizon)
    else:
        raise SystemExit(f"unknown system {system!r}; choose from {SYSTEMS}")
    forecasts.to_parquet(f"{out}.parquet", index=False)
    Path(f"{out}.json").write_text(json.dumps(info))


# ----------------------------------------------------------------------------- the parent
def run_child(command: list[str], log_path: Path) -> tuple[float, float]:
    """Run ``command`` in a child from the project root; return (seconds, peak RSS in MiB)."""
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(log_path.read_text(errors="replace")[-6000:])
        raise SystemExit(f"command failed ({code}): {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def run_peer(
    system: str, horizon: int, data_dir: str, tmp: Path, cache: str | None
) -> tuple[float, float, Path]:
    """Fit+predict one reference system in its child process; returns (seconds, peak MiB, the
    path stem of its forecasts and info). With ``cache`` (``--peer-cache``) the outputs and the
    child's seconds and peak are kept in that directory as ``h<H>_<system>.*`` and reused on a
    later call (the reference systems are deterministic): ours can be rerun without refitting
    them."""
    out = (Path(cache) if cache else tmp) / (f"h{horizon}_{system}" if cache else system)
    run_file = Path(f"{out}.run.json")
    if cache and run_file.exists() and Path(f"{out}.parquet").exists():
        record = json.loads(run_file.read_text())
        if record.get("data_dir") == data_dir:
            print(
                f"{system}: reusing {out}.parquet (--peer-cache; measured {record['when']})",
                flush=True,
            )
            return record["seconds"], record["peak_mib"], out
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--data-dir",
        data_dir,
        "--horizon",
        str(horizon),
        "--system",
        system,
        "--out",
        str(out),
    ]
    print(f"{system}: running", flush=True)
    seconds, peak = run_child(command, tmp / f"{system}.log")
    if cache:
        run_file.write_text(
            json.dumps(
                {
                    "seconds": seconds,
                    "peak_mib": peak,
                    "data_dir": data_dir,
                    "load_average": os.getloadavg(),
                    "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                }
            )
        )
    return seconds, peak, out


def read_ours(horizon: int, test: pd.DataFrame) -> dict:
    metrics = json.loads(METRICS_JSON.read_text())
    if metrics.get("horizon_weeks") != horizon:
        raise SystemExit(
            f"{METRICS_JSON} has horizon {metrics.get('horizon_weeks')}, not {horizon}"
        )
    window = (test["date"].min().strftime("%Y-%m-%d"), test["date"].max().strftime("%Y-%m-%d"))
    if (metrics.get("test_start"), metrics.get("test_end")) != window:
        raise SystemExit(
            f"{METRICS_JSON} covers {metrics.get('test_start')}..{metrics.get('test_end')},"
            f" not the test window {window[0]}..{window[1]} of this data"
        )
    champion = metrics["champion"]
    from retail_forecasting.forecasting import zoo

    members = (*zoo.names(), "ensemble")  # every model of the zoo, as the run had them
    # the best learner as the run chose it on validation (champion.json), never by test WMAE
    selection = json.loads(CHAMPION_JSON.read_text()) if CHAMPION_JSON.exists() else {}
    best_learner = selection.get("best_learner")
    if best_learner not in metrics["models"]:
        best_learner = None
    return {
        "champion": champion,
        "metrics": metrics["models"]["champion"],
        "best_learner": best_learner,
        "best_learner_metrics": metrics["models"].get(best_learner) if best_learner else None,
        "members": {m: metrics["models"][m] for m in members if m in metrics["models"]},
        "backtest_design": metrics.get("backtest_design"),
        "intervals": metrics.get("intervals"),
    }  # the champion's (issue #12), if the run made them


def compare(horizon: int, data_dir: str, args: argparse.Namespace) -> dict:
    """Ours (a whole ``kedro run`` at ``horizon_weeks=horizon``) and every other system on the
    last ``horizon`` weeks; prints the table and returns it."""
    train = load_train(data_dir)
    history, test = split(train, horizon)
    print(f"\n=== horizon {horizon} weeks ===")
    print(
        f"data: {data_dir}; history {history['date'].min():%Y-%m-%d}.."
        f"{history['date'].max():%Y-%m-%d}"
        f" ({history['date'].nunique()} weeks), test window {test['date'].min():%Y-%m-%d}.."
        f"{test['date'].max():%Y-%m-%d} ({test['date'].nunique()} weeks, {len(test)} rows scored)"
    )

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="compare_systems_") as tmp:
        if args.skip_kedro:
            print(
                f"ours: --skip-kedro, reading the existing {METRICS_JSON.relative_to(PROJECT)} "
                "(no kedro run)"
            )
            kedro_seconds = kedro_peak = None
        else:
            command = [
                args.kedro,
                "run",
                "--params",
                ",".join(
                    p
                    for p in (f"raw_data_dir={data_dir},horizon_weeks={horizon}", args.kedro_params)
                    if p
                ),
            ]
            print(f"ours: $ {' '.join(command)}", flush=True)
            kedro_seconds, kedro_peak = run_child(command, Path(tmp) / "kedro.log")
        ours = read_ours(horizon, test)
        rows.append(
            {
                "system": f"ours: champion ({ours['champion']})",
                **ours["metrics"],
                "fit_predict_s": None,
                "process_s": kedro_seconds,
                "peak_mib": kedro_peak,
                "intervals": ours["intervals"],
            }
        )
        for member, metrics in ours["members"].items():
            rows.append(
                {
                    "system": f"ours: member {member}",
                    **metrics,
                    "fit_predict_s": None,
                    "process_s": None,
                    "peak_mib": None,
                    "info_only": True,
                }
            )
        if ours["backtest_design"]:
            design = ours["backtest_design"]
            print(
                f"ours: backtest design {design['kind']}, "
                f"cutoffs {', '.join(design.get('cutoffs', []))}: "
                f"{design['reason']}"
            )

        theirs: dict[str, float] = {}
        for system in [s for s in args.systems.split(",") if s]:
            seconds, peak, out = run_peer(system, horizon, data_dir, Path(tmp), args.peer_cache)
            info = json.loads(Path(f"{out}.json").read_text())
            forecasts = pd.read_parquet(f"{out}.parquet")
            forecasts["ds"] = pd.to_datetime(forecasts["ds"])
            metrics, n_zero = score_forecasts(test, forecasts)
            intervals = score_interval_forecasts(test, forecasts)
            theirs[system] = metrics["wmae"]
            extras = {k: v for k, v in info.items() if k != "fit_predict_seconds"}
            print(
                f"{system}: {extras}; test rows of series without history forecast 0: {n_zero}",
                flush=True,
            )
            rows.append(
                {
                    "system": system,
                    **metrics,
                    "fit_predict_s": info["fit_predict_seconds"],
                    "process_s": seconds,
                    "peak_mib": peak,
                    "intervals": intervals,
                }
            )

    ours_wmae = ours["metrics"]["wmae"]
    header = (
        f"{'system':<42} {'WMAE':>9} {'MAE':>9} {'RMSE':>9} {'fit+predict s':>13} "
        f"{'process s':>9} {'peak MiB':>8} {'ours/theirs':>11}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = None if row["system"].startswith("ours") else ours_wmae / row["wmae"]
        print(
            f"{row['system']:<42} {row['wmae']:>9.1f} {row['mae']:>9.1f} {row['rmse']:>9.1f} "
            f"{_fmt(row['fit_predict_s'], '.1f'):>13} {_fmt(row['process_s'], '.1f'):>9} "
            f"{_fmt(row['peak_mib'], '.0f'):>8} {_fmt(ratio, '.3f'):>11}"
        )
    verdict = None
    if theirs:
        name, best, reached = best_of(ours_wmae, theirs)
        verdict = {
            "best_other": name,
            "best_other_wmae": best,
            "ratio": ours_wmae / best,
            "reached": reached,
        }
        print()
        print(
            f"best other system: {name} (WMAE {best:.1f}); ours/theirs = {ours_wmae / best:.3f}; "
            f"ours is {'' if reached else 'NOT '}at least {TARGET_IMPROVEMENT:.0%} better "
            f"({(1 - ours_wmae / best):+.1%})"
        )
    interval_verdict = print_intervals(rows)
    return {
        "horizon": horizon,
        "rows": rows,
        "design": ours["backtest_design"],
        "verdict": verdict,
        "interval_verdict": interval_verdict,
        "test_window": f"{test['date'].min():%Y-%m-%d}..{test['date'].max():%Y-%m-%d}",
    }


def interval_verdict(rows: list[dict], levels=LEVELS) -> dict | None:
    """Per level: the best peer's interval score, ours over it, and whether ours is at least
    ``TARGET_INTERVAL_IMPROVEMENT`` lower (issue #12); None without our intervals or a peer's."""
    ours = rows[0].get("intervals")
    peers = {
        r["system"]: r["intervals"]
        for r in rows
        if not r["system"].startswith("ours") and r.get("intervals")
    }
    if not ours or not peers:
        return None
    out = {}
    for level in map(str, levels):
        name = min(peers, key=lambda p: peers[p][level]["interval_score"])
        best = peers[name][level]["interval_score"]
        ratio = ours[level]["interval_score"] / best
        out[level] = {
            "best_other": name,
            "best_other_interval_score": best,
            "ratio": ratio,
            "reached": ratio <= 1.0 - TARGET_INTERVAL_IMPROVEMENT,
        }
    return out


def print_intervals(rows: list[dict], levels=LEVELS) -> dict | None:
    """The interval table (coverage, width, interval score per level; pinball) and the verdict."""
    shown = [r for r in rows if r.get("intervals")]
    if not shown:
        return None
    print()
    header = (
        f"{'system (intervals)':<42} "
        + " ".join(
            f"{'cov' + str(lv):>7} {'width' + str(lv):>9} {'IS' + str(lv):>9}" for lv in levels
        )
        + f" {'pinball':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in shown:
        iv = row["intervals"]
        print(
            f"{row['system']:<42} "
            + " ".join(
                f"{iv[str(lv)]['coverage']:>7.3f} {iv[str(lv)]['width']:>9.0f} "
                f"{iv[str(lv)]['interval_score']:>9.0f}"
                for lv in levels
            )
            + f" {iv['pinball']:>8.1f}"
        )
    verdict = interval_verdict(rows, levels)
    for level, v in (verdict or {}).items():
        print(
            f"{level} % intervals: best other {v['best_other']} "
            f"(interval score {v['best_other_interval_score']:.0f});"
            f" ours/theirs = {v['ratio']:.3f}; ours is {'' if v['reached'] else 'NOT '}at least "
            f"{TARGET_INTERVAL_IMPROVEMENT:.0%} better ({1 - v['ratio']:+.1%})"
        )
    return verdict


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def markdown(results: list[dict]) -> str:
    """One Markdown table, horizon x system, for docs/benchmarks.md."""
    lines = [
        "| horizon | test window | backtest design (cutoffs) | system | WMAE | MAE | RMSE "
        "| process s | peak MiB | ours / this |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        design = result["design"] or {}
        described = f"{design.get('kind', '?')} ({', '.join(design.get('cutoffs', []))})"
        ours = result["rows"][0]["wmae"]
        for i, row in enumerate(result["rows"]):
            ratio = None if row["system"].startswith("ours") else ours / row["wmae"]
            lead = (
                f"| {result['horizon']} | {result['test_window']} | {described} "
                if i == 0
                else "| | | "
            )
            lines.append(
                f"{lead}| {row['system']} | {row['wmae']:.1f} | {row['mae']:.1f} | "
                f"{row['rmse']:.1f} | {_fmt(row['process_s'], '.1f')} | "
                f"{_fmt(row['peak_mib'], '.0f')} | {_fmt(ratio, '.3f')} |"
            )
    intervals = interval_markdown(results)
    return "\n".join(lines) + ("\n\n" + intervals if intervals else "")


def interval_markdown(results: list[dict], levels=LEVELS) -> str:
    """The interval table (issue #12), horizon x system with intervals, for docs/benchmarks.md."""
    lines = [
        "| horizon | system | "
        + " | ".join(
            f"coverage {lv} % | width {lv} % | interval score {lv} % | ours / this" for lv in levels
        )
        + " | pinball |",
        "|---:|---|" + "---:|" * (4 * len(levels) + 1),
    ]
    count = 0
    for result in results:
        shown = [r for r in result["rows"] if r.get("intervals")]
        ours = result["rows"][0].get("intervals")
        for i, row in enumerate(shown):
            iv, cells = row["intervals"], []
            for lv in map(str, levels):
                ratio = (
                    None
                    if row["system"].startswith("ours") or not ours
                    else ours[lv]["interval_score"] / iv[lv]["interval_score"]
                )
                cells.append(
                    f"{iv[lv]['coverage']:.3f} | {iv[lv]['width']:.0f} | "
                    f"{iv[lv]['interval_score']:.0f} | "
                    f"{_fmt(ratio, '.3f')}"
                )
            lines.append(
                f"| {result['horizon'] if i == 0 else ''} | {row['system']} | "
                + " | ".join(cells)
                + f" | {iv['pinball']:.1f} |"
            )
            count += 1
    return "\n".join(lines) if count else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir",
        required=True,
        help="directory with the Kaggle train.csv (and the rest for kedro)",
    )
    parser.add_argument(
        "--horizon",
        default="39",
        help="weeks forecast; several, comma-separated (e.g. 13,26,39,52), run one after another",
    )
    parser.add_argument(
        "--skip-kedro",
        action="store_true",
        help="read the existing metrics.json instead of running kedro",
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--system", choices=SYSTEMS, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument(
        "--peer-cache",
        help="keep the reference systems' forecasts, seconds and peak memory in "
        "this directory and reuse them when present (they are deterministic)",
    )
    parser.add_argument(
        "--peers-only",
        action="store_true",
        help="with --peer-cache: only fit the reference systems into the cache "
        "(no kedro, no table)",
    )
    parser.add_argument(
        "--cut",
        help="another window: train.csv up to this date only (YYYY-MM-DD), so the test window "
        "is the last --horizon weeks before it (with --peer-cache the cut files and the "
        "peers' outputs go to its cut-<DATE>/ folder, else to a temporary one); ours loads the "
        "cut into the project's warehouse, which refuses to lose the later weeks it holds: "
        "remove data/03_primary/warehouse.duckdb, or pass --kedro-params "
        "ingestion.load.allow_shrink=true",
    )
    parser.add_argument("--kedro-params", default="", help="more --params for ours' kedro run")
    parser.add_argument(
        "--markdown", help="also write the horizon x system table (Markdown) to this file"
    )
    parser.add_argument(
        "--kedro",
        default=str(Path(sys.executable).with_name("kedro")),
        help="the project's kedro (default: next to this Python), so the other systems can "
        "run from a separate venv holding the benchmarks extra",
    )
    args = parser.parse_args(argv)
    horizons = [int(h) for h in str(args.horizon).split(",") if h.strip()]
    data_dir = str(Path(args.data_dir).resolve())
    with contextlib.ExitStack() as stack:
        if args.cut and not args.system:
            # the cut files live in the cache when there is one, else only for this run
            root = args.peer_cache or stack.enter_context(
                tempfile.TemporaryDirectory(prefix="compare_systems_")
            )
            folder = Path(root) / f"cut-{args.cut}"
            data_dir = str(cut_data(Path(data_dir), args.cut, folder).resolve())
            if args.peer_cache:
                args.peer_cache = str(folder)
        run(args, horizons, data_dir)


def run(args: argparse.Namespace, horizons: list[int], data_dir: str) -> None:
    """What ``main`` was asked for, on the Kaggle files in ``data_dir``."""
    if args.system:
        run_system(args.system, data_dir, horizons[0], args.out)
        return

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    if args.peers_only:
        if not args.peer_cache:
            raise SystemExit("--peers-only fills --peer-cache: give both")
        for horizon in horizons:
            with tempfile.TemporaryDirectory(prefix="compare_systems_") as tmp:
                for system in [s for s in args.systems.split(",") if s]:
                    run_peer(system, horizon, data_dir, Path(tmp), args.peer_cache)
        return
    if args.skip_kedro and len(horizons) > 1:
        raise SystemExit("--skip-kedro reads one metrics.json: give one --horizon")
    results = [compare(horizon, data_dir, args) for horizon in horizons]
    table = markdown(results)
    print()
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
