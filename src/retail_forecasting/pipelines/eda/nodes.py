"""Nodes of the ``eda`` pipeline: data quality, dashboard tables and figures of the primary splits.

Two kinds of nodes:

* table nodes (``summarize_*``, ``check_*``, ``profile_*``, ``aggregate_*``, ``rank_*``,
  ``compute_*``, ``correlate_*``) read the primary splits and return one reporting table each;
* ``plot_*`` nodes draw one figure from one of those tables only, so the CSV written next to
  every figure is exactly the data behind it: a dashboard or a notebook redraws the figure from
  the table (``plot_holiday_uplift(catalog.load("rpt_eda_holiday_uplift"))``).

Tables may come back from CSV, so the ``plot_*`` nodes parse their date columns themselves.
Amounts are in USD as in the Kaggle data; figures show millions (or thousands) of USD.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

logger = logging.getLogger(__name__)

SERIES = ["store", "dept"]
KEYS = [*SERIES, "date"]
TARGET = "weekly_sales"
SPLITS = ("train", "validation", "test")
SALES_UNIT = 1e6  # figures show millions of USD
MARKDOWN_TOTAL = "markdown_total"

#: Kaggle's four holidays, named by the month of their ``IsHoliday`` week.
HOLIDAY_BY_MONTH = {2: "Super Bowl", 9: "Labor Day", 11: "Thanksgiving", 12: "Christmas"}
#: The week ending on the Friday 18-24 December: the shopping peak, not flagged by Kaggle.
PRE_CHRISTMAS = "Week before Christmas"
HOLIDAY_ORDER = ["Super Bowl", "Labor Day", "Thanksgiving", PRE_CHRISTMAS, "Christmas"]
HOLIDAY_COLORS = {
    "Super Bowl": "tab:blue",
    "Labor Day": "tab:green",
    "Thanksgiving": "tab:orange",
    "Christmas": "tab:red",
    "Holiday": "tab:purple",
}

LABELS = {
    "temperature": "Temperature",
    "fuel_price": "Fuel price",
    "markdown1": "Markdown 1",
    "markdown2": "Markdown 2",
    "markdown3": "Markdown 3",
    "markdown4": "Markdown 4",
    "markdown5": "Markdown 5",
    MARKDOWN_TOTAL: "Markdowns, all 5",
    "cpi": "CPI",
    "unemployment": "Unemployment rate",
    "store_size": "Store size",
    "is_holiday": "Holiday week",
}

#: Expected kind of every column of the primary splits (covariates are added from parameters).
SCHEMA = {
    "store": "integer",
    "dept": "integer",
    "date": "datetime",
    TARGET: "number",
    "is_holiday": "boolean",
    "store_type": "string",
    "store_size": "integer",
}
_KIND_CHECKS = {
    "integer": pd.api.types.is_integer_dtype,
    "number": lambda dtype: pd.api.types.is_numeric_dtype(dtype)
    and not pd.api.types.is_bool_dtype(dtype),
    "datetime": pd.api.types.is_datetime64_any_dtype,
    "boolean": pd.api.types.is_bool_dtype,
    "string": lambda dtype: pd.api.types.is_string_dtype(dtype)
    or pd.api.types.is_object_dtype(dtype),
}


@dataclass(frozen=True)
class EdaParameters:
    """Options of the ``eda`` pipeline (``conf/base/parameters_eda.yml``, key ``eda``).

    Kedro validates ``params:eda`` against this class before any node runs, so a typo in a
    key or a bad value stops the run with a message naming it.
    """

    #: Departments shown in the top-departments figure (the table ranks them all).
    top_departments: int = 15
    #: Store-week covariates checked for missing values and correlated with sales.
    covariates: list[str] = field(
        default_factory=lambda: [
            "temperature", "fuel_price", "markdown1", "markdown2", "markdown3", "markdown4",
            "markdown5", "cpi", "unemployment",
        ]
    )
    #: Period of the missing-covariates table: ``month`` or ``quarter``.
    missing_period: str = "quarter"
    #: Series with fewer observed weeks are reported as short (52 = one yearly season).
    min_series_weeks: int = 52

    def __post_init__(self) -> None:
        if int(self.top_departments) < 1:
            raise ValueError(f"eda.top_departments must be >= 1, got {self.top_departments}")
        if self.missing_period not in {"month", "quarter"}:
            raise ValueError(
                f"eda.missing_period must be 'month' or 'quarter', got {self.missing_period!r}"
            )
        if not self.covariates:
            raise ValueError("eda.covariates must name at least one column")
        if int(self.min_series_weeks) < 1:
            raise ValueError(f"eda.min_series_weeks must be >= 1, got {self.min_series_weeks}")

    @property
    def markdowns(self) -> list[str]:
        """The covariates that are markdowns (``markdown1`` .. ``markdown5``)."""
        return [c for c in self.covariates if c.startswith("markdown")]


def _parameters(parameters: EdaParameters | Mapping | None) -> EdaParameters:
    """Accept the dataclass (as Kedro passes it), a plain dict (notebooks, tests) or None."""
    if parameters is None:
        return EdaParameters()
    if isinstance(parameters, EdaParameters):
        return parameters
    unknown = set(parameters) - {f.name for f in fields(EdaParameters)}
    if unknown:
        raise ValueError(f"Unknown eda parameter(s) {sorted(unknown)}")
    return EdaParameters(**parameters)


# --- inputs --------------------------------------------------------------------------------


def _named_splits(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    splits = dict(zip(SPLITS, (prm_train, prm_validation, prm_test), strict=True))
    for name, frame in splits.items():
        missing = [col for col in [*SERIES, "date", TARGET, "is_holiday"] if col not in frame]
        if missing:
            raise ValueError(f"prm_{name} is missing column(s) {missing}")
        if frame.empty:
            raise ValueError(f"prm_{name} is empty")
    return splits


def _history(
    prm_train: pd.DataFrame,
    prm_validation: pd.DataFrame,
    prm_test: pd.DataFrame,
    required: Iterable[str] = (),
) -> pd.DataFrame:
    """All splits as one frame with a ``split`` column; ``required`` columns must exist."""
    splits = _named_splits(prm_train, prm_validation, prm_test)
    for name, frame in splits.items():
        missing = [col for col in required if col not in frame]
        if missing:
            raise ValueError(f"prm_{name} is missing column(s) {missing}")
    return pd.concat(
        [frame.assign(split=name) for name, frame in splits.items()], ignore_index=True
    )


def _with_dates(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``table`` with ``columns`` parsed as datetimes (tables may come back from CSV)."""
    return table.assign(**{col: pd.to_datetime(table[col]) for col in columns})


