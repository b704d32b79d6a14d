"""The weekly cycle played on real data: the benchmark behind docs/monitoring.md (issue #14) and
the production check of the intervals' coverage (issue #12).

In a fresh project directory (the installed package, its own warehouse and MLflow store):

1. cuts ``train.csv`` after ``--cut`` and trains on it (``kedro run``), promotes the version
   the training run made ``challenger`` (it passed the quality gate) to ``champion`` and makes
   the first forecast (``kedro run --pipeline forecast``);
2. feeds the following ``--weeks`` weeks one at a time (a folder whose ``train.csv`` holds only
   that week's rows, ``features.csv`` and ``stores.csv`` as given):
   ``kedro run --pipeline weekly --params raw_data_dir=<week>,ingestion.load.mode=incremental``;
3. with ``--halve-store S``, loads the last week first with store S's sales halved, then the
   true week again (the correction replaces the rows, the forecast and the checks).

Prints one row per cycle: exit code (0 ok, 3 alerts), alerts, forecasts scored, the week's
WMAE over the promised, the chain total's deviation, and the bands' coverage: the newest week's
80 % and every scored forecast's 80 % / 95 % (``accuracy.coverage_to_date_*``: value, allowed
gap, status).

    python benchmarks/weekly_play.py --data-dir ../shared/data/walmart --keep /tmp/play
    python benchmarks/weekly_play.py --data-dir ../shared/data/walmart --keep /tmp/play --trained
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from compare_systems import kaggle_folder
from scale import append_row, loadavg, prepare, run

from retail_forecasting.model_registry import check_alias, tracking_uri

KAGGLE_DATE = "Date"


def check(checks: pd.DataFrame, name: str) -> pd.Series | None:
    rows = checks[(checks["check_name"] == name) & (checks["scope"] == "all")]
    return rows.iloc[0] if len(rows) else None


def _fmt(value: object, spec: str) -> str:
    return "-" if value is None or pd.isna(value) else format(value, spec)


def cycle_row(workdir: Path, label: str, code: int) -> dict[str, object]:
    """What one weekly cycle reported (data/08_reporting/monitoring)."""
    folder = workdir / "data/08_reporting/monitoring"
    summary = json.loads((folder / "summary.json").read_text())
    checks = pd.read_csv(folder / "checks.csv")
    alerts = checks[checks["status"] == "alert"]
    row: dict[str, object] = {
        "week": label,
        "exit": code,
        "alerts": "; ".join(f"{r.check_name}[{r.scope}]" for r in alerts.itertuples()) or "none",
        "scored": summary["forecasts_scored"],
    }
    for name, key in (
        ("accuracy.week_wmae_ratio", "wmae_ratio"),
        ("total.chain_deviation", "chain_dev"),
        ("accuracy.coverage_80", "week_cov80"),
    ):
        found = check(checks, name)
        row[key] = None if found is None else found["value"]
    for level in (80, 95):
        found = check(checks, f"accuracy.coverage_to_date_{level}")
        row[f"cov{level}"] = (
            None
            if found is None
            else f"{found['value']:.3f} (±{found['threshold']:.3f}, {found['status']})"
        )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the Kaggle files")
    parser.add_argument("--cut", default="2012-08-31", help="the last week trained on")
    parser.add_argument("--weeks", type=int, default=8, help="weeks fed one at a time")
    parser.add_argument("--halve-store", type=int, default=20, help="0: no halved week")
    parser.add_argument("--params", default="", help="extra --params for the training run")
    parser.add_argument("--keep", type=Path, default=None, help="the working directory (kept)")
    parser.add_argument(
        "--trained", action="store_true", help="--keep's project/ already holds the trained model"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON lines")
    args = parser.parse_args(argv)

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    bin_dir = Path(sys.executable).parent
    kedro, python = str(bin_dir / "kedro"), sys.executable
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="weekly-play-"))
    project, inputs = workdir / "project", workdir / "inputs"
    train = pd.read_csv(args.data_dir / "train.csv", dtype={KAGGLE_DATE: str})
    cut = pd.Timestamp(args.cut)
    dates = pd.to_datetime(train[KAGGLE_DATE])
    weeks = sorted(d for d in dates.unique() if d > cut)[: args.weeks]
    if len(weeks) < args.weeks:
        raise SystemExit(f"only {len(weeks)} weeks after {args.cut} in {args.data_dir}")

    def write_week(folder: Path, keep: pd.Series, halve: int | None = None) -> Path:
        """A Kaggle folder: ``train.csv``'s rows where ``keep`` holds (store ``halve``'s
        sales halved), features.csv and stores.csv as given."""
        rows = train[keep]
        if halve:
            rows = rows.assign(
                Weekly_Sales=rows["Weekly_Sales"].where(
                    rows["Store"] != halve, rows["Weekly_Sales"] / 2
                )
            )
        return kaggle_folder(args.data_dir, folder, rows)

    if not args.trained:
        if project.exists():
            shutil.rmtree(project)
        prepare(project)
        history = write_week(inputs / "cut", dates <= cut)
        params = ",".join(p for p in (f"raw_data_dir={history}", args.params) if p)
        cost = run(project, [kedro, "run", "--params", params], workdir / "train.log")
        print(
            f"trained on train.csv up to {args.cut}: {cost['wall_s']:.0f} s wall, "
            f"{cost['cpu_s']:.0f} s CPU, peak {cost['peak_mib']:.0f} MiB (load {loadavg()})",
            flush=True,
        )
    uri = tracking_uri(project)
    mlflow.set_tracking_uri(uri)
    version = check_alias("challenger")  # the newest version that passed the quality gate
    promote = [python, "-m", "retail_forecasting.model_registry", "--tracking-uri", uri]
    run(project, [*promote, "promote", "--version", str(version)], workdir / "promote.log")
    run(project, [kedro, "run", "--pipeline", "forecast"], workdir / "forecast.log")
    champion = json.loads((project / "data/08_reporting/champion.json").read_text())
    print(
        f"champion {champion.get('champion', champion)} (registered version {version}); "
        f"forecast from {args.cut}",
        flush=True,
    )

    cycles: list[tuple[str, Path]] = []
    for i, week in enumerate(weeks):
        keep = dates == week
        label = f"{week:%Y-%m-%d}"
        if i == len(weeks) - 1 and args.halve_store:
            halved = write_week(inputs / f"{label}-halved", keep, halve=args.halve_store)
            cycles.append((f"{label}, store {args.halve_store} halved", halved))
            label = f"{label}, corrected"
        cycles.append((label, write_week(inputs / f"{week:%Y-%m-%d}", keep)))

    columns = ["week", "exit", "scored", "wmae_ratio", "chain_dev", "week_cov80", "cov80", "cov95"]
    print(" | ".join(columns) + " | alerts", flush=True)
    for label, folder in cycles:
        command = [
            kedro,
            "run",
            "--pipeline",
            "weekly",
            "--params",
            f"raw_data_dir={folder},ingestion.load.mode=incremental",
        ]
        cost = run(project, command, workdir / f"{folder.name}.log", ok=(0, 3))
        row = cycle_row(project, label, int(cost["exit"]))
        print(
            f"{row['week']} | {row['exit']} | {row['scored']:,} | {_fmt(row['wmae_ratio'], '.2f')}"
            f" | {_fmt(row['chain_dev'], '+.1%')} | {_fmt(row['week_cov80'], '.3f')} | "
            f"{row['cov80']} | {row['cov95']} | {row['alerts']}",
            flush=True,
        )
        append_row(args.out, {**row, **cost})


if __name__ == "__main__":
    main()
