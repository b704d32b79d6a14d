"""Cost and accuracy of the main job at a scale: the benchmark behind docs/scale.md (issue #17).

For each scale (a multiple of the synthetic default's 45 stores: 1 = 45, 3 = 135, 10 = 450),
copies the project's configuration into a fresh working directory (so no run shares data,
MLflow store or run lock with another), runs `kedro run` there in a child process (the code is
the installed package), and prints

- wall-clock seconds, CPU seconds (user + system of the run and every process it waited for:
  the steadier figure on a shared machine), peak resident memory of the largest process;
- the load average before and after (other work on the machine);
- the test-window WMAE of the champion and of seasonal naive (data/08_reporting/metrics.json of
  the run) and their ratio.

    python benchmarks/scale.py --scales 1 3 10            # pandas path
    python benchmarks/scale.py --scales 1 10 --env spark  # Spark path (pip install -e ".[spark]")
    python benchmarks/scale.py --scales 1 --keep /tmp/me/scale   # keep the working directories

Each row is also appended as one JSON line to ``--out`` (default: no file).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_STORES = 45  # the synthetic default (conf/base/catalog_01_raw.yml)
COPIED = ("conf", "sql", "pyproject.toml", ".telemetry")


def prepare(workdir: Path) -> None:
    """A project directory that runs the installed package on its own data and MLflow store."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, workdir / name)
    (workdir / "src").mkdir(exist_ok=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(
    workdir: Path, command: list[str], log: Path, ok: tuple[int, ...] = (0,)
) -> dict[str, float]:
    """Run ``command`` in ``workdir``; its exit code (one of ``ok``, else this exits), wall and
    CPU seconds, peak RSS (MiB) of the largest process."""
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.stderr.write(log.read_text(errors="replace")[-6000:])
        raise SystemExit(f"command failed ({code}): {' '.join(command)} (log: {log})")
    # wait4's rusage covers the child and the descendants it waited for; ru_maxrss is the
    # largest of their peaks (KiB on Linux), not their sum
    return {
        "exit": code,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
    }


def append_row(out: Path | None, row: dict[str, object]) -> None:
    """Append ``row`` to ``out`` as one JSON line (nothing without ``out``)."""
    if out is not None:
        with out.open("a") as file:
            file.write(json.dumps(row, default=str) + "\n")


def accuracy(workdir: Path) -> dict[str, float | str]:
    """The champion's and seasonal naive's test-window WMAE from the run's metrics.json."""
    metrics = json.loads((workdir / "data/08_reporting/metrics.json").read_text())
    champion = metrics["champion"]
    ours, naive = metrics["models"][champion]["wmae"], metrics["models"]["seasonal_naive"]["wmae"]
    return {"champion": champion, "wmae": ours, "seasonal_naive_wmae": naive, "ratio": ours / naive}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0, 3.0, 10.0],
        help="multiples of the default 45 stores",
    )
    parser.add_argument("--env", default=None, help="Kedro environment (spark: the Spark path)")
    parser.add_argument("--pipeline", default="__default__")
    parser.add_argument("--params", default="", help="extra --params, e.g. 'horizon_weeks=26'")
    parser.add_argument(
        "--keep", type=Path, default=None, help="parent of the working directories (kept)"
    )
    parser.add_argument("--out", type=Path, default=None, help="append one JSON line per scale")
    args = parser.parse_args(argv)

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    kedro = str(Path(sys.executable).with_name("kedro"))
    parent = args.keep or Path(tempfile.mkdtemp(prefix="scale-"))
    print(
        f"{'scale':>5} {'stores':>6} {'path':>6} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
        f"{'champion':>10} {'WMAE':>8} {'s.naive':>8} {'ratio':>6}  load before -> after",
        flush=True,
    )
    for scale in args.scales:
        stores = round(DEFAULT_STORES * scale)
        workdir = parent / f"x{scale:g}{'-' + args.env if args.env else ''}"
        if workdir.exists():
            shutil.rmtree(workdir)
        prepare(workdir)
        params = ",".join(p for p in (f"synthetic_stores={stores}", args.params) if p)
        command = [kedro, "run", "--pipeline", args.pipeline, "--params", params]
        if args.env:
            command += ["--env", args.env]
        before = loadavg()
        cost = run(workdir, command, workdir / "run.log")
        after = loadavg()
        quality = accuracy(workdir)
        row = {
            "scale": scale,
            "stores": stores,
            "path": args.env or "pandas",
            **cost,
            **quality,
            "load_before": before,
            "load_after": after,
            "command": " ".join(command),
        }
        print(
            f"{scale:>5g} {stores:>6} {row['path']:>6} "
            f"{cost['wall_s']:>8.1f} {cost['cpu_s']:>8.1f} {cost['peak_mib']:>9.0f} "
            f"{quality['champion']:>10} {quality['wmae']:>8.1f} "
            f"{quality['seasonal_naive_wmae']:>8.1f} {quality['ratio']:>6.3f}  {before} -> {after}",
            flush=True,
        )
        append_row(args.out, row)
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