def _year_color(year: int) -> str:
    """The same colour for a year in every figure."""
    return plt.cm.tab10(int(year) % 10)


def _label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " ").capitalize())


def _finish(fig: Figure, ax_or_axes, title: str | None = None) -> Figure:
    for ax in np.atleast_1d(ax_or_axes):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


# --- split summary ---------------------------------------------------------------------------


def summarize_sales(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Summarise each split: size, coverage, total sales, negative sales, holiday weeks.

    Returns:
        One row per split with ``rows``, ``series`` (distinct store-dept pairs), ``weeks``
        (distinct dates), ``start``/``end`` (first/last week, ``YYYY-MM-DD``),
        ``total_sales``, ``negative_sales_rows`` and ``holiday_weeks`` (distinct dates).
    """
    summary = pd.DataFrame(
        [
            {
                "split": name,
                "rows": len(frame),
                "series": len(frame[SERIES].drop_duplicates()),
                "weeks": frame["date"].nunique(),
                "start": f"{frame['date'].min():%Y-%m-%d}",
                "end": f"{frame['date'].max():%Y-%m-%d}",
                "total_sales": float(frame[TARGET].sum()),
                "negative_sales_rows": int((frame[TARGET] < 0).sum()),
                "holiday_weeks": frame.loc[frame["is_holiday"].astype(bool), "date"].nunique(),
            }
            for name, frame in _named_splits(prm_train, prm_validation, prm_test).items()
        ]
    )
    logger.info("Sales summary:\n%s", summary.to_string(index=False))
    return summary


# --- data quality ----------------------------------------------------------------------------


def profile_series(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Profile every (store, dept) series: span, gaps, scale, negative and zero weeks.

    Returns:
        One row per series: ``first_week``, ``last_week``, ``weeks_span`` (weeks from first to
        last, inclusive), ``weeks_observed`` (distinct weeks with a row), ``missing_weeks``
        (gaps inside the span), ``rows``, ``mean_weekly_sales``, ``median_weekly_sales``,
        ``std_weekly_sales``, ``total_sales``, ``negative_weeks``, ``zero_weeks``,
        ``starts_late`` / ``ends_early`` (the series misses the first / last week of the
        history).
    """
    history = _history(prm_train, prm_validation, prm_test)
    history = history.assign(
        _negative=history[TARGET] < 0, _zero=history[TARGET] == 0
    )
    profile = (
        history.groupby(SERIES)
        .agg(
            first_week=("date", "min"),
            last_week=("date", "max"),
            weeks_observed=("date", "nunique"),
            rows=("date", "size"),
            mean_weekly_sales=(TARGET, "mean"),
            median_weekly_sales=(TARGET, "median"),
            std_weekly_sales=(TARGET, "std"),
            total_sales=(TARGET, "sum"),
            negative_weeks=("_negative", "sum"),
            zero_weeks=("_zero", "sum"),
        )
        .reset_index()
    )
    span = (profile["last_week"] - profile["first_week"]).dt.days // 7 + 1
    profile.insert(4, "weeks_span", span.astype("int64"))
    profile.insert(6, "missing_weeks", (span - profile["weeks_observed"]).astype("int64"))
    profile["starts_late"] = profile["first_week"] > history["date"].min()
    profile["ends_early"] = profile["last_week"] < history["date"].max()
    logger.info(
        "Profiled %d series: %d with gaps (%d missing weeks), median length %d weeks",
        len(profile),
        int((profile["missing_weeks"] > 0).sum()),
        int(profile["missing_weeks"].sum()),
        int(profile["weeks_observed"].median()),
    )
    return profile


def _schema_checks(splits: dict[str, pd.DataFrame], covariates: list[str]) -> list[dict]:
    rows = []
    for column, kind in {**SCHEMA, **dict.fromkeys(covariates, "number")}.items():
        problems = []
        for name, frame in splits.items():
            if column not in frame:
                problems.append(f"prm_{name}: missing")
            elif not _KIND_CHECKS[kind](frame[column].dtype):
                problems.append(f"prm_{name}: {frame[column].dtype}")
        rows.append(
            {
                "check": "schema",
                "column": column,
                "status": "error" if problems else "ok",
                "value": float(len(problems)),
                "detail": f"expected {kind}"
                + (f"; found {', '.join(problems)}" if problems else ""),
            }
        )
    return rows


def _missing_by_period(store_weeks: pd.DataFrame, covariates: list[str], period: str):
    freq = {"month": "M", "quarter": "Q"}[period]
    periods = store_weeks["date"].dt.to_period(freq)
    missing = store_weeks[covariates].isna().groupby(periods).agg(["sum", "size"])
    table = []
    for covariate in covariates:
        for key, row in missing[covariate].iterrows():
            table.append(
                {
                    "period": str(key),
                    "period_start": key.start_time.normalize(),
                    "covariate": covariate,
                    "store_weeks": int(row["size"]),
                    "missing_store_weeks": int(row["sum"]),
                    "missing_pct": 100.0 * row["sum"] / row["size"],
                }
            )
    return pd.DataFrame(table)


def check_data_quality(
    prm_train: pd.DataFrame,
    prm_validation: pd.DataFrame,
    prm_test: pd.DataFrame,
    series_profile: pd.DataFrame,
    parameters: EdaParameters,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the primary splits against the panel contract and report what deviates.

    The checks report, they do not raise: EDA shows the data as it is. Columns that the
    checks themselves need (store, dept, date, weekly_sales, is_holiday) must exist.

    Args:
        prm_train, prm_validation, prm_test: The primary splits.
        series_profile: ``rpt_eda_series_profile`` (gaps per series).
        parameters: ``params:eda`` (covariates, missing-values period, short-series bound).

    Returns:
        ``rpt_eda_quality_checks``: one row per check with ``check``, ``column``, ``status``
        (``ok``, ``warning`` or ``error``), ``value`` (a count or a percentage) and ``detail``;
        and ``rpt_eda_missing_covariates``: per period and covariate, the share of store-weeks
        without a value (``missing_pct``).
    """
    params = _parameters(parameters)
    splits = _named_splits(prm_train, prm_validation, prm_test)
    history = _history(prm_train, prm_validation, prm_test)
    n_rows = len(history)
    checks = _schema_checks(splits, params.covariates)

    def add(check: str, status: str, value: float, detail: str, column: str = "") -> None:
        checks.append(
            {"check": check, "column": column, "status": status, "value": float(value),
             "detail": detail}
        )

    def flag(count: float, bad: str = "warning") -> str:
        return bad if count else "ok"

    duplicates = int(history.duplicated(KEYS).sum())
    add("duplicate_keys", flag(duplicates, "error"), duplicates,
        f"{duplicates:,} rows repeat a (store, dept, date) key", "store, dept, date")

    dates = pd.Series(history["date"].unique())
    not_friday = int((dates.dt.day_of_week != 4).sum())
    add("weeks_end_on_friday", flag(not_friday, "error"), not_friday,
        f"{not_friday:,} distinct dates are not a Friday (Kaggle weeks end on Friday)", "date")

    calendar = pd.date_range(dates.min(), dates.max(), freq="7D")
    absent = calendar.difference(pd.DatetimeIndex(dates))
    add("weekly_calendar", flag(len(absent)), len(absent),
        f"{len(absent):,} weeks without any row between {dates.min():%Y-%m-%d} and "
        f"{dates.max():%Y-%m-%d}"
        + (f": {', '.join(f'{d:%Y-%m-%d}' for d in absent[:5])}" if len(absent) else ""),
        "date")

    bounds = {name: (frame["date"].min(), frame["date"].max()) for name, frame in splits.items()}
    overlaps = [
        f"{a} ends {bounds[a][1]:%Y-%m-%d} >= {b} starts {bounds[b][0]:%Y-%m-%d}"
        for a, b in zip(SPLITS, SPLITS[1:])
        if bounds[a][1] >= bounds[b][0]
    ]
    add("chronological_splits", flag(len(overlaps), "error"), len(overlaps),
        "; ".join(overlaps) or "train < validation < test, no overlap", "date")

    n_series = len(series_profile)
    gaps = series_profile.loc[series_profile["missing_weeks"] > 0]
    add("series_with_gaps", flag(len(gaps)), len(gaps),
        f"{len(gaps):,} of {n_series:,} series miss weeks inside their span "
        f"({int(gaps['missing_weeks'].sum()):,} missing weeks in all, at most "
        f"{int(gaps['missing_weeks'].max()) if len(gaps) else 0} in one series)", "store, dept")

    short = int((series_profile["weeks_observed"] < params.min_series_weeks).sum())
    add("short_series", flag(short), short,
        f"{short:,} of {n_series:,} series have fewer than {params.min_series_weeks} observed "
        "weeks", "store, dept")
    late = int(series_profile["starts_late"].sum())
    early = int(series_profile["ends_early"].sum())
    add("series_start_late", flag(late), late,
        f"{late:,} series start after the first week of the history (new departments)",
        "store, dept")
    add("series_end_early", flag(early), early,
        f"{early:,} series end before the last week of the history (no recent sales to "
        "forecast from)", "store, dept")

    negative = history[TARGET] < 0
    add("negative_sales", flag(int(negative.sum())), int(negative.sum()),
        f"{int(negative.sum()):,} rows with weekly_sales < 0 (returns exceed sales): "
        f"{100 * negative.mean():.2f}% of "
        f"rows, in {history.loc[negative, SERIES].drop_duplicates().shape[0]} series, "
        f"{history.loc[negative, TARGET].sum():,.0f} USD in all", TARGET)
    zero = int((history[TARGET] == 0).sum())
    add("zero_sales", flag(zero), zero, f"{zero:,} rows with weekly_sales == 0", TARGET)

    key_missing = {
        col: int(history[col].isna().sum()) for col in SCHEMA if col in history
    }
    bad = {col: n for col, n in key_missing.items() if n}
    add("missing_values", flag(sum(bad.values()), "error"), sum(bad.values()),
        ", ".join(f"{col}: {n}" for col, n in bad.items()) or "no missing keys, target "
        "or store attributes", ", ".join(key_missing))

    mixed_holiday = int((history.groupby("date")["is_holiday"].nunique() > 1).sum())
    add("holiday_flag_per_week", flag(mixed_holiday, "error"), mixed_holiday,
        f"{mixed_holiday:,} weeks whose is_holiday flag differs between rows", "is_holiday")

    statics = [c for c in ("store_type", "store_size") if c in history]
    if statics:
        varying = int((history.groupby("store")[statics].nunique() > 1).any(axis=1).sum())
        add("static_store_attributes", flag(varying, "error"), varying,
            f"{varying:,} stores whose type or size changes over time", ", ".join(statics))

    covariates = [c for c in params.covariates if c in history]
    store_weeks = history.groupby(["store", "date"], as_index=False)[covariates].first()
    if covariates:
        per_store_week = history.groupby(["store", "date"])[covariates].nunique()
        inconsistent = int((per_store_week > 1).any(axis=1).sum())
        add("covariates_per_store_week", flag(inconsistent, "error"), inconsistent,
            f"{inconsistent:,} store-weeks whose covariates differ between departments",
            ", ".join(covariates))
    for covariate in covariates:
        share = 100.0 * store_weeks[covariate].isna().mean()
        observed = store_weeks.loc[store_weeks[covariate].notna(), "date"]
        detail = (
            f"{share:.1f}% of {len(store_weeks):,} store-weeks missing"
            + (f"; values from {observed.min():%Y-%m-%d} to {observed.max():%Y-%m-%d}"
               if len(observed) else "; no value at all")
        )
        add("missing_covariate", "warning" if share else "ok", share, detail, covariate)

    table = pd.DataFrame(checks, columns=["check", "column", "status", "value", "detail"])
    missing = _missing_by_period(store_weeks, covariates, params.missing_period)
    counts = table["status"].value_counts()
    logger.info(
        "Data quality: %d checks on %d rows, %d warning(s), %d error(s)",
        len(table), n_rows, counts.get("warning", 0), counts.get("error", 0),
    )
    for row in table.loc[table["status"] == "error"].itertuples():
        logger.warning("Data quality error: %s %s: %s", row.check, row.column, row.detail)
    return table, missing


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}"
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def summarize_data_quality(
    split_summary: pd.DataFrame,
    quality_checks: pd.DataFrame,
    missing_covariates: pd.DataFrame,
    series_profile: pd.DataFrame,
) -> str:
    """Write a short Markdown report of the data quality, for people and for MLflow.

    Returns:
        ``rpt_eda_quality_summary``: the panel in one line, the split table, the findings
        (every check that is not ``ok``), the covariates' missing periods and the full check
        table.
    """
    profile = _with_dates(series_profile, "first_week", "last_week")
    n_rows = int(split_summary["rows"].sum())
    start, end = profile["first_week"].min(), profile["last_week"].max()
    weeks = (end - start).days // 7 + 1
    status = quality_checks["status"].value_counts()
    headline = (
        f"{n_rows:,} rows, {len(profile):,} store-department series "
        f"({profile['store'].nunique()} stores x {profile['dept'].nunique()} departments), "
        f"{weeks} weeks from {start:%Y-%m-%d} to {end:%Y-%m-%d}. "
        f"Checks: {status.get('ok', 0)} ok, {status.get('warning', 0)} warning(s), "
        f"{status.get('error', 0)} error(s)."
    )
    splits = split_summary.assign(
        total_sales=split_summary["total_sales"] / SALES_UNIT
    ).rename(columns={"total_sales": "total sales (million USD)"})
    quality_checks = quality_checks.assign(column=quality_checks["column"].fillna(""))

    findings = quality_checks.loc[quality_checks["status"] != "ok"]
    finding_lines = [
        f"- **{row.status}** `{row.check}`{f' ({row.column})' if row.column else ''}: {row.detail}"
        for row in findings.itertuples()
    ] or ["- none: every check passed"]

    missing_lines = []
    if not missing_covariates.empty:
        for covariate, group in missing_covariates.groupby("covariate", sort=False):
            gaps = group.loc[group["missing_pct"] > 0]
            if gaps.empty:
                continue
            full = gaps.loc[gaps["missing_pct"] >= 99.95, "period"].tolist()
            missing_lines.append(
                f"- `{covariate}`: missing in {len(gaps)} of {len(group)} periods"
                + (f", entirely in {full[0]}..{full[-1]}" if full else "")
                + f" (worst {format_percent(gaps['missing_pct'].max())}%)"
            )
    missing_lines = missing_lines or ["- none"]

    return "\n".join(
        [
            "# Data quality of the primary splits",
            "",
            headline,
            "",
            "## Splits",
            "",
            _markdown_table(splits),
            "",
            "## Findings",
            "",
            *finding_lines,
            "",
            "## Missing covariates by period",
            "",
            *missing_lines,
            "",
            "Per period: `rpt_eda_missing_covariates`; per series: `rpt_eda_series_profile`.",
            "",
            "## All checks",
            "",
            _markdown_table(quality_checks),
            "",
        ]
    )


def format_percent(value: float) -> str:
    """A share in percent as precise as it needs to be: ``0`` and ``100`` only when exact,
    ``0.17`` (two significant digits) below 1, one decimal below 10 and above 99 (``99.8`` is not
    ``100``), whole numbers in between."""
    if value == 0 or value == 100:
        return f"{value:.0f}"
    if value < 1:
        return f"{value:.2g}"
    if value < 10 or value > 99:
        return f"{value:.1f}"
    return f"{value:.0f}"


def plot_missing_covariates(missing_covariates: pd.DataFrame) -> Figure:
    """Heatmap of the share of store-weeks without a value, per covariate and period."""
    table = missing_covariates
    grid = table.pivot(index="covariate", columns="period", values="missing_pct")
    grid = grid.loc[table["covariate"].drop_duplicates(), sorted(table["period"].unique())]

    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * grid.shape[1] + 3), 0.45 * len(grid) + 2.2))
    image = ax.imshow(grid.to_numpy(), cmap="Reds", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(grid)), [_label(c) for c in grid.index])
    if grid.size <= 400:
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            if np.isfinite(value):
                ax.text(j, i, format_percent(value), ha="center", va="center", fontsize=7,
                        color="white" if value > 60 else "black")
    fig.colorbar(image, ax=ax, label="Store-weeks without a value (%)", fraction=0.03)
    ax.set_title("Missing covariates by period (share of store-weeks, %)")
    ax.set_xlabel("Period")
    fig.tight_layout()
    return fig


def plot_series_profile(series_profile: pd.DataFrame) -> Figure:
    """Histograms of the series' length (observed weeks) and scale (mean weekly sales)."""
    profile = series_profile
    weeks = profile["weeks_observed"]
    full = int(weeks.max())
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))

    # one bin for the complete series, bins of about 3 weeks below
    bins = np.append(np.arange(0.5, full - 0.5, max(1, full // 48)), [full - 0.5, full + 0.5])
    left.hist(weeks, bins=bins, color="tab:blue", edgecolor="white")
    left.set_yscale("log")
    complete = int((weeks == full).sum())
    left.set_title(f"Length: {complete:,} of {len(profile):,} series have all {full} weeks")
    left.set_xlabel("Weeks with sales per series")
    left.set_ylabel("Number of series (log scale)")

    scale = profile["mean_weekly_sales"]
    positive = scale[scale >= 1]
    if len(positive):
        bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
        right.hist(positive, bins=bins, color="tab:green", edgecolor="white")
        right.set_xscale("log")
        right.axvline(scale.median(), color="black", linestyle="--", linewidth=1,
                      label=f"median {scale.median():,.0f} USD")
    dropped = len(scale) - len(positive)
    if dropped:
        right.plot([], [], " ", label=f"{dropped} series below 1 USD not shown")
    right.legend(loc="upper left", fontsize=9)
    right.set_title("Scale: mean weekly sales per series")
    right.set_xlabel("Mean weekly sales (USD, log scale)")
    right.set_ylabel("Number of series")
    return _finish(fig, (left, right), "Distribution of series length and scale")


# --- sales over time -------------------------------------------------------------------------


def aggregate_weekly_sales(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Total sales of every week, with its split, holiday and calendar position.

    Returns:
        ``rpt_eda_weekly_sales``: one row per week with ``date``, ``split``, ``total_sales``
        (USD), ``series`` (rows that week), ``is_holiday``, ``holiday`` (name or empty),
        ``iso_year``, ``iso_week``, ``christmas_season`` (the year of the Christmas a week
        belongs to: July-December of that year, January-June of the next) and
        ``days_from_christmas`` (week-ending Friday minus 25 December of that season).
    """
    history = _history(prm_train, prm_validation, prm_test)
    weekly = (
        history.groupby("date")
        .agg(
            split=("split", "first"),
            total_sales=(TARGET, "sum"),
            series=(TARGET, "size"),
            is_holiday=("is_holiday", "max"),
        )
        .reset_index()
    )
    dates = weekly["date"]
    names = dates.dt.month.map(HOLIDAY_BY_MONTH).fillna("Holiday")
    weekly["is_holiday"] = weekly["is_holiday"].astype(bool)
    weekly["holiday"] = names.where(weekly["is_holiday"], "").astype(str)
    iso = dates.dt.isocalendar()
    weekly["iso_year"] = iso["year"].astype("int64")
    weekly["iso_week"] = iso["week"].astype("int64")
    season = dates.dt.year.where(dates.dt.month >= 7, dates.dt.year - 1)
    christmas = pd.to_datetime(pd.DataFrame({"year": season, "month": 12, "day": 25}))
    weekly["christmas_season"] = season.astype("int64")
    weekly["days_from_christmas"] = (dates - christmas).dt.days.astype("int64")
    logger.info(
        "Aggregated %d weeks (%d holiday weeks), total sales %.1f million USD",
        len(weekly), int(weekly["is_holiday"].sum()), weekly["total_sales"].sum() / SALES_UNIT,
    )
    return weekly


def _holiday_points(ax, weekly: pd.DataFrame, x: str, y: pd.Series, **kwargs) -> None:
    for name in [h for h in HOLIDAY_COLORS if h in set(weekly["holiday"])]:
        mask = weekly["holiday"] == name
        ax.scatter(weekly.loc[mask, x], y[mask], color=HOLIDAY_COLORS[name], zorder=3,
                   label=name, **kwargs)


def plot_total_weekly_sales(weekly_sales: pd.DataFrame) -> Figure:
    """Plot total weekly sales over the whole history (``rpt_eda_weekly_sales``).

    Holiday weeks are dots coloured by holiday; the validation and test windows are shaded.
    """
    weekly = _with_dates(weekly_sales, "date").sort_values("date")
    totals = weekly["total_sales"] / SALES_UNIT

    fig, ax = plt.subplots(figsize=(12, 5))
    ax.plot(weekly["date"], totals, color="black", linewidth=1.5, label="Total sales")
    _holiday_points(ax, weekly, "date", totals, s=30)
    half_week = pd.Timedelta(days=3.5)
    for name, color in (("validation", "tab:orange"), ("test", "tab:green")):
        dates = weekly.loc[weekly["split"] == name, "date"]
        if len(dates):
            ax.axvspan(dates.min() - half_week, dates.max() + half_week, color=color,
                       alpha=0.12, label=f"{name.capitalize()} window")
    ax.set_title("Total weekly sales, all stores and departments")
    ax.set_xlabel("Week ending (Friday)")
    ax.set_ylabel("Total weekly sales (million USD)")
    ax.legend(loc="upper left", ncols=2, fontsize=9)
    fig.autofmt_xdate()
    return _finish(fig, ax)


def plot_yearly_overlay(weekly_sales: pd.DataFrame) -> Figure:
    """Overlay the years: by ISO week (left) and around Christmas by day (right).

    The right panel places each week-ending Friday at its distance from 25 December: the
    weekly grid shifts by a day or two each year, so the pre-Christmas peak week ends on a
    different day (24 Dec 2010, 23 Dec 2011) and part of Christmas shopping moves into the
    next (holiday-flagged) week.
    """
    weekly = _with_dates(weekly_sales, "date").sort_values("date")
    weekly = weekly.assign(total=weekly["total_sales"] / SALES_UNIT)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    for year, group in weekly.groupby("iso_year"):
        left.plot(group["iso_week"], group["total"], color=_year_color(year), linewidth=1.6,
                  label=str(year))
    holidays = weekly.loc[weekly["is_holiday"]]
    left.scatter(holidays["iso_week"], holidays["total"], facecolors="none", edgecolors="red",
                 s=60, zorder=3, label="Holiday week (flagged)")
    left.set_xlim(0.5, 53.5)
    left.set_xticks([1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 52])
    left.set_xlabel("ISO week of the year")
    left.set_ylabel("Total weekly sales (million USD)")
    left.set_title("Every year by week of the year")
    left.legend(loc="upper left", fontsize=9)

    window = weekly.loc[weekly["days_from_christmas"].between(-45, 16)]
    seasons = [s for s, g in window.groupby("christmas_season") if len(g) >= 5]
    for season in seasons:
        group = window.loc[window["christmas_season"] == season]
        peak = group.loc[group["total"].idxmax()]
        right.plot(group["days_from_christmas"], group["total"], marker="o",
                   color=_year_color(season),
                   label=f"{season}: peak week ends {peak['date']:%a %d %b} "
                   f"({int(peak['days_from_christmas'])} d), {peak['total']:.1f}M")
        flagged = group.loc[group["holiday"] == "Christmas"]
        right.scatter(flagged["days_from_christmas"], flagged["total"], facecolors="none",
                      edgecolors="red", s=90, zorder=3,
                      label="Christmas holiday week (flagged)" if season == seasons[0] else None)
    right.axvline(0, color="red", linestyle="--", linewidth=1, label="25 December")
    right.set_xlabel("Week-ending Friday, days from Christmas Day")
    right.set_ylabel("Total weekly sales (million USD)")
    right.set_title("Christmas season, week by week")
    right.legend(loc="upper left", fontsize=8)
    return _finish(fig, (left, right),
                   "Year over year: the Christmas peak moves with the weekly calendar")


def compute_holiday_uplift(weekly_sales: pd.DataFrame) -> pd.DataFrame:
    """Sales of each holiday week relative to the median non-holiday week of its year.

    Also reports the week ending on the Friday 18-24 December (``Week before Christmas``):
    it is the real Christmas peak, whereas Kaggle flags the week that contains 25 December.

    Returns:
        ``rpt_eda_holiday_uplift``: one row per holiday week with ``holiday``, ``year``,
        ``date``, ``is_holiday`` (flagged by Kaggle), ``total_sales``, ``baseline_sales``
        (median total of the year's non-holiday weeks) and ``uplift_pct``.
    """
    weekly = _with_dates(weekly_sales, "date")
    year = weekly["date"].dt.year
    baseline = weekly.loc[~weekly["is_holiday"]].groupby(year)["total_sales"].median()
    pre_christmas = (weekly["date"].dt.month == 12) & weekly["date"].dt.day.between(18, 24)
    rows = weekly.loc[weekly["is_holiday"] | pre_christmas].assign(
        holiday=lambda f: f["holiday"].where(f["is_holiday"], PRE_CHRISTMAS),
        year=lambda f: f["date"].dt.year,
    )
    rows["baseline_sales"] = rows["year"].map(baseline)
    rows["uplift_pct"] = 100.0 * (rows["total_sales"] / rows["baseline_sales"] - 1)
    order = {name: i for i, name in enumerate(HOLIDAY_ORDER)}
    table = (
        rows[["holiday", "year", "date", "is_holiday", "total_sales", "baseline_sales",
              "uplift_pct"]]
        .assign(_order=rows["holiday"].map(order).fillna(len(order)))
        .sort_values(["_order", "year"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    for name, group in table.groupby("holiday", sort=False):
        logger.info("Holiday uplift %s: %s", name,
                    ", ".join(f"{r.year} {r.uplift_pct:+.0f}%" for r in group.itertuples()))
    return table


def plot_holiday_uplift(holiday_uplift: pd.DataFrame) -> Figure:
    """Grouped bars: uplift of each holiday week over the year's median week, one bar a year."""
    table = holiday_uplift
    holidays = [h for h in HOLIDAY_ORDER if h in set(table["holiday"])]
    holidays += [h for h in table["holiday"].drop_duplicates() if h not in holidays]
    years = sorted(table["year"].unique())
    width = 0.8 / max(1, len(years))

    fig, ax = plt.subplots(figsize=(11, 5.2))
    for k, year in enumerate(years):
        rows = table.loc[table["year"] == year].set_index("holiday").reindex(holidays)
        x = np.arange(len(holidays)) + (k - (len(years) - 1) / 2) * width
        bars = ax.bar(x, rows["uplift_pct"], width=width, color=_year_color(year),
                      label=str(year))
        ax.bar_label(bars, labels=[f"{v:+.0f}%" if np.isfinite(v) else "" for v in
                                   rows["uplift_pct"]], fontsize=8, padding=2)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(
        np.arange(len(holidays)),
        [f"{h}\n(not flagged)" if h == PRE_CHRISTMAS else f"{h}\n(holiday week)"
         for h in holidays],
    )
    ax.set_xlabel("Holiday week, one bar per year")
    ax.set_ylabel("Total sales vs the year's median week (%)")
    ax.set_title("Holiday uplift: total sales of the week vs the median non-holiday week")
    ax.legend(title="Year", loc="upper left")
    ax.margins(y=0.15)
    fig.text(0.01, 0.01, "Kaggle's Christmas holiday is the week that contains 25 December, "
             "after the shopping peak.", fontsize=8, color="dimgray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    ax.grid(axis="y", alpha=0.3)
    return fig


# --- stores and departments ------------------------------------------------------------------


def profile_stores(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Size, type and sales of every store.

    Returns:
        ``rpt_eda_store_sales``: one row per store with ``store_type``, ``store_size``
        (square feet), ``departments``, ``weeks``, ``mean_weekly_sales`` (the store's total
        per week, averaged, USD) and ``total_sales``, sorted by store.
    """
    history = _history(prm_train, prm_validation, prm_test, ["store_type", "store_size"])
    store_week = history.groupby(["store", "date"])[TARGET].sum()
    stores = history.groupby("store").agg(
        store_type=("store_type", "first"),
        store_size=("store_size", "first"),
        departments=("dept", "nunique"),
    )
    stores["weeks"] = store_week.groupby("store").size()
    stores["mean_weekly_sales"] = store_week.groupby("store").mean()
    stores["total_sales"] = store_week.groupby("store").sum()
    stores = stores.reset_index()
    logger.info(
        "Profiled %d stores: mean weekly sales by type %s (million USD)",
        len(stores),
        (stores.groupby("store_type")["mean_weekly_sales"].mean() / SALES_UNIT).round(2).to_dict(),
    )
    return stores


def plot_store_sales(store_sales: pd.DataFrame) -> Figure:
    """Store sales by type (box plot) and by size (scatter), from ``rpt_eda_store_sales``."""
    stores = store_sales.assign(
        sales=store_sales["mean_weekly_sales"] / SALES_UNIT,
        size=store_sales["store_size"] / 1e3,
        store_type=store_sales["store_type"].astype(str),
    )
    types = sorted(stores["store_type"].unique())
    colors = dict(zip(types, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"],
                      strict=False))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))

    groups = [stores.loc[stores["store_type"] == t, "sales"] for t in types]
    left.boxplot(groups, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for i, (t, values) in enumerate(zip(types, groups, strict=True), start=1):
        left.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, color=colors[t],
                     alpha=0.8, s=22, zorder=3)
    left.set_xticks(range(1, len(types) + 1),
                    [f"Type {t}\n({len(g)} stores)" for t, g in zip(types, groups, strict=True)])
    left.set_ylabel("Mean weekly sales per store (million USD)")
    left.set_title("By store type")

    for t in types:
        rows = stores.loc[stores["store_type"] == t]
        right.scatter(rows["size"], rows["sales"], color=colors[t], s=30, alpha=0.85,
                      label=f"Type {t}")
    right.set_xlabel("Store size (thousand sq ft)")
    right.set_ylabel("Mean weekly sales per store (million USD)")
    right.set_title("By store size")
    right.legend(loc="upper left")
    return _finish(fig, (left, right), "Store sales by type and size")


def rank_departments(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Rank the departments by their total sales over the whole history.

    Returns:
        ``rpt_eda_department_sales``: one row per department, ranked, with ``total_sales``,
        ``share_pct``, ``cumulative_share_pct``, ``stores`` (stores that sell it),
        ``mean_weekly_sales`` (per store-week with sales) and ``negative_weeks``.
    """
    history = _history(prm_train, prm_validation, prm_test)
    departments = (
        history.assign(_negative=history[TARGET] < 0)
        .groupby("dept")
        .agg(
            total_sales=(TARGET, "sum"),
            stores=("store", "nunique"),
            mean_weekly_sales=(TARGET, "mean"),
            negative_weeks=("_negative", "sum"),
        )
        .sort_values("total_sales", ascending=False)
        .reset_index()
    )
    departments.insert(0, "rank", np.arange(1, len(departments) + 1))
    departments["share_pct"] = 100.0 * departments["total_sales"] / history[TARGET].sum()
    departments["cumulative_share_pct"] = departments["share_pct"].cumsum()
    top = departments.head(5)
    logger.info(
        "Ranked %d departments; top 5: %s", len(departments),
        ", ".join(f"{r.dept} ({r.share_pct:.1f}%)" for r in top.itertuples()),
    )
    return departments


def plot_top_departments(department_sales: pd.DataFrame, parameters: EdaParameters) -> Figure:
    """Horizontal bars of the ``top_departments`` largest departments by total sales."""
    n = _parameters(parameters).top_departments
    top = department_sales.sort_values("rank").head(n).iloc[::-1]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(top) + 1.8))
    bars = ax.barh([f"Dept {d}" for d in top["dept"]], top["total_sales"] / SALES_UNIT,
                   color="tab:blue")
    ax.bar_label(bars, labels=[f"{s:.1f}%" for s in top["share_pct"]], padding=3, fontsize=8)
    ax.set_xlabel("Total sales over the history (million USD); labels: share of all sales")
    ax.margins(x=0.1)
    covered = float(top["share_pct"].sum())
    ax.set_title(f"Top {len(top)} of {len(department_sales)} departments by total sales: "
                 f"{covered:.0f}% of all sales")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


# --- covariates ------------------------------------------------------------------------------


def aggregate_store_weeks(
    prm_train: pd.DataFrame,
    prm_validation: pd.DataFrame,
    prm_test: pd.DataFrame,
    parameters: EdaParameters,
) -> pd.DataFrame:
    """One row per store and week: total sales, sales index and the store-week covariates.

    Returns:
        ``rpt_eda_store_weeks`` with ``store``, ``date``, ``store_type``, ``store_size``,
        ``is_holiday``, ``weekly_sales`` (the store's total, USD), ``sales_index`` (that total
        as a % of the store's mean week), the covariates and ``markdown_total`` (sum of the
        markdowns present; empty when none is).
    """
    params = _parameters(parameters)
    history = _history(prm_train, prm_validation, prm_test,
                       ["store_type", "store_size", *params.covariates])
    store_weeks = (
        history.groupby(["store", "date"])
        .agg(
            store_type=("store_type", "first"),
            store_size=("store_size", "first"),
            is_holiday=("is_holiday", "max"),
            weekly_sales=(TARGET, "sum"),
            **{c: (c, "first") for c in params.covariates},
        )
        .reset_index()
    )
    store_mean = store_weeks.groupby("store")["weekly_sales"].transform("mean")
    store_weeks.insert(6, "sales_index", 100.0 * store_weeks["weekly_sales"] / store_mean)
    if params.markdowns:
        store_weeks[MARKDOWN_TOTAL] = store_weeks[params.markdowns].sum(axis=1, min_count=1)
    logger.info("Aggregated %d store-weeks with %d covariates", len(store_weeks),
                len(params.covariates))
    return store_weeks


def plot_markdowns_vs_sales(store_weeks: pd.DataFrame) -> Figure:
    """Markdowns against sales: weekly totals over time (left), store-weeks (right).

    Markdowns only exist from November 2011 in the Kaggle data; both panels start there.
    """
    table = _with_dates(store_weeks, "date")
    markdowns = [c for c in table.columns if c.startswith("markdown") and c != MARKDOWN_TOTAL]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2),
                                      gridspec_kw={"width_ratios": [1.5, 1]})
    has_any = table[markdowns].notna().any(axis=1) if markdowns else pd.Series(False, table.index)
    if not has_any.any():
        for ax in (left, right):
            ax.text(0.5, 0.5, "No markdown values in the data", ha="center", va="center",
                    transform=ax.transAxes)
        return _finish(fig, (left, right), "Markdowns and sales")

    since = table.loc[has_any, "date"].min()
    recent = table.loc[table["date"] >= since]
    weekly = recent.groupby("date")[[*markdowns, "weekly_sales"]].sum(min_count=1)
    bottom = np.zeros(len(weekly))
    colors = plt.cm.tab10(np.arange(len(markdowns)))
    for color, column in zip(colors, markdowns, strict=True):
        values = weekly[column].fillna(0).to_numpy() / SALES_UNIT
        left.bar(weekly.index, values, bottom=bottom, width=5, color=color, label=_label(column))
        bottom += values
    left.set_ylabel("Markdowns, all stores (million USD)")
    left.set_xlabel("Week ending (Friday)")
    sales_axis = left.twinx()
    sales_axis.plot(weekly.index, weekly["weekly_sales"] / SALES_UNIT, color="black",
                    linewidth=1.5, label="Total sales (right axis)")
    sales_axis.set_ylabel("Total weekly sales (million USD)")
    handles, labels = left.get_legend_handles_labels()
    more_handles, more_labels = sales_axis.get_legend_handles_labels()
    left.legend(handles + more_handles, labels + more_labels, loc="upper center", fontsize=8,
                ncols=3, bbox_to_anchor=(0.5, -0.2), frameon=False)
    left.set_title(f"Weekly totals since markdowns start ({since:%d %b %Y})")
    for label in left.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")

    points = recent.loc[recent[MARKDOWN_TOTAL] > 0] if MARKDOWN_TOTAL in recent else recent.head(0)
    for holiday, color, label in ((False, "tab:blue", "Other weeks"),
                                  (True, "tab:red", "Holiday weeks")):
        rows = points.loc[points["is_holiday"].astype(bool) == holiday]
        right.scatter(rows[MARKDOWN_TOTAL] / 1e3, rows["sales_index"], s=8, alpha=0.35,
                      color=color, label=label)
    if len(points) >= 20:
        bins = pd.qcut(np.log10(points[MARKDOWN_TOTAL]), 10, duplicates="drop")
        binned = points.groupby(bins, observed=True).agg(
            x=(MARKDOWN_TOTAL, "median"), y=("sales_index", "median")
        )
        right.plot(binned["x"] / 1e3, binned["y"], color="black", marker="o",
                   label="Median per markdown decile")
    right.set_xscale("log")
    right.axhline(100, color="gray", linestyle=":", linewidth=1)
    right.set_xlabel("Markdowns of the store-week (thousand USD, log scale)")
    right.set_ylabel("Store's weekly sales (% of its mean week)")
    right.set_title("Store-weeks: sales index against markdowns")
    right.legend(loc="upper left", fontsize=8)
    return _finish(fig, (left, right), "Markdowns vs sales")


def _spearman(x: pd.Series, y: pd.Series) -> tuple[float, int]:
    pairs = pd.DataFrame({"x": x, "y": y}).dropna()
    if len(pairs) < 3 or pairs["x"].nunique() < 2 or pairs["y"].nunique() < 2:
        return float("nan"), len(pairs)
    ranks = pairs.rank()
    return float(np.corrcoef(ranks["x"], ranks["y"])[0, 1]), len(pairs)


def correlate_covariates(store_weeks: pd.DataFrame, parameters: EdaParameters) -> pd.DataFrame:
    """Spearman correlation of each covariate with store-week sales, across and within stores.

    ``across stores`` correlates the raw values, so store size dominates; ``within store``
    correlates the deviations of both from the store's own mean (sales: the sales index), which
    is what a model of a given store can use.

    Returns:
        ``rpt_eda_covariate_correlations``: one row per covariate with ``label``,
        ``store_weeks`` (pairs with both values), ``spearman_across_stores`` and
        ``spearman_within_store`` (empty for store size, constant within a store).
    """
    params = _parameters(parameters)
    table = store_weeks.assign(is_holiday=store_weeks["is_holiday"].astype(float))
    columns = [c for c in params.covariates if c in table]
    columns += [c for c in (MARKDOWN_TOTAL, "store_size", "is_holiday") if c in table]
    rows = []
    for column in columns:
        across, n = _spearman(table[column], table["weekly_sales"])
        deviation = table[column] - table.groupby("store")[column].transform("mean")
        within, _ = _spearman(deviation, table["sales_index"])
        rows.append(
            {"covariate": column, "label": _label(column), "store_weeks": n,
             "spearman_across_stores": across, "spearman_within_store": within}
        )
    correlations = pd.DataFrame(rows)
    logger.info("Covariate correlations with sales:\n%s",
                correlations.round(2).to_string(index=False))
    return correlations


def plot_covariate_correlations(covariate_correlations: pd.DataFrame) -> Figure:
    """Horizontal bars: each covariate's correlation with sales, across and within stores."""
    table = covariate_correlations.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(table) + 2))
    for offset, column, color, label in (
        (0.2, "spearman_across_stores", "tab:gray", "Across stores (raw store-week sales)"),
        (-0.2, "spearman_within_store", "tab:blue",
         "Within store (deviation from the store's mean)"),
    ):
        values = table[column].astype(float)
        bars = ax.barh(y + offset, values.fillna(0), height=0.38, color=color, label=label)
        ax.bar_label(bars, labels=[f"{v:+.2f}" if np.isfinite(v) else "n/a" for v in values],
                     padding=3, fontsize=8)
    ax.set_yticks(y, [f"{lbl} (n={n:,})" for lbl, n in zip(table["label"], table["store_weeks"],
                                                          strict=True)])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("Spearman correlation with the store's weekly sales")
    ax.set_title("Correlation of the covariates with weekly sales (store-weeks)")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
