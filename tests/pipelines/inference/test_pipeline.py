"""The inference pipeline on an in-memory catalog: a packaged champion (the seasonal naive,
so the expected values are known) forecasts Kaggle-shaped test.csv rows."""

import numpy as np
import pandas as pd

from retail_forecasting.model_registry import ChampionPyfunc
from retail_forecasting.pipelines.inference import create_pipeline

WEEK = pd.Timedelta(weeks=1)


class Loaded:
    """What mlflow.pyfunc.load_model returns: predict(frame) and unwrap_python_model()."""

    def __init__(self, python_model):
        self.python_model = python_model

    def predict(self, frame):
        return self.python_model.predict(None, frame)

    def unwrap_python_model(self):
        return self.python_model


def kaggle_stores(stores=(1, 2, 3)) -> pd.DataFrame:
    return pd.DataFrame({"Store": list(stores), "Type": "A", "Size": 150_000})


def kaggle_test(last: pd.Timestamp) -> pd.DataFrame:
    dates = [last + k * WEEK for k in (1, 2, 3)]
    return pd.DataFrame(
        {
            "Store": [1, 1, 2, 2],
            "Dept": [1, 1, 2, 2],
            "Date": [f"{d:%Y-%m-%d}" for d in (dates[0], dates[1], dates[0], dates[2])],
            "IsHoliday": [False, True, False, False],
        }
    )


def test_submission_and_tidy_forecasts(feat_panel, run_pipeline, seasonal_naive_champion):
    last = feat_panel["date"].max()
    model = ChampionPyfunc(seasonal_naive_champion)
    features = pd.DataFrame(
        {
            "Store": [1, 2],
            "Date": [f"{last + WEEK:%Y-%m-%d}"] * 2,
            "IsHoliday": False,
            "MarkDown1": [5.0, 7.0],
        }
    )
    test = kaggle_test(last)
    catalog = run_pipeline(
        create_pipeline(),
        {
            "raw_test": test,
            "raw_features": features,
            "raw_stores": kaggle_stores(),
            "mdl_registered_champion": Loaded(model),
        },
    )
    submission = catalog.load("rpt_submission")
    assert list(submission.columns) == ["Id", "Weekly_Sales"]
    assert submission["Id"].iloc[0] == f"1_1_{last + WEEK:%Y-%m-%d}"
    history = feat_panel.set_index(["store", "dept", "date"])["weekly_sales"]
    assert submission["Weekly_Sales"].iloc[0] == history[(1, 1, last + WEEK - 52 * WEEK)]
    tidy = catalog.load("mo_inference_forecasts")
    assert len(tidy) == len(test) and tidy["is_holiday"].tolist() == [False, True, False, False]
    assert tidy["forecast_basis"].tolist() == ["model"] * 4
    # the planned markdowns of each row's week, NaN where features.csv has none
    np.testing.assert_array_equal(
        catalog.load("int_inference_input")["MarkDown1"], [5.0, np.nan, 7.0, np.nan]
    )
    # the same forecasts as rows of retailds.fact_forecast_weekly, from the model's origin
    table = catalog.load("fc_forecast_table")
    assert table["origin_date"].eq(last).all() and table["step"].tolist() == [1, 2, 1, 3]
    assert table["week_date"].tolist() == tidy["date"].tolist() and table["store_id"].tolist() == [
        1,
        1,
        2,
        2,
    ]
    np.testing.assert_array_equal(table["forecast"], tidy["weekly_sales_forecast"])
    assert (
        table["model_name"].eq("seasonal_naive").all()
        and table["model_version"].eq("unregistered").all()
    )
    assert table[["q0_025", "q0_1", "q0_5", "q0_9", "q0_975"]].isna().all().all()  # no intervals


def test_the_model_quantiles_reach_the_tidy_table_not_the_submission(
    feat_panel, run_pipeline, horizon_weeks, seasonal_naive_champion
):
    from retail_forecasting.forecasting.intervals import IntervalParams, calibrate

    last = feat_panel["date"].max()
    forecaster = seasonal_naive_champion
    rng = np.random.default_rng(0)
    steps = rng.integers(1, horizon_weeks + 1, 2000)
    forecaster.intervals = calibrate(
        rng.normal(0, 1, 2000),
        np.ones(2000),
        steps,
        np.zeros(2000, bool),
        IntervalParams(min_bucket_rows=10),
        horizon_weeks,
    )
    test = pd.concat(
        [
            kaggle_test(last),
            pd.DataFrame(
                {
                    "Store": [1],
                    "Dept": [99],
                    "IsHoliday": [False],
                    "Date": [f"{last + WEEK:%Y-%m-%d}"],
                }
            ),
        ],
        ignore_index=True,
    )
    catalog = run_pipeline(
        create_pipeline(),
        {
            "raw_test": test,
            "raw_features": pd.DataFrame(
                {"Store": [1], "Date": [f"{last + WEEK:%Y-%m-%d}"], "IsHoliday": False}
            ),
            "raw_stores": kaggle_stores(),
            "mdl_registered_champion": Loaded(ChampionPyfunc(forecaster)),
        },
    )
    assert list(catalog.load("rpt_submission").columns) == ["Id", "Weekly_Sales"]
    tidy = catalog.load("mo_inference_forecasts")
    quantiles = ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
    assert list(tidy.columns) == [
        "store",
        "dept",
        "date",
        "is_holiday",
        "weekly_sales_forecast",
        *quantiles,
        "forecast_basis",
    ]
    model_rows = tidy["forecast_basis"] == "model"
    assert (
        model_rows.sum() == 4
        and (tidy.loc[model_rows, "q0.025"] < tidy.loc[model_rows, "weekly_sales_forecast"]).all()
    )
    assert (tidy.loc[model_rows, "q0.975"] > tidy.loc[model_rows, "weekly_sales_forecast"]).all()
    assert (
        (tidy.loc[~model_rows, quantiles] == 0).all().all()
    )  # a department never seen: 0, like its forecast
    table = catalog.load("fc_forecast_table")
    for q in quantiles:
        np.testing.assert_array_equal(table[q.replace(".", "_")], tidy[q])
    assert table["forecast_basis"].tolist() == tidy["forecast_basis"].tolist()
