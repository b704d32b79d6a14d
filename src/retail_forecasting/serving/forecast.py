"""From requests to forecasts: the inference checks, the model, the shapes the API returns.

Rows are checked with the ``inference`` pipeline's own checks
(:mod:`retail_forecasting.pipelines.inference.checks`: whole-number Store/Dept, YYYY-MM-DD Friday
dates, TRUE/FALSE holiday flags, duplicate keys, stores the model does not know, weeks outside
its horizon), so the API refuses exactly what ``kedro run --pipeline inference`` refuses; a
refusal becomes a :class:`Refusal` (HTTP 422) with one entry per offending field.

Departments the model has never seen are forecast
:data:`~retail_forecasting.pipelines.inference.checks.UNSEEN_DEPARTMENT_FORECAST` and marked
``forecast_basis=unseen_department``, as in the inference pipeline. Every numeric column the
model returns besides Store, Dept and Date (``Weekly_Sales``, and e.g. ``q0.1``/``q0.9`` once
the champion forecasts intervals) is passed through; for unseen departments the extra columns
are null (the fallback has no interval).

**Cache.** When a model is loaded, :func:`default_table` forecasts every series the model has
history for, for every week of its horizon, with the calendar's holiday flag and no markdowns
(what a request that gives neither asks for). Rows that ask exactly that are answered from the
table; any other row (markdowns given, a holiday flag that differs from the calendar, a series
new to the model) is forecast by the model. The forecasts do not depend on which other rows are
in the same request (tests check this), so both paths give the same numbers.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from retail_forecasting.calendar import holiday_fridays
from retail_forecasting.errors import RawDataError
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.kaggle.checks import as_number
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS
from retail_forecasting.pipelines.inference import checks

KEY_OUTPUT = ("Store", "Dept", "Date")
#: Kaggle column -> field name of the JSON API
logger = logging.getLogger(__name__)
API_FIELDS = {"Store": "store", "Dept": "dept", "Date": "week", "IsHoliday": "is_holiday",
              **{f"MarkDown{i}": f"markdown{i}" for i in range(1, 6)}}


class Refusal(Exception):
    """A request the model cannot answer: HTTP ``status`` with field-level ``errors``."""

    def __init__(self, message: str, errors: list[dict[str, Any]], status: int = 422) -> None:
        super().__init__(message)
        self.message, self.errors, self.status = message, errors, status


def calendar_holidays(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Kaggle's IsHoliday for each (Friday) date: the week holds Super Bowl, Labor Day,
    Thanksgiving or Christmas (:func:`retail_forecasting.calendar.holiday_fridays`)."""
    dates = pd.DatetimeIndex(pd.to_datetime(dates))
    fridays = [pd.Timestamp(d) for year in set(dates.year) for d in holiday_fridays(int(year)).values()]
    return np.asarray(dates.isin(fridays), dtype=bool)


def predict_frame(python_model: Any, rows: pd.DataFrame) -> pd.DataFrame:
    """The pyfunc's ``predict`` on Kaggle-shaped rows; checks the answer's length."""
    out = python_model.predict(None, rows.reset_index(drop=True))
    if len(out) != len(rows) or "Weekly_Sales" not in out:
        raise RuntimeError(f"the model returned {len(out)} rows for {len(rows)} "
                           f"(columns {list(out.columns)}): expected one Weekly_Sales per row")
    return out.reset_index(drop=True)


def value_columns(forecast: pd.DataFrame) -> list[str]:
    """Weekly_Sales first, then every other numeric column the model returned."""
    extra = [c for c in forecast.columns
             if c not in (*KEY_OUTPUT, "Weekly_Sales") and pd.api.types.is_numeric_dtype(forecast[c])
             and not pd.api.types.is_bool_dtype(forecast[c])]
    return ["Weekly_Sales", *extra]


@dataclass
class DefaultTable:
    """Forecasts of every known series x horizon week with the calendar flag and no markdowns."""

    index: pd.MultiIndex  # (store, dept, date)
    values: pd.DataFrame  # value_columns, aligned with index
    positions: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # series -> rows
    #: series -> its horizon's JSON records (comma-separated, no brackets), as the API returns them
    fragments: dict[tuple[int, int], bytes] = field(default_factory=dict)


