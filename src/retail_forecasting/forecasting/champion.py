"""The champion as one self-contained forecaster of raw-shaped rows (Kaggle ``test.csv``).

:class:`ChampionForecaster` carries everything a forecast needs: the fitted model(s) and their
weights (one learner or statistical model, the ensemble's members, or a baseline's
parameters), the feature parameters, the horizon, the store table (statics) and a
:class:`~.history.History` built at the last week of the panel (the target matrix and the
observed covariates, nothing else). It forecasts any week 1..horizon weeks after that week,
with the same feature code as the backtests.
With an :class:`~.intervals.IntervalModel` (``intervals``, the champion's, calibrated on its
backtest) it also returns the quantile columns ``Weekly_Sales_q0.025`` … ``Weekly_Sales_q0.975``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from retail_forecasting.forecasting import decomposition
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines
from retail_forecasting.forecasting.contract import ID_COLUMNS, MARKDOWNS, TARGET, TIME_COLUMN
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import FeatureParams, forecast_frame
from retail_forecasting.forecasting.history import WEEK, History
from retail_forecasting.forecasting.intervals import IntervalModel, quantile_columns
from retail_forecasting.forecasting.learners import FittedLearner
from retail_forecasting.kaggle.schema import FORECAST_INPUT_NAMES

QUANTILE_PREFIX = "Weekly_Sales_q"  # Weekly_Sales_q0.1 …: the pyfunc's quantile columns


def tidy_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Kaggle-shaped rows (Store, Dept, Date, IsHoliday[, MarkDown1..5]) in the panel's names."""
    rows = raw.rename(columns=FORECAST_INPUT_NAMES)
    missing = [c for c in ("store", "dept", "date", "is_holiday") if c not in rows]
    if missing:
        raise ValueError(
            f"forecast input lacks column(s) {missing}; expected Store, Dept, Date, IsHoliday"
        )
    rows = rows.assign(
        store=rows["store"].astype("int64"),
        dept=rows["dept"].astype("int64"),
        date=pd.to_datetime(rows["date"]).astype("datetime64[ns]"),
        is_holiday=rows["is_holiday"].map(lambda v: str(v).strip().lower() in ("true", "1")),
    )
    for name in MARKDOWNS:
        rows[name] = pd.to_numeric(rows[name], errors="coerce") if name in rows else np.nan
    return rows.reset_index(drop=True)


