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

**Cache.** When a model is loaded, :func:`default_table` forecasts every series a request can
name — every store the model knows x every department it knows: the series it has history for
(``model``) and the pairs new at their store (``new_series``, its cold-start path) — for every
week of its horizon, with the calendar's holiday flag and no markdowns (what a request that gives
neither asks for), and keeps each row's JSON record. ``series`` requests and ``rows`` requests
that ask exactly that (a known store, horizon weeks, no markdowns, the calendar's flag or none,
no repeats) are answered from the table without pandas (:meth:`DefaultTable.lookup_series`,
:meth:`DefaultTable.lookup_rows`); departments the model never saw get their fixed fallback
record. Only rows with markdowns or a holiday flag that differs from the calendar run the model
(the rest of their request still comes from the table), and anything the fast path does not
accept takes the checked path, which gives the field-level refusals. The model forecasts each
row from the history at its origin, independently of the other rows of a request (tests check
this), so both paths give the same numbers up to float rounding (on the real champion: identical
over the whole test.csv; within 1e-13 for a series forecast alone rather than in a batch).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from retail_forecasting.calendar import holiday_fridays
from retail_forecasting.errors import RawDataError
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.kaggle.checks import as_number
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS, PANEL_NAMES
from retail_forecasting.pipelines.inference import checks

KEY_OUTPUT = ("Store", "Dept", "Date")
#: Kaggle column -> field name of the JSON API
logger = logging.getLogger(__name__)
API_FIELDS = {
    "Store": "store",
    "Dept": "dept",
    "Date": "week",
    "IsHoliday": "is_holiday",
    **{c: PANEL_NAMES[c] for c in MARKDOWN_COLUMNS},  # markdown1..5
}


class Refusal(Exception):
    """A request the model cannot answer: HTTP ``status`` with field-level ``errors``."""

    def __init__(self, message: str, errors: list[dict[str, Any]], status: int = 422) -> None:
        super().__init__(message)
        self.message, self.errors, self.status = message, errors, status


