"""What inference checks before it forecasts, with the same messages as ingestion.

``test.csv`` is refused (a :class:`RawDataError` naming the file, the column, the CSV line
numbers and example values, and what to do) when it has:

- missing columns (Store, Dept, Date, IsHoliday) or no rows;
- empty keys, Store/Dept that are not whole numbers, dates that are not YYYY-MM-DD Fridays,
  IsHoliday that is not TRUE/FALSE;
- duplicate (Store, Dept, Date) rows;
- stores missing from ``stores.csv``, or stores the registered model does not know;
- weeks outside the model's horizon (1..horizon weeks after the last week of its data).

A department the model has never seen at any store is **not** refused: it has no history to
forecast from, so its rows get :data:`UNSEEN_DEPARTMENT_FORECAST` (0, the end of the model's own
fallback chain, see :mod:`retail_forecasting.forecasting.baselines`) instead of whatever the
learners would extrapolate, a warning is logged, and the rows are marked in ``forecast_basis``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from retail_forecasting.errors import RawDataError
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.kaggle.checks import (
    as_bool,
    as_friday,
    as_number,
    examples,
    fail,
    file_name,
    no_duplicates,
    required_not_null,
)
from retail_forecasting.kaggle.schema import SALES_KEYS as KEYS  # Store, Dept, Date
from retail_forecasting.kaggle.schema import TEST_COLUMNS  # Store, Dept, Date, IsHoliday

logger = logging.getLogger(__name__)

#: ``forecast_basis`` of a row: the model's forecast of a series it has history for; the model's
#: forecast of a series new at its store whose department it knows from other stores (its
#: cold-start path, as for series starting inside the backtest windows: the statistical model and
#: the baselines take the department's level over the other stores); or the fixed fallback for a
#: department the model has never seen.
MODEL, NEW_SERIES, UNSEEN_DEPARTMENT = "model", "new_series", "unseen_department"
UNSEEN_DEPARTMENT_FORECAST = 0.0

FIX_ROWS = "Fix or remove these rows and run again (Kaggle test.csv: Store,Dept,Date,IsHoliday)."


@contextmanager
def advice(todo: str) -> Iterator[None]:
    """Append what to do to the RawDataError of an ingestion check."""
    try:
        yield
    except RawDataError as exc:
        message = str(exc).rstrip()
        raise RawDataError(f"{message}{'' if message.endswith('.') else '.'} {todo}") from None


def _refuse(
    file: str,
    column: str,
    problem: str,
    raw: pd.DataFrame,
    mask: np.ndarray,
    columns: list[str],
    todo: str,
) -> None:
    with advice(todo):
        fail(file, column, problem, raw, pd.Series(mask, index=raw.index), columns)


def parse_test(raw_test: pd.DataFrame) -> pd.DataFrame:
    """Validated test.csv rows (Store, Dept, Date, IsHoliday typed), in the file's order and
    index (so that row ``i`` is CSV line ``i + 2``)."""
    file = file_name(raw_test, "test.csv")
    missing = [c for c in TEST_COLUMNS if c not in raw_test.columns]
    if missing:
        raise RawDataError(
            f"{file}: missing column(s) {missing}; found {list(raw_test.columns)}. Inference needs "
            f"the Kaggle test.csv header Store,Dept,Date,IsHoliday: pass the competition's "
            f"test.csv (raw_data_dir) or fix the header."
        )
    if raw_test.empty:
        raise RawDataError(
            f"{file} has a header but no rows: nothing to forecast. Pass the "
            f"weeks to forecast, one row per Store, Dept and Date."
        )
    with advice(FIX_ROWS):
        required_not_null(raw_test, file, TEST_COLUMNS, KEYS)
        rows = pd.DataFrame(
            {
                "Store": as_number(raw_test, file, "Store", KEYS, integer=True),
                "Dept": as_number(raw_test, file, "Dept", KEYS, integer=True),
                "Date": as_friday(raw_test, file, KEYS),
                "IsHoliday": as_bool(raw_test, file, "IsHoliday", KEYS),
            },
            index=raw_test.index,
        )
    with advice("Keep one row per Store, Dept and Date."):
        no_duplicates(raw_test, file, KEYS)
    return rows


def check_stores(rows: pd.DataFrame, raw_test: pd.DataFrame, stores: pd.Series) -> None:
    """Refuse rows naming stores missing from stores.csv (``stores``: its Store ids)."""
    unknown = ~rows["Store"].isin(stores).to_numpy()
    if unknown.any():
        _refuse(
            file_name(raw_test, "test.csv"),
            "Store",
            "name stores missing from stores.csv",
            raw_test,
            unknown,
            KEYS,
            "test.csv and stores.csv must come from the same bundle (raw_data_dir): add the "
            "store to stores.csv and retrain with `kedro run`, or remove those rows.",
        )


def forecast_basis(
    rows: pd.DataFrame, raw_test: pd.DataFrame, forecaster: ChampionForecaster
) -> pd.Series:
    """Refuse stores the model does not know and weeks outside its horizon; label every row
    :data:`MODEL`, :data:`NEW_SERIES` or :data:`UNSEEN_DEPARTMENT` (warning for the last)."""
    file = file_name(raw_test, "test.csv")
    known_stores = forecaster.stores["store"]
    unknown = ~rows["Store"].isin(known_stores).to_numpy()
    if unknown.any():
        _refuse(
            file,
            "Store",
            "name stores the registered model has no history for",
            raw_test,
            unknown,
            KEYS,
            f"The model {forecaster.name!r} was built on data up to {forecaster.origin.date()} "
            f"for stores {number_ranges(known_stores)}: retrain with `kedro run` on a train.csv "
            f"that includes these stores, or remove those rows.",
        )
    weeks = forecaster.forecast_weeks()
    outside = ~rows["Date"].isin(weeks).to_numpy()
    if outside.any():
        _refuse(
            file,
            "Date",
            "are outside the registered model's horizon",
            raw_test,
            outside,
            KEYS,
            f"The model {forecaster.name!r} forecasts the {forecaster.horizon} weeks after the "
            f"last week of its data ({forecaster.origin.date()}): "
            f"{weeks[0].date()}..{weeks[-1].date()}. "
            f"Run `kedro run` on a train.csv that ends the week before test.csv starts, or "
            f"remove those rows.",
        )
    known = forecaster.known_series()
    unseen_dept = ~rows["Dept"].isin(known["dept"]).to_numpy()
    series = pd.MultiIndex.from_frame(rows[["Store", "Dept"]])
    new = ~series.isin(pd.MultiIndex.from_frame(known[["store", "dept"]])) & ~unseen_dept
    basis = pd.Series(
        np.select([unseen_dept, new], [UNSEEN_DEPARTMENT, NEW_SERIES], MODEL),
        index=rows.index,
        name="forecast_basis",
    )
    if unseen_dept.any():
        logger.warning(
            "%s, column 'Dept': %d row(s) name departments the registered model has never seen "
            "(%s); they are forecast as %s (no history to forecast from) and marked "
            "forecast_basis=%s in the forecast table. Examples: %s",
            file,
            int(unseen_dept.sum()),
            sorted(rows.loc[unseen_dept, "Dept"].unique().tolist()),
            UNSEEN_DEPARTMENT_FORECAST,
            UNSEEN_DEPARTMENT,
            examples(raw_test, pd.Series(unseen_dept, index=raw_test.index), KEYS),
        )
    if new.any():
        logger.info(
            "%s: %d row(s) of %d store-department series new to the model (department "
            "known at other stores) take its cold-start path (forecast_basis=%s)",
            file,
            int(new.sum()),
            int(series[new].nunique()),
            NEW_SERIES,
        )
    return basis


def number_ranges(values: pd.Series) -> str:
    """``1-3, 5, 7-9`` for the sorted unique integers of ``values``."""
    numbers = sorted(set(int(v) for v in values))
    parts, start = [], None
    for i, n in enumerate(numbers):
        start = n if start is None else start
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(f"{start}" if start == n else f"{start}-{n}")
            start = None
    return ", ".join(parts)
