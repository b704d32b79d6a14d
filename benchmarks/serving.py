"""Serving benchmark: the real server on 127.0.0.1 under a bounded load.

Starts ``python -m retail_forecasting serve`` on a free local port with the registered model
(``--tracking-uri``, ``--alias``), then drives it with a fixed number of requests per scenario
at a fixed concurrency (each scenario also stopped by a time limit), and prints p50/p95/p99
latency (client side, per request), throughput, errors, the load average, the server's and the
load generator's CPU per request, and the server's resident memory (current and peak, /proc).

The load generator (``--client``):

* ``raw`` (default): an asyncio loop (uvloop when installed) of HTTP/1.1 keep-alive
  connections, one per concurrent client, sending requests encoded before the clock starts and
  reading each answer whole (Content-Length or chunked) — about a tenth of a millisecond of CPU
  per request, which matters because it runs on the same cores as the server;
* ``httpx``: ``httpx.AsyncClient``, as before (a few milliseconds of CPU per request).

Before each scenario one request is sent and its answer checked (status 200, the expected
number of forecasts); during the run a request counts as an error unless it gets a 200.
Scenarios:

1. ``series``: one series x the whole horizon (``{"series": [{store, dept}]}``), series drawn
   from the CSV, 16 concurrent clients;
2. ``series_rows``: the same 39 weeks sent as explicit ``rows`` (no markdowns or flags: the
   precomputed answers);
3. ``store``: one store x all its departments (of the CSV) x the horizon;
4. ``batch``: the whole test.csv (``--test-csv``; default: every series the model knows x every
   week of its horizon, in the test.csv shape) as one ``POST /forecast/batch``, sequentially.

Then the same server is started with ``RETAIL_SERVING_PRECOMPUTE=0`` (no precomputed table: the
model forecasts every request) for ``series`` and ``batch``, and the two batch answers are
compared (``--no-uncached`` skips this pass). Only loopback traffic; every loop is bounded.

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
from dataclasses import dataclass
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
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Server:
    def __init__(
        self,
        tracking_uri: str,
        alias: str,
        precompute: bool,
        log: Path,
        model_name: str = "retail_forecasting_champion",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "KEDRO_DISABLE_TELEMETRY": "1",
            "RETAIL_SERVING_PRECOMPUTE": "1" if precompute else "0",
            "NO_PROXY": "127.0.0.1",
            "RETAIL_SERVING_MAX_BODY_BYTES": str(64 * 1024 * 1024),
        }
        self.log = log.open("w")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "retail_forecasting",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--alias",
                alias,
                "--model-name",
                model_name,
                "--poll-seconds",
                "0",
                "--log-level",
                "warning",
            ],
            cwd=PROJECT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
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


@dataclass(frozen=True)
class Call:
    """One request of a scenario."""

    path: str
    body: bytes
    content_type: str
    forecasts: int | None = None  # rows the answer must hold (checked once per scenario)

    def encoded(self, host: str) -> bytes:
        """The whole HTTP/1.1 request (keep-alive is HTTP/1.1's default)."""
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n"
        ).encode() + self.body


def _json_call(body: dict, forecasts: int) -> Call:
    return Call(
        "/forecast", json.dumps(body, separators=(",", ":")).encode(), "application/json", forecasts
    )


def summary(latencies: list[float], errors: int, concurrency: int, elapsed: float) -> dict:
    ms = np.array(latencies) * 1000
    return {
        "requests": len(ms),
        "errors": errors,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(ms) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
    }


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the server keeps the connection) of one HTTP/1.1 answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:  # no length: the body ends with the connection
        body = await reader.read()
        return status, body, False
    return status, body, headers.get(b"connection") != b"close"


async def drive_raw(url: str, calls: list[Call], concurrency: int, limit_s: float) -> dict:
    """``calls`` (fewer if ``limit_s`` runs out) over ``concurrency`` keep-alive connections."""
    host, port = url.removeprefix("http://").split(":")
    payloads = [c.encoded(f"{host}:{port}") for c in calls]
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + limit_s

    async def worker() -> None:
        nonlocal issued, errors
        reader = writer = None
        while issued < len(payloads) and time.perf_counter() < deadline:
            payload = payloads[issued]
            issued += 1
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(payload)
                status, _, keep = await asyncio.wait_for(_read_answer(reader), 120)
                errors += status != 200
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                errors += (
                    1  # counted with its waiting time; the next request opens a new connection
                )
                keep = False
            latencies.append(time.perf_counter() - t0)
            if not keep and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summary(latencies, errors, concurrency, time.perf_counter() - started)


