"""Serving benchmark: the real server on 127.0.0.1 under a bounded async load (httpx).

Starts ``python -m retail_forecasting serve`` on a free local port with the registered model
(``--tracking-uri``, ``--alias``), then drives it with an httpx.AsyncClient loop — a fixed number
of requests per scenario at a fixed concurrency, each scenario also stopped by a time limit —
and prints p50/p95/p99 latency (client side, per request), throughput, errors and the server's
resident memory (current and peak, from /proc). Scenarios:

1. ``series``: one series x the whole horizon (``{"series": [{store, dept}]}``), random known
   series, 16 concurrent clients;
2. ``series_rows``: the same 39 weeks sent as explicit ``rows`` (the inference checks run);
3. ``store``: one store x all its departments x the horizon;
4. ``batch``: the whole test.csv (``--test-csv``; default: every series the model knows x every
   week of its horizon, in the test.csv shape) as one ``POST /forecast/batch``, sequentially.

The series and stores asked for are those of that CSV.

Then the same server is started with ``RETAIL_SERVING_PRECOMPUTE=0`` (no default-input cache:
the model forecasts every request) for ``series`` and ``batch``, and the two batch answers are
compared (they must be equal). Only loopback traffic; every loop is bounded.

    python benchmarks/serving.py --tracking-uri sqlite:////tmp/srv/mlflow.db \\
        --test-csv ~/data/walmart/test.csv
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (/proc/PID/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MiB (VmRSS, VmHWM)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Server:
    def __init__(self, tracking_uri: str, alias: str, precompute: bool, log: Path,
                 model_name: str = "retail_forecasting_champion") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "KEDRO_DISABLE_TELEMETRY": "1",
               "RETAIL_SERVING_PRECOMPUTE": "1" if precompute else "0", "NO_PROXY": "127.0.0.1",
               "RETAIL_SERVING_MAX_BODY_BYTES": str(64 * 1024 * 1024)}
        self.log = log.open("w")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "retail_forecasting", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--alias", alias, "--model-name", model_name, "--poll-seconds", "0",
             "--log-level", "warning"],
            cwd=PROJECT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        with httpx.Client(base_url=self.url, timeout=2, trust_env=False) as client:
            for _ in range(1800):  # at most ~15 minutes on a loaded machine
                if self.process.poll() is not None:
                    raise SystemExit(f"the server exited ({self.process.returncode}); log: {log}")
                try:
                    if client.get("/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            else:
                self.stop()
                raise SystemExit(f"the server did not get ready; log: {log}")
        self.startup = time.perf_counter() - started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def drive(url: str, make_request, n: int, concurrency: int, limit_s: float) -> dict:
    """``n`` requests (fewer if ``limit_s`` runs out) from ``concurrency`` workers."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + limit_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, trust_env=False) as client:
        async def worker(seed: int) -> None:
            nonlocal issued, errors
            rng = random.Random(seed)
            while issued < n and time.perf_counter() < deadline:
                issued += 1
                method, path, kwargs = make_request(rng)
                t0 = time.perf_counter()
                try:
                    response = await client.request(method, path, **kwargs)
                    errors += response.status_code != 200
                except httpx.HTTPError:  # a timeout counts as an error, with its waiting time
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {"requests": len(ms), "errors": errors, "concurrency": concurrency, "seconds": round(elapsed, 2),
            "throughput_rps": round(len(ms) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1)}


