"""What every part of the ``eda`` pipeline shares: its parameters, labels and colours, and the
primary splits read as one history.

The panel's column names (``store``, ``dept``, ``date``, ``weekly_sales``) come from
:mod:`retail_forecasting.forecasting.contract`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

import pandas as pd

from retail_forecasting.forecasting.contract import ID_COLUMNS as SERIES
from retail_forecasting.forecasting.contract import SPLITS, TARGET
from retail_forecasting.kaggle.schema import PANEL_COVARIATES

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


@dataclass(frozen=True)
class EdaParameters:
    """Options of the ``eda`` pipeline (``conf/base/parameters_eda.yml``, key ``eda``).

    Kedro validates ``params:eda`` against this class before any node runs, so a typo in a
    key or a bad value stops the run with a message naming it.
    """

    #: Departments shown in the top-departments figure (the table ranks them all).
    top_departments: int = 15
    #: Store-week covariates checked for missing values and correlated with sales.
    covariates: list[str] = field(default_factory=lambda: list(PANEL_COVARIATES))
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


def as_parameters(parameters: EdaParameters | Mapping | None) -> EdaParameters:
    """Accept the dataclass (as Kedro passes it), a plain dict (notebooks, tests) or None."""
    if parameters is None:
        return EdaParameters()
    if isinstance(parameters, EdaParameters):
        return parameters
    unknown = set(parameters) - {f.name for f in fields(EdaParameters)}
    if unknown:
        raise ValueError(f"Unknown eda parameter(s) {sorted(unknown)}")
    return EdaParameters(**parameters)


def named_splits(
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


def history_of(
    prm_train: pd.DataFrame,
    prm_validation: pd.DataFrame,
    prm_test: pd.DataFrame,
    required: Iterable[str] = (),
) -> pd.DataFrame:
    """All splits as one frame with a ``split`` column; ``required`` columns must exist."""
    splits = named_splits(prm_train, prm_validation, prm_test)
    for name, frame in splits.items():
        missing = [col for col in required if col not in frame]
        if missing:
            raise ValueError(f"prm_{name} is missing column(s) {missing}")
    return pd.concat(
        [frame.assign(split=name) for name, frame in splits.items()], ignore_index=True
    )


def with_dates(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``table`` with ``columns`` parsed as datetimes (tables may come back from CSV)."""
    return table.assign(**{col: pd.to_datetime(table[col]) for col in columns})


def column_label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " ").capitalize())
