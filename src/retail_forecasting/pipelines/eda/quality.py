"""Data quality of the primary splits: the split summary, the series profile, the quality checks
(one small function per check, each returning its rows of ``rpt_eda_quality_checks``) and the
Markdown quality report.

The checks report, they do not raise: EDA shows the data as it is.
"""

from __future__ import annotations

import logging
from itertools import pairwise

import numpy as np
import pandas as pd

from retail_forecasting.forecasting.contract import ID_COLUMNS as SERIES
from retail_forecasting.forecasting.contract import KEYS, SPLITS, TARGET
from retail_forecasting.pipelines.eda.common import (
    SALES_UNIT,
    EdaParameters,
    as_parameters,
    history_of,
    named_splits,
    with_dates,
)

logger = logging.getLogger(__name__)


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
    "number": lambda dtype: (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    ),
    "datetime": pd.api.types.is_datetime64_any_dtype,
    "boolean": pd.api.types.is_bool_dtype,
    "string": lambda dtype: (
        pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
    ),
}


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
            for name, frame in named_splits(prm_train, prm_validation, prm_test).items()
        ]
    )
    logger.info("Sales summary:\n%s", summary.to_string(index=False))
    return summary


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
    history = history_of(prm_train, prm_validation, prm_test)
    history = history.assign(_negative=history[TARGET] < 0, _zero=history[TARGET] == 0)
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
    params = as_parameters(parameters)
    splits = named_splits(prm_train, prm_validation, prm_test)
    history = history_of(prm_train, prm_validation, prm_test)
    covariates = [c for c in params.covariates if c in history]
    store_weeks = history.groupby(["store", "date"], as_index=False)[covariates].first()
    checks = [
        *_schema_checks(splits, params.covariates),
        *check_duplicate_keys(history),
        *check_weeks_end_on_friday(history),
        *check_weekly_calendar(history),
        *check_chronological_splits(splits),
        *check_series(series_profile, params.min_series_weeks),
        *check_sales(history),
        *check_missing_values(history),
        *check_holiday_flag(history),
        *check_static_store_attributes(history),
        *check_covariates(history, covariates, store_weeks),
    ]
    table = pd.DataFrame(checks, columns=["check", "column", "status", "value", "detail"])
    missing = _missing_by_period(store_weeks, covariates, params.missing_period)
    counts = table["status"].value_counts()
    logger.info(
        "Data quality: %d checks on %d rows, %d warning(s), %d error(s)",
        len(table),
        len(history),
        counts.get("warning", 0),
        counts.get("error", 0),
    )
    for row in table.loc[table["status"] == "error"].itertuples():
        logger.warning("Data quality error: %s %s: %s", row.check, row.column, row.detail)
    return table, missing


# --- the checks: each returns its rows of rpt_eda_quality_checks ----------------------------


def _check(check: str, status: str, value: float, detail: str, column: str = "") -> dict:
    return {
        "check": check,
        "column": column,
        "status": status,
        "value": float(value),
        "detail": detail,
    }


def _flag(count: float, bad: str = "warning") -> str:
    return bad if count else "ok"


def check_duplicate_keys(history: pd.DataFrame) -> list[dict]:
    duplicates = int(history.duplicated(KEYS).sum())
    return [
        _check(
            "duplicate_keys",
            _flag(duplicates, "error"),
            duplicates,
            f"{duplicates:,} rows repeat a (store, dept, date) key",
            "store, dept, date",
        )
    ]


def check_weeks_end_on_friday(history: pd.DataFrame) -> list[dict]:
    dates = pd.Series(history["date"].unique())
    not_friday = int((dates.dt.day_of_week != 4).sum())
    return [
        _check(
            "weeks_end_on_friday",
            _flag(not_friday, "error"),
            not_friday,
            f"{not_friday:,} distinct dates are not a Friday (Kaggle weeks end on Friday)",
            "date",
        )
    ]


def check_weekly_calendar(history: pd.DataFrame) -> list[dict]:
    dates = pd.Series(history["date"].unique())
    calendar = pd.date_range(dates.min(), dates.max(), freq="7D")
    absent = calendar.difference(pd.DatetimeIndex(dates))
    return [
        _check(
            "weekly_calendar",
            _flag(len(absent)),
            len(absent),
            f"{len(absent):,} weeks without any row between {dates.min():%Y-%m-%d} and "
            f"{dates.max():%Y-%m-%d}"
            + (f": {', '.join(f'{d:%Y-%m-%d}' for d in absent[:5])}" if len(absent) else ""),
            "date",
        )
    ]


def check_chronological_splits(splits: dict[str, pd.DataFrame]) -> list[dict]:
    bounds = {name: (frame["date"].min(), frame["date"].max()) for name, frame in splits.items()}
    overlaps = [
        f"{a} ends {bounds[a][1]:%Y-%m-%d} >= {b} starts {bounds[b][0]:%Y-%m-%d}"
        for a, b in pairwise(SPLITS)
        if bounds[a][1] >= bounds[b][0]
    ]
    return [
        _check(
            "chronological_splits",
            _flag(len(overlaps), "error"),
            len(overlaps),
            "; ".join(overlaps) or "train < validation < test, no overlap",
            "date",
        )
    ]