def default_table(python_model: Any, forecaster: ChampionForecaster) -> DefaultTable:
    weeks = forecaster.forecast_weeks()
    series = forecaster.known_series()
    n, h = len(series), len(weeks)
    rows = pd.DataFrame({
        "Store": np.repeat(series["store"].to_numpy(), h),
        "Dept": np.repeat(series["dept"].to_numpy(), h),
        "Date": np.tile(weeks.strftime("%Y-%m-%d").to_numpy(), n),
        "IsHoliday": np.tile(calendar_holidays(weeks), n),
    })
    forecast = predict_frame(python_model, rows)
    values = forecast[value_columns(forecast)].astype(float).reset_index(drop=True)
    index = pd.MultiIndex.from_arrays([rows["Store"].to_numpy(), rows["Dept"].to_numpy(),
                                       np.tile(weeks.to_numpy(), n)], names=["store", "dept", "date"])
    positions = {(int(s), int(d)): np.arange(i * h, (i + 1) * h)
                 for i, (s, d) in enumerate(zip(series["store"], series["dept"]))}
    table = pd.DataFrame({"Store": rows["Store"].to_numpy(), "Dept": rows["Dept"].to_numpy(),
                          "Date": index.get_level_values(2), "IsHoliday": rows["IsHoliday"].to_numpy(),
                          "forecast_basis": checks.MODEL})
    for c in values.columns:
        table[c] = values[c].to_numpy()
    every = records(table)
    fragments = {key: dump_json(every[i * h:(i + 1) * h])[1:-1] for i, key in enumerate(positions)}
    return DefaultTable(index, values, positions, fragments)


