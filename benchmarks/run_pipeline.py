"""Time a `kedro run` and report its peak memory: the benchmark behind docs/benchmarks.md.

Runs `kedro run` in a child process (so the figure includes start-up, as a user sees it),
once per repeat, and prints wall-clock seconds and the child's peak resident memory.

    python benchmarks/run_pipeline.py --pipeline ingestion --data-dir ../shared/data/walmart
    DB_NAME=test python benchmarks/run_pipeline.py --pipeline ingestion --env local \
        --data-dir ../shared/data/walmart --repeat 2
    python benchmarks/run_pipeline.py            # the whole default run on synthetic data
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def run_once(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in a fresh child process; return (seconds, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # rusage of this child alone
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-6000:])
            raise SystemExit(f"command failed ({process.returncode}): {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pipeline", default="__default__")
    parser.add_argument("--env", default=None, help="Kedro environment (default: base)")
    parser.add_argument("--data-dir", default=None, help="raw_data_dir (default: synthetic data)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    command = [str(Path(sys.executable).with_name("kedro")), "run", "--pipeline", args.pipeline]
    if args.env:
        command += ["--env", args.env]
    if args.data_dir:
        command += ["--params", f"raw_data_dir={Path(args.data_dir).resolve()}"]
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    print(f"$ {' '.join(command)}")
    print(f"{'run':>4} {'seconds':>9} {'peak MiB':>9}")
    for i in range(1, args.repeat + 1):
        seconds, peak = run_once(command)
        print(f"{i:>4} {seconds:>9.1f} {peak:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