def check_series(series_profile: pd.DataFrame, min_series_weeks: int) -> list[dict]:
    """Gaps, short series, series that start late or end early (``rpt_eda_series_profile``)."""
    n_series = len(series_profile)
    gaps = series_profile.loc[series_profile["missing_weeks"] > 0]
    short = int((series_profile["weeks_observed"] < min_series_weeks).sum())
    late = int(series_profile["starts_late"].sum())
    early = int(series_profile["ends_early"].sum())
    return [
        _check(
            "series_with_gaps",
            _flag(len(gaps)),
            len(gaps),
            f"{len(gaps):,} of {n_series:,} series miss weeks inside their span "
            f"({int(gaps['missing_weeks'].sum()):,} missing weeks in all, at most "
            f"{int(gaps['missing_weeks'].max()) if len(gaps) else 0} in one series)",
            "store, dept",
        ),
        _check(
            "short_series",
            _flag(short),
            short,
            f"{short:,} of {n_series:,} series have fewer than {min_series_weeks} observed weeks",
            "store, dept",
        ),
        _check(
            "series_start_late",
            _flag(late),
            late,
            f"{late:,} series start after the first week of the history (new departments)",
            "store, dept",
        ),
        _check(
            "series_end_early",
            _flag(early),
            early,
            f"{early:,} series end before the last week of the history (no recent sales to "
            "forecast from)",
            "store, dept",
        ),
    ]


def check_sales(history: pd.DataFrame) -> list[dict]:
    """Negative sales (returns) and zero sales."""
    negative = history[TARGET] < 0
    zero = int((history[TARGET] == 0).sum())
    return [
        _check(
            "negative_sales",
            _flag(int(negative.sum())),
            int(negative.sum()),
            f"{int(negative.sum()):,} rows with weekly_sales < 0 (returns exceed sales): "
            f"{100 * negative.mean():.2f}% of "
            f"rows, in {history.loc[negative, SERIES].drop_duplicates().shape[0]} series, "
            f"{history.loc[negative, TARGET].sum():,.0f} USD in all",
            TARGET,
        ),
        _check("zero_sales", _flag(zero), zero, f"{zero:,} rows with weekly_sales == 0", TARGET),
    ]


def check_missing_values(history: pd.DataFrame) -> list[dict]:
    """Missing keys, target or store attributes (the :data:`SCHEMA` columns)."""
    key_missing = {col: int(history[col].isna().sum()) for col in SCHEMA if col in history}
    bad = {col: n for col, n in key_missing.items() if n}
    return [
        _check(
            "missing_values",
            _flag(sum(bad.values()), "error"),
            sum(bad.values()),
            ", ".join(f"{col}: {n}" for col, n in bad.items())
            or "no missing keys, target or store attributes",
            ", ".join(key_missing),
        )
    ]


def check_holiday_flag(history: pd.DataFrame) -> list[dict]:
    mixed_holiday = int((history.groupby("date")["is_holiday"].nunique() > 1).sum())
    return [
        _check(
            "holiday_flag_per_week",
            _flag(mixed_holiday, "error"),
            mixed_holiday,
            f"{mixed_holiday:,} weeks whose is_holiday flag differs between rows",
            "is_holiday",
        )
    ]


def check_static_store_attributes(history: pd.DataFrame) -> list[dict]:
    statics = [c for c in ("store_type", "store_size") if c in history]
    if not statics:
        return []
    varying = int((history.groupby("store")[statics].nunique() > 1).any(axis=1).sum())
    return [
        _check(
            "static_store_attributes",
            _flag(varying, "error"),
            varying,
            f"{varying:,} stores whose type or size changes over time",
            ", ".join(statics),
        )
    ]


def check_covariates(
    history: pd.DataFrame, covariates: list[str], store_weeks: pd.DataFrame
) -> list[dict]:
    """Covariates that differ between departments of a store-week; missing covariates."""
    rows = []
    if covariates:
        per_store_week = history.groupby(["store", "date"])[covariates].nunique()
        inconsistent = int((per_store_week > 1).any(axis=1).sum())
        rows.append(
            _check(
                "covariates_per_store_week",
                _flag(inconsistent, "error"),
                inconsistent,
                f"{inconsistent:,} store-weeks whose covariates differ between departments",
                ", ".join(covariates),
            )
        )
    for covariate in covariates:
        share = 100.0 * store_weeks[covariate].isna().mean()
        observed = store_weeks.loc[store_weeks[covariate].notna(), "date"]
        detail = f"{share:.1f}% of {len(store_weeks):,} store-weeks missing" + (
            f"; values from {observed.min():%Y-%m-%d} to {observed.max():%Y-%m-%d}"
            if len(observed)
            else "; no value at all"
        )
        rows.append(
            _check("missing_covariate", "warning" if share else "ok", share, detail, covariate)
        )
    return rows


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
    profile = with_dates(series_profile, "first_week", "last_week")
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
    splits = split_summary.assign(total_sales=split_summary["total_sales"] / SALES_UNIT).rename(
        columns={"total_sales": "total sales (million USD)"}
    )
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