async def drive_httpx(url: str, calls: list[Call], concurrency: int, limit_s: float) -> dict:
    """The same with ``httpx.AsyncClient`` (one pooled connection per concurrent client)."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + limit_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, timeout=120, limits=limits, trust_env=False
    ) as client:

        async def worker() -> None:
            nonlocal issued, errors
            while issued < len(calls) and time.perf_counter() < deadline:
                call = calls[issued]
                issued += 1
                t0 = time.perf_counter()
                try:
                    response = await client.post(
                        call.path, content=call.body, headers={"content-type": call.content_type}
                    )
                    errors += response.status_code != 200
                except httpx.HTTPError:  # a timeout counts as an error, with its waiting time
                    errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return summary(latencies, errors, concurrency, elapsed)


def run_loop(coroutine):
    """``asyncio.run`` on uvloop when it is installed (less CPU per request)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def scenarios(model: dict, test_csv: bytes, args) -> dict[str, tuple[list[Call], int]]:
    """Each scenario's calls (drawn with a fixed seed) and its concurrency."""
    first, last = pd.Timestamp(model["first_week"]), pd.Timestamp(model["last_week"])
    weeks = pd.date_range(first, last, freq="7D").strftime("%Y-%m-%d").tolist()
    h = len(weeks)
    series = pd.read_csv(io.BytesIO(test_csv))[["Store", "Dept"]].drop_duplicates()
    pairs = [(int(s), int(d)) for s, d in series.itertuples(index=False, name=None)]
    stores = sorted({s for s, _ in pairs})
    by_store = {s: [d for t, d in pairs if t == s] for s in stores}
    rng = random.Random(args.seed)

    def one_series() -> Call:
        store, dept = rng.choice(pairs)
        return _json_call({"series": [{"store": store, "dept": dept}]}, h)

    def one_series_rows() -> Call:
        store, dept = rng.choice(pairs)
        return _json_call({"rows": [{"store": store, "dept": dept, "week": w} for w in weeks]}, h)

    def one_store() -> Call:
        store = rng.choice(stores)
        return _json_call(
            {"series": [{"store": store, "dept": d} for d in by_store[store]]},
            h * len(by_store[store]),
        )

    batch = Call("/forecast/batch?extra=false", test_csv, "text/csv")
    return {
        "series": ([one_series() for _ in range(args.requests)], args.concurrency),
        "series_rows": ([one_series_rows() for _ in range(args.requests // 2)], args.concurrency),
        "store": ([one_store() for _ in range(max(args.requests // 10, 20))], 4),
        "batch": ([batch] * args.batch_repeats, 1),
    }


def check(client: httpx.Client, call: Call) -> None:
    """One request of a scenario, its answer checked, before the scenario's clock starts."""
    response = client.post(
        call.path, content=call.body, headers={"content-type": call.content_type}
    )
    if response.status_code != 200:
        raise SystemExit(f"{call.path} answered {response.status_code}: {response.text[:2000]}")
    if call.forecasts is not None and len(response.json()["forecasts"]) != call.forecasts:
        raise SystemExit(
            f"{call.path}: {len(response.json()['forecasts'])} forecasts, expected {call.forecasts}"
        )


def run_server(
    args, precompute: bool, names: list[str], test_csv: bytes, logdir: Path
) -> tuple[dict, bytes]:
    server = Server(
        args.tracking_uri,
        args.alias,
        precompute,
        logdir / f"server_precompute{int(precompute)}.log",
        args.model_name,
    )
    drive = drive_raw if args.client == "raw" else drive_httpx
    try:
        with httpx.Client(base_url=server.url, timeout=600, trust_env=False) as client:
            model = client.get("/model").json()
            batch_answer = client.post(
                "/forecast/batch?extra=false",
                content=test_csv,
                headers={"content-type": "text/csv"},
            )  # warm-up + answer kept
            if batch_answer.status_code != 200:
                raise SystemExit(f"the batch was refused: {batch_answer.text[:2000]}")
            rss_ready = rss_mib(server.process.pid)[0]
            results = {
                "startup_s": round(server.startup, 1),
                "client": args.client,
                "model": {
                    k: model[k]
                    for k in (
                        "name",
                        "version",
                        "champion",
                        "family",
                        "members",
                        "origin_week",
                        "horizon_weeks",
                        "series",
                        "cached_rows",
                    )
                },
                "server_rss_after_first_batch_mib": round(rss_ready),
            }
            plan = scenarios(model, test_csv, args)
            if not precompute:  # every request runs the model: fewer of them, fewer at once
                plan["series"] = (plan["series"][0][: max(args.requests // 50, 20)], 4)
            for name in names:
                calls, concurrency = plan[name]
                check(client, calls[0])
                load = os.getloadavg()[0]
                server_cpu, client_cpu = cpu_seconds(server.process.pid), time.process_time()
                results[name] = run_loop(drive(server.url, calls, concurrency, args.time_limit))
                done = max(results[name]["requests"], 1)
                # CPU time per request: what the load on the machine does not inflate (much)
                results[name]["server_cpu_ms_per_request"] = round(
                    (cpu_seconds(server.process.pid) - server_cpu) * 1000 / done, 2
                )
                results[name]["client_cpu_ms_per_request"] = round(
                    (time.process_time() - client_cpu) * 1000 / done, 2
                )
                results[name]["load_1min"] = [round(load, 2), round(os.getloadavg()[0], 2)]
                print(
                    f"  precompute={int(precompute)} {name}: {json.dumps(results[name])}",
                    flush=True,
                )
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
    frame = pd.DataFrame(
        {
            "Store": np.repeat(series["store"].to_numpy(), h),
            "Dept": np.repeat(series["dept"].to_numpy(), h),
            "Date": np.tile(weeks.strftime("%Y-%m-%d").to_numpy(), n),
            "IsHoliday": np.tile(np.where(calendar_holidays(weeks), "TRUE", "FALSE"), n),
        }
    )
    return frame.to_csv(index=False).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=f"sqlite:///{PROJECT / 'mlflow.db'}")
    parser.add_argument("--alias", default="champion")
    parser.add_argument("--model-name", default="retail_forecasting_champion")
    parser.add_argument(
        "--test-csv",
        type=Path,
        default=None,
        help="Kaggle test.csv: the batch, and the series and stores to ask for "
        "(default: every series the model knows x its horizon, in that shape)",
    )
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests of the series scenario"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-repeats", type=int, default=3)
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds per scenario at most"
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: raw asyncio HTTP/1.1 (default) or httpx.AsyncClient",
    )
    parser.add_argument(
        "--scenarios",
        default="series,series_rows,store,batch",
        help="comma-separated subset of series,series_rows,store,batch",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the requests drawn")
    parser.add_argument(
        "--no-uncached", action="store_true", help="skip the RETAIL_SERVING_PRECOMPUTE=0 pass"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = set(names) - {"series", "series_rows", "store", "batch"}
    if unknown:
        parser.error(f"unknown scenario(s) {sorted(unknown)}")

    load_before = os.getloadavg()
    logdir = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    test_csv = args.test_csv.expanduser().read_bytes() if args.test_csv else horizon_csv(args)
    print(f"machine: {os.cpu_count()} cores, load average before {load_before}", flush=True)
    results = {"cores": os.cpu_count(), "load_before": [round(x, 2) for x in load_before]}
    results["cached"], cached_batch = run_server(args, True, names, test_csv, logdir)
    if not args.no_uncached:
        results["uncached"], uncached_batch = run_server(
            args, False, [n for n in ("series", "batch") if n in names], test_csv, logdir
        )
        a = pd.read_csv(io.BytesIO(cached_batch))
        b = pd.read_csv(io.BytesIO(uncached_batch))
        same_ids = len(a) == len(b) and bool((a["Id"] == b["Id"]).all())
        diff = np.abs(a["Weekly_Sales"] - b["Weekly_Sales"])
        relative = diff / np.maximum(np.abs(b["Weekly_Sales"]), 1.0)
        results["cache_check"] = {
            "rows": len(a),
            "same_ids": same_ids,
            "max_abs_difference": float(diff.max()),
            "max_relative_difference": float(relative.max()),
        }
        print(f"cache check: {results['cache_check']}", flush=True)
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
