"""What inference refuses, and its choice for departments the model has never seen.

The inputs are real CSV files read by the project's ``KaggleRawDataset`` (so line numbers and
file names are those a user sees); the outputs are file datasets in ``tmp_path``, so "nothing
was written" is checked on disk. The model is a packaged seasonal-naive champion built from the
fixture panel (stores 1-3, departments 1-4) without the series (2, 4).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset, ParquetDataset

from retail_forecasting.datasets import KaggleRawDataset
from retail_forecasting.errors import RawDataError
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.model_registry import ChampionPyfunc
from retail_forecasting.pipelines.inference import create_pipeline
from retail_forecasting.pipelines.inference.checks import UNSEEN_DEPARTMENT_FORECAST

WEEK = pd.Timedelta(weeks=1)
OUTPUTS = {
    "int_inference_input": "int_inference_input.parquet",
    "rpt_submission": "submission.csv",
    "mo_inference_forecasts": "mo_inference_forecasts.parquet",
}


class Loaded:
    """What mlflow.pyfunc.load_model returns: predict(frame) and unwrap_python_model()."""

    def __init__(self, python_model):
        self.python_model = python_model
        self.asked: list[pd.DataFrame] = []

    def predict(self, frame):
        self.asked.append(frame)
        return self.python_model.predict(None, frame)

    def unwrap_python_model(self):
        return self.python_model


class Extrapolating(Loaded):
    """A model that forecasts 123 for every row it is asked about, as a learner may for a
    department it has never seen."""

    def predict(self, frame):
        self.asked.append(frame)
        return pd.DataFrame(
            {
                "Store": frame["Store"],
                "Dept": frame["Dept"],
                "Date": frame["Date"],
                "Weekly_Sales": 123.0,
            }
        )


@pytest.fixture
def forecaster(feat_panel, horizon_weeks) -> ChampionForecaster:
    panel = feat_panel[~((feat_panel["store"] == 2) & (feat_panel["dept"] == 4))]
    return ChampionForecaster.from_panel(
        panel,
        "seasonal_naive",
        "baseline",
        horizon_weeks,
        FeatureParams(),
        baselines=BaselineParams(),
    )


@pytest.fixture
def origin(forecaster) -> pd.Timestamp:
    return forecaster.origin


def week(origin: pd.Timestamp, k: int) -> str:
    return f"{origin + k * WEEK:%Y-%m-%d}"


def good_test(origin: pd.Timestamp) -> pd.DataFrame:
    rows = [
        (store, dept, week(origin, k)) for store in (1, 2, 3) for dept in (1, 2) for k in (1, 2)
    ]
    return pd.DataFrame(rows, columns=["Store", "Dept", "Date"]).assign(IsHoliday="FALSE")


def run(tmp_path: Path, model, test: pd.DataFrame | str, stores=(1, 2, 3, 4)) -> DataCatalog:
    """Write the CSVs, run the inference pipeline; returns the catalog (outputs in tmp_path/out)."""
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    if isinstance(test, str):
        (raw / "test.csv").write_text(test)
    else:
        test.to_csv(raw / "test.csv", index=False)
    pd.DataFrame({"Store": list(stores), "Type": "A", "Size": 150_000}).to_csv(
        raw / "stores.csv", index=False
    )
    pd.DataFrame(
        {
            "Store": [1, 2],
            "Date": ["2012-11-02"] * 2,
            "IsHoliday": "FALSE",
            "MarkDown1": [5.0, "NA"],
        }
    ).to_csv(raw / "features.csv", index=False)
    out = tmp_path / "out"
    catalog = DataCatalog(
        {
            **{
                f"raw_{name}": KaggleRawDataset(file=f"{name}.csv", raw_data_dir=str(raw))
                for name in ("test", "features", "stores")
            },
            "mdl_registered_champion": MemoryDataset(model, copy_mode="assign"),
            "int_inference_input": ParquetDataset(
                filepath=str(out / OUTPUTS["int_inference_input"])
            ),
            "rpt_submission": CSVDataset(
                filepath=str(out / OUTPUTS["rpt_submission"]), save_args={"index": False}
            ),
            "mo_inference_forecasts": ParquetDataset(
                filepath=str(out / OUTPUTS["mo_inference_forecasts"])
            ),
        }
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def refused(tmp_path: Path, model, test, *patterns: str) -> str:
    """Run, expect a RawDataError matching every pattern, and check nothing was written."""
    with pytest.raises(RawDataError) as caught:
        run(tmp_path, model, test)
    message = str(caught.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in: {message}"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir()), (
        "something was written"
    )
    return message


def test_good_input_is_forecast_and_written(tmp_path, forecaster, origin):
    catalog = run(tmp_path, Loaded(ChampionPyfunc(forecaster)), good_test(origin))
    tidy = catalog.load("mo_inference_forecasts")
    assert len(tidy) == 12 and set(tidy["forecast_basis"]) == {"model"}
    assert all((tmp_path / "out" / name).is_file() for name in OUTPUTS.values())


def test_missing_column_is_refused(tmp_path, forecaster, origin):
    test = good_test(origin).drop(columns="IsHoliday")
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"raw/test\.csv: missing column\(s\) \['IsHoliday'\]",
        r"Store,Dept,Date,IsHoliday",
    )


def test_header_only_file_is_refused(tmp_path, forecaster):
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        "Store,Dept,Date,IsHoliday\n",
        r"test\.csv has a header but no rows",
        "nothing to forecast",
    )


def test_text_date_is_refused_with_its_line(tmp_path, forecaster, origin):
    test = good_test(origin)
    test.loc[3, "Date"] = "next friday"
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"test\.csv, column 'Date': 1 row\(s\) are not YYYY-MM-DD dates",
        r"line 5: Store=1, Dept=2, Date='next friday'",
        "Fix or remove these rows",
    )


def test_non_friday_is_refused_with_its_line(tmp_path, forecaster, origin):
    test = good_test(origin)
    thursday = f"{origin + WEEK - pd.Timedelta(days=1):%Y-%m-%d}"
    test.loc[6, "Date"] = thursday
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"column 'Date': 1 row\(s\) are not Fridays",
        rf"line 8: Store=2, Dept=2, Date='{thursday}'",
    )


def test_duplicate_keys_are_refused(tmp_path, forecaster, origin):
    test = pd.concat([good_test(origin), good_test(origin).iloc[[2]]], ignore_index=True)
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"column 'Store\+Dept\+Date': 2 row\(s\) share a duplicate key",
        rf"line 4: Store=1, Dept=2, Date='{week(origin, 1)}'; line 14: Store=1, Dept=2",
        "Keep one row per Store, Dept and Date",
    )


def test_store_missing_from_stores_csv_is_refused(tmp_path, forecaster, origin):
    test = pd.concat(
        [
            good_test(origin),
            pd.DataFrame(
                {"Store": [9], "Dept": [1], "Date": [week(origin, 1)], "IsHoliday": "FALSE"}
            ),
        ],
        ignore_index=True,
    )
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"column 'Store': 1 row\(s\) name stores missing from stores\.csv",
        rf"line 14: Store=9, Dept=1, Date='{week(origin, 1)}'",
        "same bundle",
    )


def test_store_unknown_to_the_model_is_refused(tmp_path, forecaster, origin):
    # store 4 is in stores.csv but the model has no history for it
    test = pd.concat(
        [
            pd.DataFrame(
                {
                    "Store": [4, 4],
                    "Dept": [1, 2],
                    "Date": [week(origin, 1)] * 2,
                    "IsHoliday": "FALSE",
                }
            ),
            good_test(origin),
        ],
        ignore_index=True,
    )
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"column 'Store': 2 row\(s\) name stores the registered model has no history for",
        rf"line 2: Store=4, Dept=1, Date='{week(origin, 1)}'; line 3: Store=4, Dept=2",
        rf"built on data up to {origin.date()} for stores 1-3",
        "retrain with `kedro run`",
    )


@pytest.mark.parametrize("k", [0, -10, 40])
def test_week_outside_the_horizon_is_refused(tmp_path, forecaster, origin, k):
    test = good_test(origin)
    test.loc[11, "Date"] = week(origin, k)
    refused(
        tmp_path,
        Loaded(ChampionPyfunc(forecaster)),
        test,
        r"column 'Date': 1 row\(s\) are outside the registered model's horizon",
        rf"line 13: Store=3, Dept=2, Date='{week(origin, k)}'",
        rf"forecasts the 39 weeks after the last week of its data \({origin.date()}\): "
        rf"{week(origin, 1)}\.\.{week(origin, 39)}",
    )


def test_unseen_department_gets_the_documented_fallback_and_is_counted(
    tmp_path, forecaster, origin, caplog
):
    # department 99: never seen by the model; (2, 4): a series new at store 2, department 4 known
    # at stores 1 and 3
    extra = pd.DataFrame(
        {
            "Store": [1, 1, 2],
            "Dept": [99, 99, 4],
            "Date": [week(origin, 1), week(origin, 2), week(origin, 1)],
            "IsHoliday": "FALSE",
        }
    )
    test = pd.concat([good_test(origin), extra], ignore_index=True)
    model = Extrapolating(ChampionPyfunc(forecaster))
    with caplog.at_level(logging.WARNING):
        catalog = run(tmp_path, model, test)
    tidy = catalog.load("mo_inference_forecasts")
    basis = tidy["forecast_basis"].value_counts().to_dict()
    assert basis == {"model": 12, "unseen_department": 2, "new_series": 1}
    unseen = tidy["dept"] == 99
    assert UNSEEN_DEPARTMENT_FORECAST == 0.0
    np.testing.assert_array_equal(tidy.loc[unseen, "weekly_sales_forecast"], 0.0)
    np.testing.assert_array_equal(tidy.loc[~unseen, "weekly_sales_forecast"], 123.0)
    submission = catalog.load("rpt_submission")
    assert submission.set_index("Id").loc[f"1_99_{week(origin, 1)}", "Weekly_Sales"] == 0.0
    # the model is never asked about departments it has not seen
    assert sum(len(f) for f in model.asked) == 13 and all(
        (f["Dept"] != 99).all() for f in model.asked
    )
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "2 row(s) name departments the registered model has never seen ([99])" in warning
    assert f"line 14: Store=1, Dept=99, Date='{week(origin, 1)}'" in warning


def test_new_series_of_a_known_department_is_forecast_by_the_model(
    tmp_path, forecaster, origin, feat_panel
):
    # the seasonal naive's cold start: the department's level over the other stores, not 0
    test = pd.DataFrame(
        {"Store": [2], "Dept": [4], "Date": [week(origin, 1)], "IsHoliday": "FALSE"}
    )
    tidy = run(tmp_path, Loaded(ChampionPyfunc(forecaster)), test).load("mo_inference_forecasts")
    assert tidy["forecast_basis"].tolist() == ["new_series"]
    assert tidy["weekly_sales_forecast"].iloc[0] > 0