def calendar_holidays(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Kaggle's IsHoliday for each (Friday) date: the week holds Super Bowl, Labor Day,
    Thanksgiving or Christmas (:func:`retail_forecasting.calendar.holiday_fridays`)."""
    dates = pd.DatetimeIndex(pd.to_datetime(dates))
    fridays = [
        pd.Timestamp(d) for year in set(dates.year) for d in holiday_fridays(int(year)).values()
    ]
    return np.asarray(dates.isin(fridays), dtype=bool)


def predict_frame(python_model: Any, rows: pd.DataFrame) -> pd.DataFrame:
    """The pyfunc's ``predict`` on Kaggle-shaped rows; checks the answer's length."""
    out = python_model.predict(None, rows.reset_index(drop=True))
    if len(out) != len(rows) or "Weekly_Sales" not in out:
        raise RuntimeError(
            f"the model returned {len(out)} rows for {len(rows)} "
            f"(columns {list(out.columns)}): expected one Weekly_Sales per row"
        )
    return out.reset_index(drop=True)


#: rows per call of the model's predict: the real champion's features take ~3 KB per row while
#: they exist, so 40,000 rows add ~130 MB at most (the whole test.csv at once: ~470 MB)
CHUNK_ROWS = 40_000


def predict_chunked(
    python_model: Any, rows: pd.DataFrame, chunk_rows: int = CHUNK_ROWS
) -> pd.DataFrame:
    """:func:`predict_frame` at most ``chunk_rows`` rows at a time (the forecasts do not depend
    on which rows are forecast together), to bound the serving process's peak memory."""
    if len(rows) <= chunk_rows:
        return predict_frame(python_model, rows)
    parts = [
        predict_frame(python_model, rows.iloc[i : i + chunk_rows])
        for i in range(0, len(rows), chunk_rows)
    ]
    return pd.concat(parts, ignore_index=True)


def value_columns(forecast: pd.DataFrame) -> list[str]:
    """Weekly_Sales first, then every other numeric column the model returned."""
    extra = [
        c
        for c in forecast.columns
        if c not in (*KEY_OUTPUT, "Weekly_Sales")
        and pd.api.types.is_numeric_dtype(forecast[c])
        and not pd.api.types.is_bool_dtype(forecast[c])
    ]
    return ["Weekly_Sales", *extra]


@dataclass
class DefaultTable:
    """Forecasts of every series the model can be asked for (every store it knows x every
    department it knows: the series it has history for, and the new ones its cold-start path
    forecasts) x every horizon week, with the calendar's holiday flag and no markdowns."""

    index: pd.MultiIndex  # (store, dept, date)
    values: pd.DataFrame  # value_columns, aligned with index
    #: series -> one JSON record per horizon week, as the API returns it
    records: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)
    #: series -> its forecast_basis (model or new_series)
    basis: dict[tuple[int, int], str] = field(default_factory=dict)
    weeks: dict[date, int] = field(default_factory=dict)  # horizon week -> its position
    holidays: list[bool] = field(default_factory=list)  # the calendar's flag of each week
    stores: frozenset[int] = frozenset()
    depts: frozenset[int] = frozenset()  # departments the model knows
    #: per week, the JSON record of a department the model never saw, after ``"dept":N``
    unseen_tails: list[bytes] = field(default_factory=list)

    def unseen(self, store: int, dept: int, week: int) -> bytes:
        """The record of a department the model has never seen (forecast 0, extra values null)."""
        return b'{"store":%d,"dept":%d' % (store, dept) + self.unseen_tails[week]

    def lookup_series(
        self, keys: list[tuple[int, int]]
    ) -> tuple[list[bytes], dict[str, int]] | None:
        """The records of every horizon week of each series and the rows per forecast_basis,
        or None when a request must take the checked path (an unknown store, a repeat)."""
        out: list[bytes] = []
        counts: dict[str, int] = {}
        h = len(self.holidays)
        if len(set(keys)) != len(keys):
            return None
        for store, dept in keys:
            if store not in self.stores:
                return None
            found = self.records.get((store, dept))
            if found is not None:
                out.extend(found)
                basis = self.basis[(store, dept)]
            elif dept not in self.depts:
                out.extend(self.unseen(store, dept, w) for w in range(h))
                basis = checks.UNSEEN_DEPARTMENT
            else:  # pragma: no cover - the table holds every known store x known dept
                return None
            counts[basis] = counts.get(basis, 0) + h
        return out, counts

    def lookup_rows(self, rows: list[Any]) -> tuple[list[bytes], dict[str, int]] | None:
        """The records of ``rows`` (:class:`.schemas.ForecastRow`) when every one asks what the
        table holds (a known store, a horizon week, no markdowns, the calendar's holiday flag or
        none, no repeats); None otherwise (the checked path, and the model where needed)."""
        out: list[bytes] = []
        counts: dict[str, int] = {}
        seen: set[tuple[int, int, int]] = set()
        weeks, holidays, records = self.weeks, self.holidays, self.records
        for r in rows:
            w = weeks.get(r.week)
            if (
                w is None
                or r.store not in self.stores
                or (r.is_holiday is not None and r.is_holiday != holidays[w])
                or r.markdown1 is not None
                or r.markdown2 is not None
                or r.markdown3 is not None
                or r.markdown4 is not None
                or r.markdown5 is not None
            ):
                return None
            key = (r.store, r.dept, w)
            if key in seen:
                return None
            seen.add(key)
            found = records.get((r.store, r.dept))
            if found is not None:
                out.append(found[w])
                basis = self.basis[(r.store, r.dept)]
            elif r.dept not in self.depts:
                out.append(self.unseen(r.store, r.dept, w))
                basis = checks.UNSEEN_DEPARTMENT
            else:  # pragma: no cover - the table holds every known store x known dept
                return None
            counts[basis] = counts.get(basis, 0) + 1
        return out, counts


def universe(forecaster: ChampionForecaster) -> tuple[pd.DataFrame, np.ndarray]:
    """Every (store, dept) of a known store and a known department, and whether the model has
    history for it (the others are new series, forecast by its cold-start path)."""
    known = forecaster.known_series()
    stores = np.sort(forecaster.stores["store"].to_numpy(dtype="int64"))
    depts = np.sort(known["dept"].unique().astype("int64"))
    series = pd.DataFrame(
        {"store": np.repeat(stores, len(depts)), "dept": np.tile(depts, len(stores))}
    )
    has_history = pd.MultiIndex.from_frame(series).isin(
        pd.MultiIndex.from_frame(known[["store", "dept"]])
    )
    return series, np.asarray(has_history, dtype=bool)