@dataclass
class ChampionForecaster:
    """See the module docstring. ``weights`` maps each model in ``models`` to its weight."""

    name: str
    family: str  # baseline | learner | statistical | ensemble
    horizon: int
    features: FeatureParams
    history: History
    stores: pd.DataFrame  # store, store_type, store_size
    models: dict[str, FittedLearner | DecompositionParams]  # a statistical model is its settings
    weights: dict[str, float]
    baselines: BaselineParams | None = None
    intervals: IntervalModel | None = (
        None  # quantile columns when set (models pickled before have none)
    )

    @classmethod
    def from_panel(
        cls,
        panel: pd.DataFrame,
        name: str,
        family: str,
        horizon: int,
        features: FeatureParams,
        models: dict[str, FittedLearner | DecompositionParams] | None = None,
        weights: dict[str, float] | None = None,
        baselines: BaselineParams | None = None,
    ) -> ChampionForecaster:
        """Bundle the champion with the history at the panel's last week."""
        history = History.from_panel(
            panel, panel[TIME_COLUMN].max(), observed=features.covariates.observed
        )
        stores = panel.drop_duplicates("store")[["store", "store_type", "store_size"]].reset_index(
            drop=True
        )
        models = models or {}
        if family == "baseline" and baselines is None:
            raise ValueError("a baseline champion needs its BaselineParams")
        if family != "baseline" and not models:
            raise ValueError(f"the {family} champion {name!r} has no fitted model")
        return cls(
            name,
            family,
            horizon,
            features,
            history,
            stores,
            models,
            weights or {m: 1.0 for m in models},
            baselines,
        )

    @property
    def origin(self) -> pd.Timestamp:
        """The forecast origin: the last week of the history."""
        return self.history.cutoff

    def forecast_weeks(self) -> pd.DatetimeIndex:
        """The weeks this model forecasts: 1..``horizon`` weeks after its origin."""
        return pd.date_range(self.origin + pd.Timedelta(weeks=1), periods=self.horizon, freq="7D")

    def known_series(self) -> pd.DataFrame:
        """(store, dept) of every series with history at the origin; ``self.stores`` lists the
        stores (with their type and size) the model can forecast."""
        return self.history.series.to_frame(index=False)

    def update(self, actuals: pd.DataFrame) -> ChampionForecaster:
        """A copy whose history also holds ``actuals``, its origin moved to their newest week;
        the fitted model(s), weights and parameters are kept as they are (no refit), as
        mlforecast's ``MLForecast.update`` refreshes the history without retraining.

        ``actuals`` are panel-shaped rows: ``store, dept, date, weekly_sales``, the observed
        covariates of ``features.covariates.observed`` (NaN or absent: the last known value is
        carried forward, as at training), and ``store_type, store_size`` for stores the model
        has not seen. Rows after the current origin extend the history; rows at or before it
        replace the stored values (corrections). Passing the whole warehouse history is fine:
        unchanged rows change nothing. ``self`` is not modified.
        """
        required = [*ID_COLUMNS, TIME_COLUMN, TARGET]
        missing = [c for c in required if c not in actuals]
        if missing:
            raise ValueError(f"update needs panel rows with {required}; missing {missing}")
        if actuals.empty:
            return replace(self)
        observed = list(self.features.covariates.observed)
        new = actuals.assign(
            **{TIME_COLUMN: pd.to_datetime(actuals[TIME_COLUMN]).astype("datetime64[ns]")}
        )
        new = new.reindex(columns=[*required, *observed])
        if ((new[TIME_COLUMN] - self.history.start) % WEEK != pd.Timedelta(0)).any():
            raise ValueError(
                f"actuals must fall on the model's weekly grid (weeks ending "
                f"{self.history.start:%A}s, from {self.history.start.date()})"
            )
        rows = pd.concat([self._history_rows(observed), new], ignore_index=True)
        rows = rows.drop_duplicates([*ID_COLUMNS, TIME_COLUMN], keep="last")
        history = History.from_panel(
            rows, rows[TIME_COLUMN].max(), observed=observed, start=self.history.start
        )
        stores = self.stores
        if {"store_type", "store_size"} <= set(actuals.columns):
            seen = actuals.drop_duplicates("store")[["store", "store_type", "store_size"]]
            added = seen.loc[~seen["store"].isin(stores["store"])]
            if len(added):
                stores = pd.concat([stores, added], ignore_index=True)
        return replace(self, history=history, stores=stores)

    def _history_rows(self, observed: list[str]) -> pd.DataFrame:
        """The history as panel rows: every known (series, week) and the observed covariates."""
        h = self.history
        row, week = np.nonzero(~np.isnan(h.y))
        stores = h.series.get_level_values(0).to_numpy()[row]
        frame = pd.DataFrame(
            {
                "store": stores,
                "dept": h.series.get_level_values(1).to_numpy()[row],
                TIME_COLUMN: h.start + pd.to_timedelta(week * 7, unit="D"),
                TARGET: h.y[row, week],
            }
        )
        store_row = h.stores.get_indexer(stores)
        for name in observed:
            matrix = h.covariates.get(name)
            frame[name] = matrix[store_row, week] if matrix is not None else np.nan
        return frame

    def quantile_columns(self) -> list[str]:
        """The quantile columns :meth:`forecast` adds (none without an interval model)."""
        if self.intervals is None:
            return []
        return quantile_columns(self.intervals.quantiles, prefix=QUANTILE_PREFIX)

    def forecast(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Forecast raw-shaped rows; returns Store, Dept, Date, Weekly_Sales in the input order,
        and with an interval model the quantiles ``Weekly_Sales_q0.025`` … ``Weekly_Sales_q0.975``
        (non-crossing; scaled by each series' history at the origin)."""
        rows = tidy_rows(raw).merge(self.stores, on="store", how="left")
        steps = self.history.week_index(rows[TIME_COLUMN]) - self.history.origin_week
        if len(rows) and ((steps < 1) | (steps > self.horizon)).any():
            raise ValueError(
                f"this model forecasts the {self.horizon} weeks after {self.origin.date()}; "
                "the input "
                f"spans {rows['date'].min().date()}..{rows['date'].max().date()}"
            )
        if self.family == "baseline":
            if self.baselines is None:  # from_panel refuses it; only a hand-made bundle lacks them
                raise ValueError(f"the baseline champion {self.name!r} carries no BaselineParams")
            values = make_baselines(self.baselines)[self.name](self.history, rows)
        else:
            values, frame = np.zeros(len(rows)), None  # the learners' features, built once
            for name, weight in self.weights.items():
                model = self.models[name] if weight > 0 else None
                if isinstance(model, DecompositionParams):
                    values += weight * decomposition.forecast(self.history, rows, model)
                elif model is not None:
                    frame = (
                        forecast_frame(self.history, rows, self.features, self.horizon)
                        if frame is None
                        else frame
                    )
                    values += weight * model.predict(frame)
        out = pd.DataFrame(
            {
                "Store": rows["store"],
                "Dept": rows["dept"],
                "Date": rows["date"],
                "Weekly_Sales": np.asarray(values, dtype=float),
            }
        )
        if self.intervals is not None:
            quantiles = self.intervals.forecast_frame(
                self.history, rows, out["Weekly_Sales"].to_numpy(), steps, prefix=QUANTILE_PREFIX
            )
            out = pd.concat([out, quantiles.set_axis(out.index)], axis=1)
        return out
