"""Tests of the synthetic Walmart (Kaggle) data generator `retail_forecasting.synthetic`."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retail_forecasting import synthetic as sy
from retail_forecasting.synthetic import (
    SyntheticConfig,
    generate,
    holiday_fridays,
    summarize,
    write_kaggle_files,
)

TINY = SyntheticConfig(n_stores=4, n_depts=8)
KAGGLE_COLUMNS = {
    "train": ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"],
    "features": [
        "Store",
        "Date",
        "Temperature",
        "Fuel_Price",
        "MarkDown1",
        "MarkDown2",
        "MarkDown3",
        "MarkDown4",
        "MarkDown5",
        "CPI",
        "Unemployment",
        "IsHoliday",
    ],  # fmt: skip
    "stores": ["Store", "Type", "Size"],
    "test": ["Store", "Dept", "Date", "IsHoliday"],
}
KAGGLE_HOLIDAYS = {
    "Super_Bowl": ["2010-02-12", "2011-02-11", "2012-02-10", "2013-02-08"],
    "Labor_Day": ["2010-09-10", "2011-09-09", "2012-09-07", "2013-09-06"],
    "Thanksgiving": ["2010-11-26", "2011-11-25", "2012-11-23", "2013-11-29"],
    "Christmas": ["2010-12-31", "2011-12-30", "2012-12-28", "2013-12-27"],
}
MD = [f"MarkDown{i}" for i in range(1, 6)]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return generate(TINY)


@pytest.fixture(scope="module")
def default() -> dict[str, pd.DataFrame]:
    """The full-size default bundle (~0.2 s): statistical properties need enough rows."""
    return generate(SyntheticConfig())


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("synthetic_tiny")
    write_kaggle_files(directory, TINY)
    return directory


# ------------------------------------------------------------------------------ calendar rule


def test_holiday_rule_reproduces_kaggle_dates() -> None:
    for name, days in KAGGLE_HOLIDAYS.items():
        got = [holiday_fridays(year)[name].isoformat() for year in (2010, 2011, 2012, 2013)]
        assert got == days, name


def test_holiday_rule_other_years() -> None:
    # Super Bowl LVI was on Sunday 2022-02-13 (second Sunday from 2022), LIX on 2025-02-09
    assert holiday_fridays(2022)["Super_Bowl"] == date(2022, 2, 18)
    assert holiday_fridays(2025)["Super_Bowl"] == date(2025, 2, 14)
    # Christmas on a Friday is flagged on that Friday; Thanksgiving 2014 was Nov 27
    assert holiday_fridays(2015)["Christmas"] == date(2015, 12, 25)
    assert holiday_fridays(2014)["Thanksgiving"] == date(2014, 11, 28)
    from retail_forecasting.synthetic.model import easter  # dateutil's, as the calendar module's

    assert [easter(y) for y in (2010, 2011, 2012, 2024)] == [
        date(2010, 4, 4), date(2011, 4, 24), date(2012, 4, 8), date(2024, 3, 31),
    ]  # fmt: skip


def test_config_rejects_non_friday_start() -> None:
    with pytest.raises(ValueError, match="Friday"):
        SyntheticConfig(start="2010-02-06")
    with pytest.raises(ValueError):
        SyntheticConfig(n_stores=0)


# ------------------------------------------------------------------------------------ schema


def test_columns_and_dtypes(tiny: dict[str, pd.DataFrame]) -> None:
    assert list(tiny) == ["train", "features", "stores", "test"]
    for key, columns in KAGGLE_COLUMNS.items():
        assert list(tiny[key].columns) == columns, key
    str_dtype = pd.api.types.pandas_dtype("str")
    expected = {
        "Store": np.dtype("int64"), "Dept": np.dtype("int64"), "Size": np.dtype("int64"),
        "IsHoliday": np.dtype("bool"), "Date": str_dtype, "Type": str_dtype,
    }  # fmt: skip
    for key, frame in tiny.items():
        for column, dtype in frame.dtypes.items():
            assert dtype == expected.get(column, np.dtype("float64")), (key, column, dtype)
    assert tiny["train"]["Date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_files_read_back_identical_to_frames(tiny: dict[str, pd.DataFrame], tiny_dir: Path) -> None:
    """The CSVs parse (with plain read_csv) to exactly the frames generate() returns."""
    for key, name in sy.FILE_NAMES.items():
        pd.testing.assert_frame_equal(pd.read_csv(tiny_dir / name), tiny[key], check_exact=True)


def test_kaggle_csv_dialect(tiny_dir: Path) -> None:
    train = (tiny_dir / "train.csv").read_text()
    features = (tiny_dir / "features.csv").read_text()
    stores = (tiny_dir / "stores.csv").read_bytes()
    assert train.startswith("Store,Dept,Date,Weekly_Sales,IsHoliday\n")
    assert train.endswith("\n") and "\r" not in train
    assert ",TRUE\n" in train and ",FALSE\n" in train and "True" not in train
    assert ",NA," in features  # Kaggle writes missing markdowns/CPI/Unemployment as NA
    assert ".0," not in train + features and ".0\n" not in train + features
    assert "Unnamed" not in train.splitlines()[0]  # no index column
    # the real stores.csv: bare CR line ends and no terminator after the last line
    assert stores.startswith(b"Store,Type,Size\r1,") and b"\n" not in stores
    assert not stores.endswith(b"\r")


# ------------------------------------------------------------------------------- determinism


def test_same_config_gives_byte_identical_files(tmp_path: Path, tiny_dir: Path) -> None:
    again = write_kaggle_files(tmp_path / "again", TINY)
    for name in sy.FILE_NAMES.values():
        assert _sha256(again[name.removesuffix(".csv")]) == _sha256(tiny_dir / name)


def test_different_seed_gives_different_data(tiny: dict[str, pd.DataFrame]) -> None:
    other = generate(SyntheticConfig(n_stores=4, n_depts=8, seed=TINY.seed + 1))
    assert not other["train"].equals(tiny["train"])
    assert not other["features"].equals(tiny["features"])


# ---------------------------------------------------------------------------------- calendar


def test_dates_are_consecutive_fridays(tiny: dict[str, pd.DataFrame]) -> None:
    feats = tiny["features"]
    n_all = TINY.n_weeks + TINY.n_future_weeks
    expected = pd.date_range(TINY.start, periods=n_all, freq="7D").strftime("%Y-%m-%d")
    for _, dates in feats.groupby("Store")["Date"]:
        assert dates.tolist() == list(expected)
    for key in ("train", "test"):
        assert (pd.to_datetime(tiny[key]["Date"]).dt.weekday == 4).all(), key
    assert set(tiny["train"]["Date"]) <= set(expected[: TINY.n_weeks])
    assert len(feats) == TINY.n_stores * n_all


def test_no_duplicate_keys(tiny: dict[str, pd.DataFrame]) -> None:
    assert not tiny["train"].duplicated(["Store", "Dept", "Date"]).any()
    assert not tiny["test"].duplicated(["Store", "Dept", "Date"]).any()
    assert not tiny["features"].duplicated(["Store", "Date"]).any()
    assert tiny["stores"]["Store"].is_unique


def test_holiday_flags_are_the_kaggle_dates(tiny: dict[str, pd.DataFrame]) -> None:
    feats = tiny["features"]
    flagged = set(feats.loc[feats["IsHoliday"], "Date"])
    last = feats["Date"].max()  # 2013-07-26: Labor Day 2013 lies beyond the range
    expected = {d for days in KAGGLE_HOLIDAYS.values() for d in days if d <= last}
    assert flagged == expected
    assert len(expected) == 13


def test_holiday_flags_consistent_across_files(tiny: dict[str, pd.DataFrame]) -> None:
    feats = tiny["features"][["Store", "Date", "IsHoliday"]]
    for key in ("train", "test"):
        merged = tiny[key].merge(feats, on=["Store", "Date"], how="left", suffixes=("", "_f"))
        assert merged["IsHoliday_f"].notna().all(), key
        assert (merged["IsHoliday"] == merged["IsHoliday_f"].astype(bool)).all(), key
    assert tiny["test"]["IsHoliday"].any()  # Thanksgiving/Christmas 2012, Super Bowl 2013


def test_other_start_date_and_store_count() -> None:
    cfg = SyntheticConfig(n_stores=90, n_depts=5, n_weeks=60, n_future_weeks=10,
                          start="2015-01-02", seed=3)  # fmt: skip
    out = generate(cfg)
    counts = out["stores"]["Type"].value_counts().to_dict()
    assert counts == {"A": 44, "B": 34, "C": 12}  # the real 22/17/6 mix, doubled
    flagged = set(out["features"].loc[out["features"]["IsHoliday"], "Date"])
    # Super Bowl XLIX 2015-02-01, Labor Day 2015-09-07, Thanksgiving 2015-11-26, Christmas
    assert flagged == {"2015-02-06", "2015-09-11", "2015-11-27", "2015-12-25", "2016-02-12"}


# ------------------------------------------------------------------------- features realism


def test_markdowns_only_from_november_2011(tiny: dict[str, pd.DataFrame]) -> None:
    feats = tiny["features"]
    before = feats["Date"] < "2011-11-01"
    assert feats.loc[before, MD].isna().all().all()
    after = feats.loc[~before, MD]
    assert after.notna().mean().mean() > 0.6  # mostly present ...
    assert after.isna().any().any()  # ... but partly empty, like the real file


def test_cpi_and_unemployment_empty_at_the_end(tiny: dict[str, pd.DataFrame]) -> None:
    feats = tiny["features"]
    dates = sorted(feats["Date"].unique())
    tail = set(dates[-TINY.macro_missing_weeks :])
    at_end = feats["Date"].isin(tail)
    assert feats.loc[at_end, ["CPI", "Unemployment"]].isna().all().all()
    filled = ["CPI", "Unemployment", "Temperature", "Fuel_Price"]
    assert feats.loc[~at_end, filled].notna().all().all()
    assert feats.loc[~at_end, "CPI"].between(100, 260).all()
    assert feats["Fuel_Price"].between(1.5, 6).all()
    assert feats["Unemployment"].dropna().between(2, 16).all()


def test_stores_types_and_sizes(default: dict[str, pd.DataFrame]) -> None:
    stores = default["stores"]
    assert stores["Type"].value_counts().to_dict() == {"A": 22, "B": 17, "C": 6}
    bounds = {"A": (150_000, 221_000), "B": (34_000, 141_000), "C": (34_000, 46_000)}
    for kind, (lo, hi) in bounds.items():
        assert stores.loc[stores["Type"] == kind, "Size"].between(lo, hi).all(), kind


# ----------------------------------------------------------------------------- sales realism


def test_some_series_incomplete(default: dict[str, pd.DataFrame]) -> None:
    train = default["train"]
    rows = train.groupby(["Store", "Dept"]).size()
    n_weeks = train["Date"].nunique()
    assert n_weeks == 143
    complete = (rows == n_weeks).mean()
    assert 0.6 < complete < 0.95  # real: 2,660 / 3,331 = 0.80
    coverage = len(rows) / (train["Store"].nunique() * train["Dept"].nunique())
    assert 0.8 < coverage < 1.0  # real: 3,331 / 3,645 = 0.91
    # series starting late / stopping early, and series with isolated gaps
    dates = pd.to_datetime(train["Date"])
    span = train.assign(d=dates).groupby(["Store", "Dept"])["d"].agg(["min", "max"])
    assert (span["min"] > dates.min()).any() and (span["max"] < dates.max()).any()
    span_weeks = (span["max"] - span["min"]).dt.days // 7 + 1
    assert (span_weeks > rows).any()
    # some departments exist in only a few stores
    assert train.groupby("Dept")["Store"].nunique().min() < 45


def test_incomplete_tiny_config(tiny: dict[str, pd.DataFrame]) -> None:
    rows = tiny["train"].groupby(["Store", "Dept"]).size()
    assert (rows < TINY.n_weeks).any() and (rows == TINY.n_weeks).any()


def test_negative_sales_present_but_rare(default: dict[str, pd.DataFrame]) -> None:
    sales = default["train"]["Weekly_Sales"]
    negative = sales[sales < 0]
    assert 0.0005 < len(negative) / len(sales) < 0.01  # real: 0.30 %
    assert negative.median() > -200  # small magnitudes (real median -13)


def test_scale_spread_and_holiday_effects(default: dict[str, pd.DataFrame]) -> None:
    s = summarize(default["train"], default["features"], default["stores"])
    assert s["series_mean_p90_p10"] > 100  # departments of very different scales
    assert s["dept_mean_max"] / max(s["dept_mean_min"], 1.0) > 1_000
    assert 1.02 < s["holiday_uplift"] < 1.2
    assert 1.2 < s["thanksgiving_uplift"] < 1.7
    # the Christmas peak is the week ending on the last Friday before Dec 25
    assert s["christmas_peak"] == {2010: "2010-12-24", 2011: "2011-12-23"}
    assert 1.4 < s["christmas_peak_ratio"] < 2.0
    # sales grow with store size
    total = default["train"].groupby("Store")["Weekly_Sales"].sum()
    assert total.corr(default["stores"].set_index("Store")["Size"]) > 0.5


def test_christmas_peak_moves_with_the_calendar() -> None:
    """Christmas shopping is built day by day, so the weeks it lands in follow the weekdays.

    Dec 24 is a Friday in 2010 (inside the week ending Dec 24), a Saturday in 2011 and a Monday
    in 2012 (both in the week after the peak week, which is then much stronger than in 2010).
    """
    cfg = SyntheticConfig(n_stores=10, n_depts=20, n_weeks=152, n_future_weeks=0)
    out = generate(cfg)
    s = summarize(out["train"], out["features"], out["stores"])
    assert s["christmas_peak"] == {2010: "2010-12-24", 2011: "2011-12-23", 2012: "2012-12-21"}
    weekly = out["train"].groupby("Date")["Weekly_Sales"].sum()
    after_2010 = weekly["2010-12-31"] / weekly["2010-12-24"]
    after_2011 = weekly["2011-12-30"] / weekly["2011-12-23"]
    after_2012 = weekly["2012-12-28"] / weekly["2012-12-21"]
    assert after_2010 < 0.6
    assert after_2012 > after_2011 > after_2010 + 0.05


def test_test_file_follows_history(tiny: dict[str, pd.DataFrame]) -> None:
    train, test = tiny["train"], tiny["test"]
    history = sorted(train["Date"].unique())
    future = pd.date_range(pd.Timestamp(history[-1]) + pd.Timedelta(days=7),
                           periods=TINY.n_future_weeks, freq="7D").strftime("%Y-%m-%d")  # fmt: skip
    assert sorted(test["Date"].unique()) == list(future)
    assert (test.groupby(["Store", "Dept"]).size() == TINY.n_future_weeks).all()
    test_pairs = set(map(tuple, test[["Store", "Dept"]].drop_duplicates().to_numpy()))
    train_pairs = set(map(tuple, train[["Store", "Dept"]].drop_duplicates().to_numpy()))
    at_end = train.loc[train["Date"] == history[-1], ["Store", "Dept"]]
    assert set(map(tuple, at_end.to_numpy())) <= test_pairs <= train_pairs
    assert test[["Store", "Dept", "Date"]].equals(
        test.sort_values(["Store", "Dept", "Date"])[["Store", "Dept", "Date"]]
    )


def test_no_future_weeks() -> None:
    out = generate(SyntheticConfig(n_stores=2, n_depts=3, n_weeks=10, n_future_weeks=0))
    assert out["test"].empty and list(out["test"].columns) == KAGGLE_COLUMNS["test"]
    assert out["features"]["CPI"].notna().all()
    assert len(out["features"]) == 2 * 10


def test_default_config_is_fast() -> None:
    t0 = time.perf_counter()
    out = generate(SyntheticConfig())
    elapsed = time.perf_counter() - t0
    assert 300_000 < len(out["train"]) < 550_000
    assert elapsed < 5.0


# --------------------------------------------------------------------------------- writing


def test_atomic_write_leaves_only_the_four_files(tiny_dir: Path) -> None:
    assert sorted(p.name for p in tiny_dir.iterdir()) == sorted(sy.FILE_NAMES.values())


def test_crash_while_writing_leaves_old_files_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "train.csv").write_text("old train\n")
    import retail_forecasting.synthetic.files as files

    real_csv_text = files._csv_text
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # train and features are written, then stores.csv fails
            raise OSError("disk full")
        return real_csv_text(*args, **kwargs)

    monkeypatch.setattr(files, "_csv_text", failing)
    with pytest.raises(OSError, match="disk full"):
        write_kaggle_files(tmp_path, TINY)
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]  # no temp dir, no new file
    assert (tmp_path / "train.csv").read_text() == "old train\n"


def test_write_returns_paths(tmp_path: Path) -> None:
    cfg = SyntheticConfig(n_stores=2, n_depts=3, n_weeks=12, n_future_weeks=3)
    paths = write_kaggle_files(tmp_path / "new" / "dir", cfg)
    assert set(paths) == {"train", "features", "stores", "test"}
    assert all(p.is_file() and p.parent == tmp_path / "new" / "dir" for p in paths.values())


def test_cli(tmp_path: Path) -> None:
    src = (
        Path(sy.__file__).resolve().parents[2]
    )  # src/ (the package is src/retail_forecasting/synthetic)
    path = os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    out_dir = tmp_path / "cli"
    result = subprocess.run(
        [sys.executable, "-m", "retail_forecasting.synthetic", str(out_dir), "--stores", "3",
         "--depts", "5", "--weeks", "20", "--future-weeks", "4", "--seed", "9"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    train = pd.read_csv(out_dir / "train.csv")
    features = pd.read_csv(out_dir / "features.csv")
    assert f"train.csv={len(train):,}" in lines[0]
    assert f"features.csv={len(features):,}" in lines[0] and len(features) == 3 * 24
    assert "stores.csv=3" in lines[0] and " s" in lines[0]
    assert train["Store"].nunique() == 3 and train["Date"].nunique() <= 20
    bad = subprocess.run(
        [sys.executable, "-m", "retail_forecasting.synthetic", str(out_dir), "--stores", "0"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "n_stores" in bad.stderr


# -------------------------------------------------------------------------------- summarize


def test_summarize_on_a_hand_made_bundle() -> None:
    weeks = ["2010-11-19", "2010-11-26", "2010-12-03", "2010-12-10", "2010-12-17", "2010-12-24"]
    rows = [(1, 1, w, v) for w, v in zip(weeks, [100, 300, 200, 200, 250, 400], strict=True)]
    rows += [(1, 2, weeks[0], 10.0), (1, 2, weeks[1], -5.0), (2, 1, weeks[2], 50.0)]
    train = pd.DataFrame(rows, columns=["Store", "Dept", "Date", "Weekly_Sales"])
    train["IsHoliday"] = train["Date"] == "2010-11-26"
    fdates = ["2011-10-28", "2011-11-04", "2011-11-11"]
    features = pd.DataFrame(
        {"Store": [1, 1, 1, 2, 2, 2], "Date": fdates * 2,
         "CPI": [1.0, np.nan, np.nan, 1.0, 1.0, np.nan],
         "Unemployment": [1.0, 1.0, np.nan, 1.0, 1.0, np.nan]}
    )  # fmt: skip
    md = np.full((6, 5), np.nan)
    md[0, 0] = 1.0  # before 2011-11-01: 1 of 10 cells
    md[[1, 2, 4, 5], :3] = 1.0  # after: 12 of 20 cells ...
    md[1, 3] = md[2, 4] = 1.0  # ... + 2 = 14 of 20
    features[MD] = md
    stores = pd.DataFrame({"Store": [1, 2], "Type": ["A", "C"], "Size": [200_000, 40_000]})

    s = summarize(train, features, stores)

    assert (s["train_rows"], s["stores"], s["depts"], s["weeks"]) == (9, 2, 2, 6)
    assert (s["series"], s["complete_series"]) == (3, 1)
    assert s["complete_share"] == pytest.approx(1 / 3)
    assert s["coverage"] == pytest.approx(0.75)
    # series means 241.67, 2.5, 50 -> linear-interpolated p10 = 12, p50 = 50, p90 = 203.33
    assert s["series_mean_p10"] == pytest.approx(12.0)
    assert s["series_mean_p50"] == pytest.approx(50.0)
    assert s["series_mean_p90"] == pytest.approx(50 + 0.8 * (1450 / 6 - 50))
    assert s["series_mean_p90_p10"] == pytest.approx((50 + 0.8 * (1450 / 6 - 50)) / 12)
    assert s["dept_mean_min"] == pytest.approx(2.5)
    assert s["dept_mean_max"] == pytest.approx(1500 / 7)
    # holiday rows 300, -5 (mean 147.5); other rows sum 1210 over 7
    assert s["holiday_uplift"] == pytest.approx(147.5 / (1210 / 7))
    # weekly totals 110, 295, 250, 200, 250, 400 (mean 1505 / 6)
    assert s["thanksgiving_uplift"] == pytest.approx(295 / (1505 / 6))
    assert s["christmas_peak"] == {2010: "2010-12-24"}
    assert s["christmas_peak_ratio"] == pytest.approx(400 / (1505 / 6))
    assert (s["negative_rows"], s["negative_share"]) == (1, pytest.approx(1 / 9))
    assert s["total_sales"] == pytest.approx(1505.0)
    assert s["markdown_notna_before"] == pytest.approx(0.1)
    assert s["markdown_notna_after"] == pytest.approx(0.7)
    assert s["macro_missing_tail_weeks"] == 1
    assert s["store_types"] == {"A": 1, "C": 1}
    assert s["size_by_type"] == {"A": (200_000, 200_000), "C": (40_000, 40_000)}


def test_summarize_without_december_has_no_peak(tiny: dict[str, pd.DataFrame]) -> None:
    train = tiny["train"][tiny["train"]["Date"] < "2010-12-01"]
    s = summarize(train, tiny["features"], tiny["stores"])
    assert s["christmas_peak"] == {} and math.isnan(s["christmas_peak_ratio"])