def default_table(
    python_model: Any, forecaster: ChampionForecaster, chunk_rows: int = CHUNK_ROWS
) -> DefaultTable:
    """:class:`DefaultTable` of ``forecaster``: the model forecasts every row once, at load, at
    most ``chunk_rows`` rows (whole series) per call."""
    weeks = forecaster.forecast_weeks()
    series, has_history = universe(forecaster)
    n, h = len(series), len(weeks)
    flags = calendar_holidays(weeks)
    rows = pd.DataFrame(
        {
            "Store": np.repeat(series["store"].to_numpy(), h),
            "Dept": np.repeat(series["dept"].to_numpy(), h),
            "Date": np.tile(weeks.strftime("%Y-%m-%d").to_numpy(), n),
            "IsHoliday": np.tile(flags, n),
        }
    )
    forecast = predict_chunked(python_model, rows, max(chunk_rows // h, 1) * h)
    values = forecast[value_columns(forecast)].astype(float).reset_index(drop=True)
    index = pd.MultiIndex.from_arrays(
        [rows["Store"].to_numpy(), rows["Dept"].to_numpy(), np.tile(weeks.to_numpy(), n)],
        names=["store", "dept", "date"],
    )
    basis = np.where(has_history, checks.MODEL, checks.NEW_SERIES)
    table = pd.DataFrame(
        {
            "Store": rows["Store"].to_numpy(),
            "Dept": rows["Dept"].to_numpy(),
            "Date": index.get_level_values(2),
            "IsHoliday": rows["IsHoliday"].to_numpy(),
            "forecast_basis": np.repeat(basis, h),
        }
    )
    for c in values.columns:
        table[c] = values[c].to_numpy()
    keys = list(zip(series["store"].tolist(), series["dept"].tolist(), strict=True))
    per_series: dict[tuple[int, int], list[bytes]] = {}
    for i in range(
        0, n, 256
    ):  # 256 series at a time: not a dict per row of the whole table at once (peak memory)
        part = records(table.iloc[i * h : (i + 256) * h])
        for j, key in enumerate(keys[i : i + 256]):
            per_series[key] = [compact(dump_json(r)) for r in part[j * h : (j + 1) * h]]
    unseen = pd.DataFrame(
        {
            "Store": 0,
            "Dept": 0,
            "Date": weeks,
            "IsHoliday": flags,
            "forecast_basis": checks.UNSEEN_DEPARTMENT,
            "Weekly_Sales": 0.0,
            **{c: np.nan for c in values.columns if c != "Weekly_Sales"},
        }
    )
    prefix = b'{"store":0,"dept":0'
    tails = [compact(dump_json(r)[len(prefix) :]) for r in records(unseen)]
    return DefaultTable(
        index=index,
        values=values,
        records=per_series,
        basis=dict(zip(keys, basis.tolist(), strict=True)),
        weeks={w.date(): i for i, w in enumerate(weeks)},
        holidays=flags.tolist(),
        stores=frozenset(series["store"].tolist()),
        depts=frozenset(series["dept"].tolist()),
        unseen_tails=tails,
    )


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


def compact(data: bytes) -> bytes:
    """A copy of ``data`` in a block of its own size: orjson's bytes keep the 4 KiB buffer they
    were written into, which for the table's ~140,000 short records is ~550 MB instead of ~50."""
    return bytes(memoryview(data))


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
        return [
            {
                "loc": [
                    "body",
                    "rows" if kind == "json" else "header",
                    API_FIELDS.get(c, c) if kind == "json" else c,
                ],
                "msg": msg,
                "type": "missing",
            }
            for c in columns
        ]
    problem = re.search(r"\d+ row\(s\) (?:are |name |share )?(.*?)\. Examples:", message)
    short = f"{names[0] if names else column or 'row'}: {problem.group(1)}" if problem else msg
    for loc in where:
        errors.append({"loc": [*loc, *names], "msg": short, "type": "invalid_rows"})
    return errors


def _json_message(message: str) -> str:
    return re.sub(r"line (\d+):", lambda m: f"rows[{int(m.group(1)) - 2}]:", message)


def check_rows(
    raw: pd.DataFrame, forecaster: ChampionForecaster, kind: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """The inference checks on Kaggle-shaped ``raw`` (index 0..n-1): typed rows (Store, Dept,
    Date, IsHoliday, MarkDown1..5) and each row's ``forecast_basis``; :class:`Refusal` when a
    check refuses them."""
    try:
        rows = checks.parse_test(raw)
        basis = checks.forecast_basis(rows, raw, forecaster).to_numpy()
        for name in MARKDOWN_COLUMNS:
            if name in raw:
                with checks.advice("Markdowns are numbers (empty when none is planned)."):
                    rows[name] = as_number(
                        raw, raw.attrs.get("source", {}).get("path", "request"), name, checks.KEYS
                    )
    except RawDataError as exc:
        message = str(exc)
        raise Refusal(
            _json_message(message) if kind == "json" else message, _field_errors(message, kind)
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:  # input the checks did not foresee
        logger.warning("Rows refused by an unexpected %s: %s", type(exc).__name__, exc)
        raise Refusal(
            f"the rows could not be read: {exc}",
            [
                {
                    "loc": ["body"],
                    "msg": f"the rows could not be read: {exc}",
                    "type": "unreadable_rows",
                }
            ],
        ) from None
    return rows, basis


def forecast_rows(
    python_model: Any,
    forecaster: ChampionForecaster,
    table: DefaultTable | None,
    rows: pd.DataFrame,
    basis: np.ndarray,
) -> pd.DataFrame:
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
        where = table.index.get_indexer(
            pd.MultiIndex.from_arrays(
                [
                    rows["Store"].to_numpy(),
                    rows["Dept"].to_numpy(),
                    pd.to_datetime(rows["Date"]).to_numpy(),
                ]
            )
        )
        hit = forecastable & default & (where >= 0)
        for c in columns:
            result[c] = np.full(n, np.nan)
            result[c][hit] = table.values[c].to_numpy()[where[hit]]
        todo = forecastable & ~hit
    if todo.any():
        sub = rows.loc[todo].copy()
        sub["Date"] = pd.to_datetime(sub["Date"]).dt.strftime("%Y-%m-%d")
        forecast = predict_chunked(python_model, sub)
        for c in value_columns(forecast):
            if c not in result:
                result[c] = np.full(n, np.nan)
            result[c][todo] = forecast[c].to_numpy(dtype=float)
    if not result:
        result["Weekly_Sales"] = np.full(n, np.nan)
    result["Weekly_Sales"][~forecastable] = checks.UNSEEN_DEPARTMENT_FORECAST
    out = pd.DataFrame(
        {
            "Store": rows["Store"].to_numpy(),
            "Dept": rows["Dept"].to_numpy(),
            "Date": pd.to_datetime(rows["Date"]).to_numpy(),
            "IsHoliday": rows["IsHoliday"].to_numpy(dtype=bool),
            "forecast_basis": basis,
        }
    )
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
    return pd.DataFrame(
        {
            "Store": stores,
            "Dept": depts,
            "Date": np.tile(weeks.strftime("%Y-%m-%d").to_numpy(), len(series)),
            "IsHoliday": np.tile(calendar_holidays(weeks), len(series)),
        }
    )


def submission(forecast: pd.DataFrame, extra: bool = True) -> pd.DataFrame:
    """Kaggle's submission shape ``Id = Store_Dept_Date, Weekly_Sales`` (then the extra value
    columns, unless ``extra`` is false)."""
    days = np.datetime_as_string(
        pd.to_datetime(forecast["Date"]).to_numpy(dtype="datetime64[D]")
    ).tolist()
    ids = [
        f"{s}_{d}_{day}"
        for s, d, day in zip(
            forecast["Store"].to_numpy(dtype="int64").tolist(),
            forecast["Dept"].to_numpy(dtype="int64").tolist(),
            days,
            strict=True,
        )
    ]
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
            columns.append(
                ["" if v != v else repr(v) for v in values.to_numpy(dtype=float).tolist()]
            )
        else:
            columns.append([str(v) for v in values.tolist()])
    lines = [",".join(map(str, frame.columns)), *map(",".join, zip(*columns, strict=True))]
    return "\n".join(lines) + "\n"


def records(forecast: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON rows: store, dept, week, is_holiday, forecast_basis, weekly_sales, then the extra
    value columns under the model's names; NaN -> null. (Plain lists: pandas' ``to_dict`` costs
    milliseconds per call.)"""
    keys = ["store", "dept", "week", "is_holiday", "forecast_basis", "weekly_sales"]
    columns = [
        forecast["Store"].to_numpy(dtype="int64").tolist(),
        forecast["Dept"].to_numpy(dtype="int64").tolist(),
        np.datetime_as_string(
            pd.to_datetime(forecast["Date"]).to_numpy(dtype="datetime64[D]")
        ).tolist(),
        forecast["IsHoliday"].to_numpy(dtype=bool).tolist(),
        forecast["forecast_basis"].astype(str).tolist(),
    ]
    values = [
        "Weekly_Sales",
        *[c for c in forecast.columns if c not in (*RECORD_KEYS, "Weekly_Sales")],
    ]
    keys += values[1:]
    for c in values:
        column = forecast[c].to_numpy(dtype=float)
        columns.append([None if v != v else v for v in column.tolist()])
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


RECORD_KEYS = ("Store", "Dept", "Date", "IsHoliday", "forecast_basis")