def scenarios(model: dict, test_csv: bytes, args) -> dict:
    first, last = pd.Timestamp(model["first_week"]), pd.Timestamp(model["last_week"])
    weeks = pd.date_range(first, last, freq="7D").strftime("%Y-%m-%d").tolist()
    series = pd.read_csv(io.BytesIO(test_csv))[["Store", "Dept"]].drop_duplicates()
    pairs = list(series.itertuples(index=False, name=None))
    stores = sorted(series["Store"].unique().tolist())
    by_store = {s: series.loc[series["Store"] == s, "Dept"].tolist() for s in stores}

    def one_series(rng):
        store, dept = rng.choice(pairs)
        return "POST", "/forecast", {"json": {"series": [{"store": int(store), "dept": int(dept)}]}}

    def one_series_rows(rng):
        store, dept = rng.choice(pairs)
        return "POST", "/forecast", {"json": {"rows": [{"store": int(store), "dept": int(dept), "week": w}
                                                       for w in weeks]}}

    def one_store(rng):
        store = rng.choice(stores)
        return "POST", "/forecast", {"json": {"series": [{"store": int(store), "dept": int(d)}
                                                         for d in by_store[store]]}}

    def batch(rng):  # noqa: ARG001
        return "POST", "/forecast/batch?extra=false", {"content": test_csv, "headers": {"content-type": "text/csv"}}

    return {"series": (one_series, args.requests, args.concurrency),
            "series_rows": (one_series_rows, args.requests // 2, args.concurrency),
            "store": (one_store, max(args.requests // 10, 20), 4),
            "batch": (batch, args.batch_repeats, 1)}


def run_server(args, precompute: bool, names: list[str], test_csv: bytes, logdir: Path) -> tuple[dict, bytes]:
    server = Server(args.tracking_uri, args.alias, precompute, logdir / f"server_precompute{int(precompute)}.log",
                    args.model_name)
    try:
        with httpx.Client(base_url=server.url, timeout=600, trust_env=False) as client:
            model = client.get("/model").json()
            batch_answer = client.post("/forecast/batch?extra=false", content=test_csv,
                                       headers={"content-type": "text/csv"})  # warm-up + answer kept
            if batch_answer.status_code != 200:
                raise SystemExit(f"the batch was refused: {batch_answer.text[:2000]}")
        results = {"startup_s": round(server.startup, 1), "model": {k: model[k] for k in (
            "name", "version", "champion", "family", "members", "origin_week", "horizon_weeks",
            "series", "cached_rows")}}
        plan = scenarios(model, test_csv, args)
        if not precompute:  # every request runs the model: fewer of them, fewer at once
            plan["series"] = (plan["series"][0], max(args.requests // 50, 20), 4)
        for name in names:
            make, n, concurrency = plan[name]
            server_cpu, client_cpu = cpu_seconds(server.process.pid), time.process_time()
            results[name] = asyncio.run(drive(server.url, make, n, concurrency, args.time_limit))
            done = max(results[name]["requests"], 1)
            # CPU time per request: what the load on the machine does not inflate (much)
            results[name]["server_cpu_ms_per_request"] = round(
                (cpu_seconds(server.process.pid) - server_cpu) * 1000 / done, 2)
            results[name]["client_cpu_ms_per_request"] = round((time.process_time() - client_cpu) * 1000 / done, 2)
            print(f"  precompute={int(precompute)} {name}: {json.dumps(results[name])}", flush=True)
        rss, peak = rss_mib(server.process.pid)
        results["server_rss_mib"], results["server_peak_rss_mib"] = round(rss), round(peak)
        return results, batch_answer.content
    finally:
        server.stop()


def horizon_csv(args) -> bytes:
    """Every series the registered model knows x its horizon, as a test.csv (calendar flags)."""
    import mlflow

    from retail_forecasting.model_registry import forecaster_of
    from retail_forecasting.serving.forecast import calendar_holidays

    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_registry_uri(args.tracking_uri)
    forecaster = forecaster_of(mlflow.pyfunc.load_model(f"models:/{args.model_name}@{args.alias}"))
    series, weeks = forecaster.known_series(), forecaster.forecast_weeks()
    n, h = len(series), len(weeks)
    frame = pd.DataFrame({"Store": np.repeat(series["store"].to_numpy(), h),
                          "Dept": np.repeat(series["dept"].to_numpy(), h),
                          "Date": np.tile(weeks.strftime("%Y-%m-%d").to_numpy(), n),
                          "IsHoliday": np.tile(np.where(calendar_holidays(weeks), "TRUE", "FALSE"), n)})
    return frame.to_csv(index=False).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=f"sqlite:///{PROJECT / 'mlflow.db'}")
    parser.add_argument("--alias", default="champion")
    parser.add_argument("--model-name", default="retail_forecasting_champion")
    parser.add_argument("--test-csv", type=Path, default=None,
                        help="Kaggle test.csv: the batch, and the series and stores to ask for "
                             "(default: every series the model knows x its horizon, in that shape)")
    parser.add_argument("--requests", type=int, default=3000, help="requests of the series scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-repeats", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per scenario at most")
    parser.add_argument("--no-uncached", action="store_true", help="skip the RETAIL_SERVING_PRECOMPUTE=0 pass")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    logdir = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    test_csv = args.test_csv.expanduser().read_bytes() if args.test_csv else horizon_csv(args)
    print(f"machine: {os.cpu_count()} cores, load average before {load_before}", flush=True)
    results = {"cores": os.cpu_count(), "load_before": [round(x, 2) for x in load_before]}
    results["cached"], cached_batch = run_server(args, True, ["series", "series_rows", "store", "batch"],
                                                 test_csv, logdir)
    if not args.no_uncached:
        results["uncached"], uncached_batch = run_server(args, False, ["series", "batch"], test_csv, logdir)
        a = pd.read_csv(io.BytesIO(cached_batch))
        b = pd.read_csv(io.BytesIO(uncached_batch))
        same_ids = bool((a["Id"] == b["Id"]).all())
        diff = float(np.abs(a["Weekly_Sales"] - b["Weekly_Sales"]).max())
        results["cache_check"] = {"rows": len(a), "same_ids": same_ids, "max_abs_difference": diff}
        print(f"cache check: {results['cache_check']}", flush=True)
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
