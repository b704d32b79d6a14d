"""The statistical model and its prediction intervals at several horizons, engine level (no kedro).

For each horizon H on a directory of Kaggle files: the panel as the pipeline builds it (test =
the last H weeks, validation = the 39 before), ``svd_decomposition`` tuned at the last cutoff of
``design_backtest``'s backtest and backtested there (``conf/base`` parameters), its intervals
calibrated on that backtest only (``conf/base/parameters_evaluation.yml``; also without the store
type factor, for comparison), then the test window forecast and scored: WMAE/MAE/RMSE,
coverage, width, interval score, per store type. With ``--peer-cache`` (the directory
``benchmarks/compare_systems.py --peer-cache`` fills) the reference systems of the same windows
are scored beside it. This is the ensemble's main member, the same numbers the pipeline gives it
(a whole run per horizon costs minutes; this one seconds):

    python benchmarks/horizons_statistical.py --data-dir ../shared/data/walmart \
        --horizon 13,26,39,52 --peer-cache peers
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml

from retail_forecasting.forecasting import decomposition
from retail_forecasting.forecasting import intervals as iv
from retail_forecasting.forecasting.backtest import (
    BacktestParams,
    cross_validation,
    rolling_cutoffs,
    score_column,
)
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.features import origin_before
from retail_forecasting.pipelines.feature_engineering.nodes import build_panel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from engine import splits_from  # noqa: E402

CONF = HERE.parent / "conf" / "base"
MODEL = "svd_decomposition"


def parameters() -> tuple[DecompositionParams, BacktestParams, iv.IntervalParams]:
    def read(name: str) -> dict:
        return yaml.safe_load((CONF / name).read_text())

    return (
        DecompositionParams(**read("parameters_modelling.yml")["modelling"][MODEL]),
        BacktestParams(**read("parameters_baselines.yml")["backtest"]),
        iv.IntervalParams(**read("parameters_evaluation.yml")["intervals"]),
    )


def run(data_dir: Path, horizon: int) -> dict:
    model, backtest, interval_params = parameters()
    panel = build_panel(*splits_from(data_dir, horizon))
    history = panel[panel["split"] != "test"]
    cutoffs = rolling_cutoffs(history["date"], horizon, backtest)
    tuning = decomposition.tune(history, cutoffs[-1], horizon, model)
    forecaster = {
        MODEL: decomposition.make_forecaster(model.with_values(tuning["hyperparameters"]))
    }
    cv = iv.attach_scales(
        history, cross_validation(history, forecaster, horizon, cutoffs), interval_params
    )
    test = iv.attach_scales(
        panel,
        cross_validation(panel, forecaster, horizon, [origin_before(panel, "test")]),
        interval_params,
    )
    out = {
        "horizon": horizon,
        "cutoffs": [f"{c:%Y-%m-%d}" for c in cutoffs],
        "tuned": tuning["hyperparameters"],
        "test_window": f"{test['date'].min():%Y-%m-%d}..{test['date'].max():%Y-%m-%d}",
        "rows": len(test),
        "test": score_column(test, MODEL, actual_col="actual"),
    }
    variants = {
        "intervals": interval_params,
        "intervals_without_store_type": interval_params.model_copy(update={"by_store_type": False}),
    }
    for name, params in variants.items():
        fitted = iv.calibrate_frame(cv, MODEL, params, horizon)
        back, _ = iv.score_intervals(
            cv,
            iv.cross_fitted(cv, MODEL, params, horizon).to_numpy(),
            params.quantiles,
            params.levels,
            segments=(),
        )
        totals, table = iv.score_intervals(
            test, iv.apply_frame(fitted, test, MODEL).to_numpy(), params.quantiles, params.levels
        )
        out[name] = {
            "backtest_cross_fitted": back,
            "test": totals,
            "test_coverage_by_store_type": iv.coverage_by(table, "store_type"),
        }
    return out


def peers(cache: Path, data_dir: Path, horizon: int) -> dict:
    """The reference systems' scores from ``compare_systems``' cache (same window and rows)."""
    import compare_systems as cs

    _, test = cs.split(cs.load_train(data_dir), horizon)
    scored = {}
    for system in cs.SYSTEMS:
        stem = cache / f"h{horizon}_{system}"
        if Path(f"{stem}.parquet").exists():
            forecasts = pd.read_parquet(f"{stem}.parquet").assign(
                ds=lambda f: pd.to_datetime(f["ds"])
            )
            scored[system] = {
                "test": cs.score_forecasts(test, forecasts)[0],
                "intervals": cs.score_interval_forecasts(test, forecasts),
            }
    return scored


def show(result: dict) -> None:
    t = result["test"]
    print(
        f"\n=== {result['horizon']} weeks: test {result['test_window']} ({result['rows']:,} rows), "
        f"backtest cutoffs {', '.join(result['cutoffs'])}, tuned {result['tuned']}"
    )
    print(f"{MODEL}: WMAE {t['wmae']:.1f}  MAE {t['mae']:.1f}  RMSE {t['rmse']:.1f}")
    for name in ("intervals", "intervals_without_store_type"):
        r = result[name]
        test, back = r["test"], r["backtest_cross_fitted"]
        cells = "  ".join(
            f"{lv} %: coverage {test[lv]['coverage']:.3f} (backtest {back[lv]['coverage']:.3f})"
            f" width {test[lv]['width']:.0f} IS {test[lv]['interval_score']:.0f}"
            for lv in ("80", "95")
        )
        types = {
            lv: {k: round(v, 3) for k, v in d.items()}
            for lv, d in r["test_coverage_by_store_type"].items()
        }
        print(f"  {name}: {cells}\n    by store type {types}")
    for system, s in result.get("peers", {}).items():
        ivs = s["intervals"]
        extra = (
            ""
            if not ivs
            else "  "
            + "  ".join(
                f"{lv} %: coverage {ivs[lv]['coverage']:.3f} width {ivs[lv]['width']:.0f}"
                f" IS {ivs[lv]['interval_score']:.0f}"
                for lv in ("80", "95")
            )
        )
        print(f"  {system}: WMAE {s['test']['wmae']:.1f}{extra}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--horizon", default="13,26,39,52")
    parser.add_argument("--peer-cache", type=Path, help="compare_systems' --peer-cache directory")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for horizon in (int(h) for h in args.horizon.split(",") if h.strip()):
        result = run(args.data_dir.resolve(), horizon)
        if args.peer_cache:
            result["peers"] = peers(args.peer_cache, args.data_dir.resolve(), horizon)
        show(result)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
