"""Time the forecasting engine on a data directory and print the baselines' figures.

Reads the Kaggle files (real or synthetic) with the ingestion nodes in-process (no warehouse),
then times the panel, the feature build (the final model's training and forecast frames), the
baselines' rolling-origin backtest and their test-window forecast, and prints WMAE/MAE/RMSE
overall and on holiday weeks.

    python benchmarks/engine.py --data-dir ../shared/data/walmart
    python benchmarks/engine.py                      # default synthetic bundle (generated)
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from retail_forecasting.forecasting.backtest import BacktestParams, overall, score
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.pipelines.baselines.nodes import backtest_baselines, forecast_test_window
from retail_forecasting.pipelines.feature_engineering.nodes import build_model_input, build_panel
from retail_forecasting.pipelines.ingestion import nodes as ingestion
from retail_forecasting.synthetic import write_kaggle_files


def splits_from(directory: Path, horizon: int) -> tuple[pd.DataFrame, ...]:
    """Validated splits straight from the CSVs (the same nodes as the ingestion pipeline)."""
    params = ingestion.IngestionParams()
    stores = ingestion.validate_stores(pd.read_csv(directory / "stores.csv"), params)
    features = ingestion.validate_store_features(
        pd.read_csv(directory / "features.csv"), stores, params
    )
    sales = ingestion.validate_sales(pd.read_csv(directory / "train.csv"), stores, features, params)
    view = sales.merge(stores, on="store").merge(
        features.drop(columns="is_holiday"), on=["store", "date"], how="left"
    )
    report = {"actual": {"vw_sales_analytics": len(view)}}
    train, validation, test, _ = ingestion.split_chronologically(view, report, horizon, params)
    return train, validation, test


def timed(label: str, function, *args):
    started = time.perf_counter()
    result = function(*args)
    print(f"{label:<34} {time.perf_counter() - started:>7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--horizon", type=int, default=39)
    args = parser.parse_args()
    if args.data_dir is None:
        args.data_dir = Path(tempfile.mkdtemp()) / "synthetic"
        write_kaggle_files(args.data_dir)

    train, validation, test = timed(
        "read + validate + split", splits_from, args.data_dir, args.horizon
    )
    panel = timed("panel contract", build_panel, train, validation, test)
    training, forecast = timed(
        "features (training + forecast)", build_model_input, panel, args.horizon, FeatureParams()
    )
    print(
        f"  {len(panel):,} panel rows -> {len(training):,} training rows, "
        f"{len(forecast):,} forecast rows, "
        f"{forecast.shape[1] - 2} features"
    )
    backtest = timed(
        "baselines backtest",
        backtest_baselines,
        panel,
        args.horizon,
        BacktestParams(),
        BaselineParams(),
    )
    test_cv = timed(
        "baselines test window", forecast_test_window, panel, args.horizon, BaselineParams()
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MiB")

    for name, cv in (
        (
            "backtest (folds: "
            + ", ".join(sorted(backtest["cutoff"].dt.strftime("%Y-%m-%d").unique()))
            + ")",
            backtest,
        ),
        (
            f"test window {test_cv['date'].min():%Y-%m-%d}..{test_cv['date'].max():%Y-%m-%d}",
            test_cv,
        ),
    ):
        scores = score(cv, segments=["is_holiday"])
        table = pd.DataFrame(overall(scores)).T[["wmae", "mae", "rmse"]]
        holiday = scores[
            (scores["segment"] == "is_holiday")
            & (scores["segment_value"] == "True")
            & (scores["cutoff"] == "all")
        ]
        table["mae_holiday_weeks"] = holiday.set_index("model")["mae"]
        print(f"\n{name}\n{table.round(1).sort_values('wmae').to_string()}")


if __name__ == "__main__":
    main()