try:
    import orjson

    def dump_json(content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError:  # e.g. an integer over 64 bits echoed from a refused request
            return json.dumps(content, default=str).encode()
except ImportError:  # pragma: no cover - orjson is in the serving extra
    def dump_json(content: Any) -> bytes:
        return json.dumps(content, default=str).encode()


def _field_errors(message: str, kind: str) -> list[dict[str, Any]]:
    """One entry per (row, column) named in a check's message; ``kind`` json or csv."""
    columns = re.findall(r"column '([^']+)'", message)
    missing = re.search(r"missing column\(s\) \[([^\]]*)\]", message)
    if missing:
        columns = re.findall(r"'([^']+)'", missing.group(1))
    column = columns[0] if columns else None
    lines = [int(x) for x in re.findall(r"line (\d+):", message)]
    errors = []
    names = [column] if column and column in API_FIELDS else []
    if kind == "json":
        names = [API_FIELDS[c] for c in names]
        msg = re.sub(r"line (\d+):", lambda m: f"rows[{int(m.group(1)) - 2}]:", message)
        where = [["body", "rows", line - 2] for line in lines] or [["body", "rows"]]
    else:
        msg = message
        where = [["body", "line", line] for line in lines] or [["body"]]
    if missing:
        return [{"loc": ["body", "rows" if kind == "json" else "header", API_FIELDS.get(c, c)
                         if kind == "json" else c], "msg": msg, "type": "missing"} for c in columns]
    problem = re.search(r"\d+ row\(s\) (?:are |name |share )?(.*?)\. Examples:", message)
    short = f"{names[0] if names else column or 'row'}: {problem.group(1)}" if problem else msg
    for loc in where:
        errors.append({"loc": [*loc, *names], "msg": short, "type": "invalid_rows"})
    return errors


def _json_message(message: str) -> str:
    return re.sub(r"line (\d+):", lambda m: f"rows[{int(m.group(1)) - 2}]:", message)


def check_rows(raw: pd.DataFrame, forecaster: ChampionForecaster, kind: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The inference checks on Kaggle-shaped ``raw`` (index 0..n-1): typed rows (Store, Dept,
    Date, IsHoliday, MarkDown1..5) and each row's ``forecast_basis``; :class:`Refusal` when a
    check refuses them."""
    try:
        rows = checks.parse_test(raw)
        basis = checks.forecast_basis(rows, raw, forecaster).to_numpy()
        for name in MARKDOWN_COLUMNS:
            if name in raw:
                with checks.advice("Markdowns are numbers (empty when none is planned)."):
                    rows[name] = as_number(raw, raw.attrs.get("source", {}).get("path", "request"),
                                            name, checks.KEYS)
    except RawDataError as exc:
        message = str(exc)
        raise Refusal(_json_message(message) if kind == "json" else message,
                      _field_errors(message, kind)) from None
    except (ValueError, TypeError, OverflowError) as exc:  # input the checks did not foresee
        logger.warning("Rows refused by an unexpected %s: %s", type(exc).__name__, exc)
        raise Refusal(f"the rows could not be read: {exc}",
                      [{"loc": ["body"], "msg": f"the rows could not be read: {exc}",
                        "type": "unreadable_rows"}]) from None
    return rows, basis


def forecast_rows(python_model: Any, forecaster: ChampionForecaster, table: DefaultTable | None,
                  rows: pd.DataFrame, basis: np.ndarray) -> pd.DataFrame:
    """Store, Dept, Date, IsHoliday, forecast_basis and the model's value columns for checked
    ``rows`` (the table's rows where they ask the default, the model for the rest)."""
    n = len(rows)
    forecastable = basis != checks.UNSEEN_DEPARTMENT
    columns = list(table.values.columns) if table is not None else None
    result: dict[str, np.ndarray] = {}
    todo = forecastable.copy()
    if table is not None and n:
        default = rows["IsHoliday"].to_numpy(dtype=bool) == calendar_holidays(rows["Date"])
        for name in MARKDOWN_COLUMNS:
            if name in rows:
                default &= rows[name].isna().to_numpy()
        where = table.index.get_indexer(pd.MultiIndex.from_arrays(
            [rows["Store"].to_numpy(), rows["Dept"].to_numpy(), pd.to_datetime(rows["Date"]).to_numpy()]))
        hit = forecastable & default & (where >= 0)
        for c in columns:
            result[c] = np.full(n, np.nan)
            result[c][hit] = table.values[c].to_numpy()[where[hit]]
        todo = forecastable & ~hit
    if todo.any():
        sub = rows.loc[todo].copy()
        sub["Date"] = pd.to_datetime(sub["Date"]).dt.strftime("%Y-%m-%d")
        forecast = predict_frame(python_model, sub)
        for c in value_columns(forecast):
            if c not in result:
                result[c] = np.full(n, np.nan)
            result[c][todo] = forecast[c].to_numpy(dtype=float)
    if not result:
        result["Weekly_Sales"] = np.full(n, np.nan)
    result["Weekly_Sales"][~forecastable] = checks.UNSEEN_DEPARTMENT_FORECAST
    out = pd.DataFrame({"Store": rows["Store"].to_numpy(), "Dept": rows["Dept"].to_numpy(),
                        "Date": pd.to_datetime(rows["Date"]).to_numpy(),
                        "IsHoliday": rows["IsHoliday"].to_numpy(dtype=bool), "forecast_basis": basis})
    for c, v in result.items():
        out[c] = v
    if out.loc[forecastable, "Weekly_Sales"].isna().any():
        raise RuntimeError("the model returned missing forecasts")
    return out


def series_rows(forecaster: ChampionForecaster, series: list[tuple[int, int]]) -> pd.DataFrame:
    """Kaggle-shaped rows of every horizon week of each (store, dept), calendar holiday flags."""
    weeks = forecaster.forecast_weeks()
    h = len(weeks)
    stores = np.repeat([s for s, _ in series], h)
    depts = np.repeat([d for _, d in series], h)
    return pd.DataFrame({"Store": stores, "Dept": depts,
                         "Date": np.tile(weeks.strftime("%Y-%m-%d").to_numpy(), len(series)),
                         "IsHoliday": np.tile(calendar_holidays(weeks), len(series))})


def submission(forecast: pd.DataFrame, extra: bool = True) -> pd.DataFrame:
    """Kaggle's submission shape ``Id = Store_Dept_Date, Weekly_Sales`` (then the extra value
    columns, unless ``extra`` is false)."""
    days = np.datetime_as_string(pd.to_datetime(forecast["Date"]).to_numpy(dtype="datetime64[D]")).tolist()
    ids = [f"{s}_{d}_{day}" for s, d, day in zip(forecast["Store"].to_numpy(dtype="int64").tolist(),
                                                  forecast["Dept"].to_numpy(dtype="int64").tolist(), days)]
    out = pd.DataFrame({"Id": ids, "Weekly_Sales": forecast["Weekly_Sales"].to_numpy()})
    if extra:
        for c in forecast.columns:
            if c not in ("Store", "Dept", "Date", "IsHoliday", "forecast_basis", "Weekly_Sales"):
                out[c] = forecast[c].to_numpy()
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)`` for text and float columns, several times faster (floats
    written with ``repr``: shortest round-trip digits; NaN as an empty field)."""
    columns = []
    for c in frame.columns:
        values = frame[c]
        if pd.api.types.is_float_dtype(values):
            columns.append(["" if v != v else repr(v) for v in values.to_numpy(dtype=float).tolist()])
        else:
            columns.append([str(v) for v in values.tolist()])
    lines = [",".join(map(str, frame.columns)), *map(",".join, zip(*columns))]
    return "\n".join(lines) + "\n"


def records(forecast: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON rows: store, dept, week, is_holiday, forecast_basis, weekly_sales, then the extra
    value columns under the model's names; NaN -> null. (Plain lists: pandas' ``to_dict`` costs
    milliseconds per call.)"""
    keys = ["store", "dept", "week", "is_holiday", "forecast_basis", "weekly_sales"]
    columns = [forecast["Store"].to_numpy(dtype="int64").tolist(),
               forecast["Dept"].to_numpy(dtype="int64").tolist(),
               np.datetime_as_string(pd.to_datetime(forecast["Date"]).to_numpy(dtype="datetime64[D]")).tolist(),
               forecast["IsHoliday"].to_numpy(dtype=bool).tolist(),
               forecast["forecast_basis"].astype(str).tolist()]
    values = ["Weekly_Sales", *[c for c in forecast.columns if c not in (*RECORD_KEYS, "Weekly_Sales")]]
    keys += values[1:]
    for c in values:
        column = forecast[c].to_numpy(dtype=float)
        columns.append([None if v != v else v for v in column.tolist()])
    return [dict(zip(keys, row)) for row in zip(*columns)]


RECORD_KEYS = ("Store", "Dept", "Date", "IsHoliday", "forecast_basis")
