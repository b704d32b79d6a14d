"""Unit tests of the ``eda`` nodes on the fixture panel (tests/pipelines/conftest.py).

The panel: 3 stores x 4 depts x 150 Fridays from 2010-02-05; (1, 2) misses 3 weeks, (2, 3)
one week, (3, 4) starts at week 115; 5 negative sales; markdowns from 2011-11-01; the other
covariates are drawn per row, so they differ between the departments of a store-week.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from retail_forecasting.pipelines.eda import nodes
from retail_forecasting.pipelines.eda.nodes import (
    EdaParameters,
    aggregate_store_weeks,
    aggregate_weekly_sales,
    check_data_quality,
    compute_holiday_uplift,
    correlate_covariates,
    plot_markdowns_vs_sales,
    plot_total_weekly_sales,
    profile_series,
    profile_stores,
    rank_departments,
    summarize_data_quality,
    summarize_sales,
)


@pytest.fixture
def params() -> EdaParameters:
    return EdaParameters()


@pytest.fixture
def split_frames(splits) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return splits["prm_train"], splits["prm_validation"], splits["prm_test"]


@pytest.fixture
def series_profile(split_frames) -> pd.DataFrame:
    return profile_series(*split_frames)


@pytest.fixture
def weekly(split_frames) -> pd.DataFrame:
    return aggregate_weekly_sales(*split_frames)


@pytest.fixture
def store_weeks(split_frames, params) -> pd.DataFrame:
    return aggregate_store_weeks(*split_frames, params)


def via_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as the catalog gives it back after a CSV round trip."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    buffer.seek(0)
    return pd.read_csv(buffer)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- split summary ---------------------------------------------------------------------------


def test_summarize_sales_per_split(splits, panel):
    summary = summarize_sales(*splits.values()).set_index("split")

    assert summary.index.tolist() == ["train", "validation", "test"]
    assert summary["rows"].tolist() == [len(frame) for frame in splits.values()]
    assert summary["rows"].sum() == len(panel)
    # (3, 4) only starts in the test window
    assert summary["series"].tolist() == [11, 11, 12]
    assert summary["weeks"].tolist() == [72, 39, 39]
    assert summary.loc["train", "start"] == "2010-02-05"
    assert summary.loc["test", "end"] == "2012-12-14"
    # Kaggle holidays in each window: 2010-02-12, 2010-09-10, 2010-11-26, 2010-12-31,
    # 2011-02-11 | 2011-09-09, 2011-11-25, 2011-12-30, 2012-02-10 | 2012-09-07, 2012-11-23
    assert summary["holiday_weeks"].tolist() == [5, 4, 2]
    assert summary["negative_sales_rows"].sum() == int((panel["weekly_sales"] < 0).sum()) > 0
    assert np.isclose(summary["total_sales"].sum(), panel["weekly_sales"].sum())


def test_summarize_sales_names_a_missing_column(splits):
    with pytest.raises(ValueError, match=r"prm_test is missing column\(s\) \['is_holiday'\]"):
        summarize_sales(
            splits["prm_train"],
            splits["prm_validation"],
            splits["prm_test"].drop(columns="is_holiday"),
        )


def test_summarize_sales_refuses_an_empty_split(splits):
    with pytest.raises(ValueError, match="prm_validation is empty"):
        summarize_sales(splits["prm_train"], splits["prm_validation"].head(0), splits["prm_test"])


# --- parameters ------------------------------------------------------------------------------


def test_parameters_reject_bad_values_and_unknown_keys(split_frames):
    with pytest.raises(ValueError, match="missing_period must be 'month' or 'quarter'"):
        EdaParameters(missing_period="week")
    with pytest.raises(ValueError, match="top_departments must be >= 1"):
        EdaParameters(top_departments=0)
    with pytest.raises(ValueError, match=r"Unknown eda parameter\(s\) \['top_depts'\]"):
        aggregate_store_weeks(*split_frames, {"top_depts": 3})


def test_parameters_match_the_project_configuration():
    from pathlib import Path

    import yaml

    conf = Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_eda.yml"
    raw = yaml.safe_load(conf.read_text(encoding="utf-8"))["eda"]
    assert EdaParameters(**raw) == EdaParameters()


# --- data quality ----------------------------------------------------------------------------


def test_profile_series_reports_gaps_late_starts_and_negative_weeks(series_profile):
    profile = series_profile.set_index(["store", "dept"])

    assert len(profile) == 12
    assert profile.loc[(1, 2), "missing_weeks"] == 3
    assert profile.loc[(2, 3), "missing_weeks"] == 1
    assert profile["missing_weeks"].sum() == 4
    late = profile.loc[(3, 4)]
    assert late["weeks_observed"] == late["weeks_span"] == 35
    assert bool(late["starts_late"]) and not bool(late["ends_early"])
    assert profile["starts_late"].sum() == 1
    assert profile["negative_weeks"].sum() == 5
    assert (profile["weeks_span"] == profile["weeks_observed"] + profile["missing_weeks"]).all()


def test_check_data_quality_on_the_fixture(split_frames, series_profile, params):
    checks, missing = check_data_quality(*split_frames, series_profile, params)

    assert list(checks.columns) == ["check", "column", "status", "value", "detail"]
    assert set(checks["status"]) <= {"ok", "warning", "error"}
    by_check = checks.drop_duplicates("check", keep="first").set_index("check")
    for ok in (
        "duplicate_keys",
        "weeks_end_on_friday",
        "weekly_calendar",
        "chronological_splits",
        "holiday_flag_per_week",
        "static_store_attributes",
        "missing_values",
    ):
        assert by_check.loc[ok, "status"] == "ok", ok
    assert (checks.loc[checks["check"] == "schema", "status"] == "ok").all()
    assert by_check.loc["series_with_gaps", ["status", "value"]].tolist() == ["warning", 2]
    assert by_check.loc["short_series", "value"] == 1  # (3, 4): 35 weeks < 52
    assert by_check.loc["negative_sales", "value"] == 5
    # the fixture draws covariates per row: departments of a store-week disagree
    assert by_check.loc["covariates_per_store_week", "status"] == "error"

    missing_rows = checks.loc[checks["check"] == "missing_covariate"].set_index("column")
    markdown1 = missing_rows.loc[["markdown1"]]
    assert markdown1["status"].item() == "warning" and 0 < markdown1["value"].item() < 100
    temperature = checks.loc[checks["column"] == "temperature"]
    assert temperature["status"].tolist() == ["ok", "ok"]  # schema and missing values

    # missing covariates by quarter: markdowns start on 2011-11-01
    assert set(missing["covariate"]) == set(params.covariates)
    grid = missing.pivot(index="period", columns="covariate", values="missing_pct")
    assert grid.loc["2010Q1", "markdown1"] == 100.0
    assert grid.loc["2012Q1", "markdown1"] == 0.0
    assert 0 < grid.loc["2011Q4", "markdown1"] < 100
    assert (grid["temperature"] == 0).all()
    assert (missing["store_weeks"] > 0).all()


def test_check_data_quality_flags_schema_duplicates_and_overlap(split_frames, series_profile):
    train, validation, test = split_frames
    broken_test = pd.concat([test, test.head(2)], ignore_index=True).assign(
        store_size=lambda f: f["store_size"].astype(float)
    )
    overlapping = pd.concat([validation, train.tail(1)], ignore_index=True)
    checks, _ = check_data_quality(train, overlapping, broken_test, series_profile, None)
    errors = checks.loc[checks["status"] == "error"].set_index(["check", "column"])

    assert "prm_test: float64" in errors.loc[("schema", "store_size"), "detail"]
    # two repeated test rows, and the train row copied into validation
    assert errors.loc[("duplicate_keys", "store, dept, date"), "value"] == 3
    assert (
        "train ends 2011-06-17 >= validation starts"
        in errors.loc[("chronological_splits", "date"), "detail"]
    )


def test_check_data_quality_flags_dates_that_are_not_fridays(split_frames, series_profile):
    train, validation, test = split_frames
    shifted = test.assign(date=test["date"] + pd.Timedelta(days=1))
    checks, _ = check_data_quality(train, validation, shifted, series_profile, EdaParameters())
    row = checks.set_index("check").loc["weeks_end_on_friday"]
    assert row["status"] == "error" and row["value"] == 39


def test_summarize_data_quality_writes_a_markdown_report(
    split_frames, series_profile, params, panel
):
    checks, missing = check_data_quality(*split_frames, series_profile, params)
    report = summarize_data_quality(
        via_csv(summarize_sales(*split_frames)),
        via_csv(checks),
        via_csv(missing),
        via_csv(series_profile),
    )

    assert report.startswith("# Data quality of the primary splits")
    assert (
        f"{len(panel):,} rows, 12 store-department series (3 stores x 4 departments), 150 weeks "
        "from 2010-02-05 to 2012-12-14" in report
    )
    assert "**error** `covariates_per_store_week`" in report
    assert "**warning** `series_with_gaps` (store, dept): 2 of 12 series" in report
    assert "- `markdown1`: missing in" in report
    assert "| check | column | status | value | detail |" in report
    assert "nan" not in report


# --- sales over time -------------------------------------------------------------------------


def test_aggregate_weekly_sales(weekly, panel):
    assert len(weekly) == 150
    totals = panel.groupby("date")["weekly_sales"].sum()
    assert np.allclose(weekly.set_index("date")["total_sales"], totals)
    assert weekly["split"].value_counts().to_dict() == {"train": 72, "validation": 39, "test": 39}
    by_date = weekly.set_index("date")
    assert by_date.loc["2010-11-26", "holiday"] == "Thanksgiving"
    assert by_date.loc["2010-12-31", "holiday"] == "Christmas"
    assert by_date.loc["2011-02-11", "holiday"] == "Super Bowl"
    assert by_date.loc["2010-12-24", "holiday"] == ""
    # weeks placed relative to their Christmas: 24 Dec 2010 is one day before, 7 Jan 2011 13
    # days after the 2010 Christmas, 23 Dec 2011 two days before
    season = ["christmas_season", "days_from_christmas"]
    assert by_date.loc["2010-12-24", season].tolist() == [2010, -1]
    assert by_date.loc["2011-01-07", season].tolist() == [2010, 13]
    assert by_date.loc["2011-12-23", season].tolist() == [2011, -2]
    assert by_date.loc["2010-12-24", ["iso_year", "iso_week"]].tolist() == [2010, 51]


def test_plot_total_weekly_sales_from_the_csv_table(weekly, panel):
    figure = plot_total_weekly_sales(via_csv(weekly))
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    assert ax.get_title() and ax.get_xlabel() and "USD" in ax.get_ylabel()
    (line,) = ax.get_lines()
    totals = panel.groupby("date")["weekly_sales"].sum() / 1e6
    assert np.allclose(line.get_ydata(), totals.to_numpy())
    # holiday weeks as points, one colour per holiday: 11 in the fixture's 150 weeks
    points = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert points == {"Super Bowl": 3, "Labor Day": 3, "Thanksgiving": 3, "Christmas": 2}
    assert [patch.get_label() for patch in ax.patches] == ["Validation window", "Test window"]


def test_compute_holiday_uplift(weekly):
    uplift = compute_holiday_uplift(via_csv(weekly))

    assert uplift["holiday"].drop_duplicates().tolist() == [
        "Super Bowl",
        "Labor Day",
        "Thanksgiving",
        "Week before Christmas",
        "Christmas",
    ]
    assert len(uplift) == 11 + 2  # the flagged weeks and the two unflagged pre-Christmas weeks
    pre = uplift.loc[uplift["holiday"] == "Week before Christmas"]
    assert [f"{day:%Y-%m-%d}" for day in pre["date"]] == ["2010-12-24", "2011-12-23"]
    assert not pre["is_holiday"].any()
    assert uplift.loc[~uplift.index.isin(pre.index), "is_holiday"].all()
    expected = 100 * (uplift["total_sales"] / uplift["baseline_sales"] - 1)
    assert np.allclose(uplift["uplift_pct"], expected)
    # baseline: the median total of the year's non-holiday weeks
    other_2010 = weekly[(weekly["date"].dt.year == 2010) & ~weekly["is_holiday"]]
    assert np.allclose(
        uplift.loc[uplift["year"] == 2010, "baseline_sales"], other_2010["total_sales"].median()
    )


# --- stores and departments ------------------------------------------------------------------


def test_profile_stores(split_frames, panel):
    stores = profile_stores(*split_frames).set_index("store")

    assert stores["store_type"].to_dict() == {1: "A", 2: "B", 3: "C"}
    assert stores["departments"].tolist() == [4, 4, 4]
    assert stores["weeks"].tolist() == [150, 150, 150]
    store_week = panel.groupby(["store", "date"])["weekly_sales"].sum()
    assert np.allclose(stores["mean_weekly_sales"], store_week.groupby("store").mean())
    assert np.isclose(stores["total_sales"].sum(), panel["weekly_sales"].sum())


def test_rank_departments_and_plot_the_top(split_frames, panel):
    departments = rank_departments(*split_frames)

    assert departments["rank"].tolist() == [1, 2, 3, 4]
    assert departments["total_sales"].is_monotonic_decreasing
    assert np.isclose(departments["cumulative_share_pct"].iloc[-1], 100.0)
    assert departments.set_index("dept").loc[4, "stores"] == 3
    figure = nodes.plot_top_departments(via_csv(departments), {"top_departments": 2})
    figure.canvas.draw()
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"Dept {d}" for d in departments["dept"].head(2).iloc[::-1]
    ]
    assert ax.get_title().startswith("Top 2 of 4 departments")


# --- covariates ------------------------------------------------------------------------------


def test_aggregate_store_weeks(store_weeks, panel):
    assert len(store_weeks) == panel[["store", "date"]].drop_duplicates().shape[0] == 450
    sales = panel.groupby(["store", "date"])["weekly_sales"].sum().to_numpy()
    assert np.allclose(store_weeks["weekly_sales"], sales)
    assert np.allclose(store_weeks.groupby("store")["sales_index"].mean(), 100.0)
    before = store_weeks["date"] < "2011-11-01"
    assert store_weeks.loc[before, "markdown_total"].isna().all()
    assert store_weeks.loc[~before, "markdown_total"].notna().all()


def test_aggregate_store_weeks_names_a_missing_covariate(split_frames):
    train, validation, test = split_frames
    with pytest.raises(ValueError, match=r"prm_train is missing column\(s\) \['cpi'\]"):
        aggregate_store_weeks(train.drop(columns="cpi"), validation, test, EdaParameters())


def test_correlate_covariates_across_and_within_stores():
    rng = np.random.default_rng(0)
    store = np.repeat([1, 2, 3], 40)
    level = np.repeat([1e5, 2e5, 3e5], 40)
    signal = rng.normal(0, 1, 120)
    sales = level * (1 + 0.1 * signal)
    table = pd.DataFrame(
        {
            "store": store,
            "weekly_sales": sales,
            "sales_index": 100 * sales / pd.Series(sales).groupby(store).transform("mean"),
            "temperature": signal,  # drives sales within a store
            "store_size": level,  # drives sales across stores only
            "is_holiday": False,
        }
    )
    correlations = correlate_covariates(table, EdaParameters(covariates=["temperature"])).set_index(
        "covariate"
    )

    assert correlations.index.tolist() == ["temperature", "store_size", "is_holiday"]
    assert correlations.loc["temperature", "spearman_within_store"] > 0.99
    assert correlations.loc["store_size", "spearman_across_stores"] > 0.8
    assert np.isnan(correlations.loc["store_size", "spearman_within_store"])
    assert np.isnan(correlations.loc["is_holiday", "spearman_across_stores"])  # constant
    assert correlations.loc["temperature", "store_weeks"] == 120


def test_plot_markdowns_without_any_markdown_says_so(store_weeks):
    empty = store_weeks.assign(**{c: np.nan for c in store_weeks if c.startswith("markdown")})
    figure = plot_markdowns_vs_sales(empty)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert "No markdown values in the data" in texts


# --- every figure from its CSV table ---------------------------------------------------------


@pytest.mark.parametrize(
    ("plot", "table"),
    [
        ("plot_total_weekly_sales", "weekly"),
        ("plot_yearly_overlay", "weekly"),
        ("plot_holiday_uplift", "uplift"),
        ("plot_store_sales", "stores"),
        ("plot_series_profile", "series_profile"),
        ("plot_missing_covariates", "missing"),
        ("plot_markdowns_vs_sales", "store_weeks"),
        ("plot_covariate_correlations", "correlations"),
    ],
)
def test_every_figure_is_drawn_from_its_csv_table(
    plot, table, split_frames, weekly, series_profile, store_weeks, params
):
    tables = {
        "weekly": weekly,
        "uplift": compute_holiday_uplift(weekly),
        "stores": profile_stores(*split_frames),
        "series_profile": series_profile,
        "missing": check_data_quality(*split_frames, series_profile, params)[1],
        "store_weeks": store_weeks,
        "correlations": correlate_covariates(store_weeks, params),
    }
    figure = getattr(nodes, plot)(via_csv(tables[table]))

    assert isinstance(figure, Figure)
    assert figure.get_suptitle() or figure.axes[0].get_title(), "every figure has a title"
    assert all(ax.get_title() for ax in figure.axes if ax.get_xlabel()), plot  # not twins
    assert any(ax.get_xlabel() for ax in figure.axes), plot
    assert any(ax.get_ylabel() or ax.get_yticklabels() for ax in figure.axes), plot
