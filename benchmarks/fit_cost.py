"""Cost of one learner fit as tuning makes it, at a scale: the micro-benchmark behind the
diagnosis in docs/scale.md (issue #17).

Reads the ``feat_panel`` of a finished run (``data/04_feature/feat_panel.parquet``, e.g. of
``kedro run --to-nodes build_panel --params synthetic_stores=450``), builds the model's tuning
sample exactly as :func:`retail_forecasting.forecasting.learners.tune` does (the rows up to the
validation backtest's last cutoff, the inner early-stopping tail apart) and fits one candidate,
printing one JSON line: rows, rounds, wall and CPU seconds of the fit, the load average.

    python benchmarks/fit_cost.py /tmp/x10/data/04_feature/feat_panel.parquet --model lightgbm
    python benchmarks/fit_cost.py PANEL --model xgboost --threads 1
    OMP_WAIT_POLICY=active python benchmarks/fit_cost.py PANEL   # OpenMP's default spinning

``--without store``: the model without the ``store`` categorical (a numeric feature instead).
The package sets ``OMP_WAIT_POLICY=PASSIVE`` on import unless the variable is set.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import pandas as pd
import yaml

from retail_forecasting.forecasting.backtest import BacktestParams, rolling_cutoffs
from retail_forecasting.forecasting.features import FeatureParams, feature_columns
from retail_forecasting.forecasting.history import WEEK, History
from retail_forecasting.forecasting.learners import (
    LearnerParams,
    fit_learner,
    learner_training_frame,
)
from retail_forecasting.forecasting.tuning import candidates

CONF = Path(__file__).resolve().parents[1] / "conf/base"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("panel", type=Path, help="feat_panel.parquet of a run")
    parser.add_argument("--model", default="lightgbm", help="modelling.<model> of the config")
    parser.add_argument("--threads", type=int, default=None, help="default: the config's")
    parser.add_argument("--candidate", default="", help="JSON; default: the grid's first point")
    parser.add_argument("--without", nargs="*", default=[], help="categorical features to drop")
    args = parser.parse_args(argv)

    conf: dict = {}
    for name in ("parameters", "parameters_feature_engineering", "parameters_baselines"):
        conf |= yaml.safe_load((CONF / f"{name}.yml").read_text())
    conf |= yaml.safe_load((CONF / "parameters_modelling.yml").read_text())
    features = FeatureParams(**conf["feature_engineering"])
    settings = dict(conf["modelling"][args.model])
    if args.threads:
        settings["threads"] = args.threads
    settings["categorical_features"] = [
        c for c in settings.get("categorical_features", []) if c not in args.without
    ]
    params = LearnerParams(**settings)
    horizon = int(conf["horizon_weeks"])

    started = time.perf_counter()
    panel = pd.read_parquet(args.panel)
    panel = panel[panel["split"] != "test"]
    cutoff = rolling_cutoffs(panel["date"], horizon, BacktestParams(**conf["backtest"]))[-1]
    history = History.from_panel(
        panel, cutoff, observed=features.covariates.observed, start=panel["date"].min()
    )
    train = learner_training_frame(history, panel, features, horizon, params)
    inner = train["date"] > cutoff - params.inner_validation_weeks * WEEK
    prepare = time.perf_counter() - started
    candidate = (
        json.loads(args.candidate)
        if args.candidate
        else candidates(params.search_space, params.max_candidates, params.seed)[0]
    )

    cpu, began = cpu_seconds(), time.perf_counter()
    model = fit_learner(
        train.loc[~inner], feature_columns(features), params, candidate, valid=train.loc[inner]
    )
    wall, cpu = time.perf_counter() - began, cpu_seconds() - cpu
    print(
        json.dumps(
            {
                "panel": str(args.panel),
                "model": args.model,
                "threads": params.threads,
                "categorical": params.categorical_features,
                "candidate": candidate,
                "fit_rows": int((~inner).sum()),
                "valid_rows": int(inner.sum()),
                "rounds": model.rounds,
                "prepare_s": round(prepare, 1),
                "fit_wall_s": round(wall, 2),
                "fit_cpu_s": round(cpu, 2),
                "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
