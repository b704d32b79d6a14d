"""Kedro-level progress: one console line per node, with elapsed time and the time left.

:class:`NodeProgressHook` replaces Kedro's three lines per node ("Running node: ...", "Completed
node: ...", "Completed k out of N tasks"; ``conf/logging.yml`` quiets those loggers) with one
line when a node starts::

    Node 34/71 lightgbm.tune_model (1:52 elapsed, about 1:10 left; took 0:40 last run)

The estimate adds up how long the nodes still to run took in the last run on the same data
(synthetic, or the same ``raw_data_dir``), kept in ``logs/node_seconds.json``; without such a
run (or for a node it never saw) the line has no estimate. Inside a long node the engine's own
:class:`retail_forecasting.progress.Progress` lines (tuning candidates, backtest folds) follow.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from retail_forecasting.progress import clock_time

logger = logging.getLogger(__name__)

TIMINGS_FILE = Path("logs") / "node_seconds.json"
#: A node that took longer than this in the last run says so on its line.
SLOW_NODE_SECONDS = 10.0


class NodeProgressHook:
    """Logs ``Node k/N <name> (elapsed, about ... left)`` before each node runs."""

    def __init__(self, clock=time.perf_counter) -> None:
        self._clock = clock
        self._reset()

    def _reset(self) -> None:
        self._total = 0
        self._started_nodes = 0
        self._pipeline_started: float | None = None
        self._node_started: dict[str, float] = {}
        self._seconds: dict[str, float] = {}
        self._previous: dict[str, float] = {}
        self._pending: set[str] = set()
        self._file: Path | None = None
        self._key = "synthetic"

    # ------------------------------------------------------------------ timings of earlier runs
    def _load(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8")) if self._file else {}
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self) -> None:
        if self._file is None or not self._seconds:
            return
        data = self._load()
        data[self._key] = {
            **data.get(self._key, {}),
            **{k: round(v, 2) for k, v in self._seconds.items()},
        }
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            self._file.write_text(
                json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8"
            )
        except OSError:  # a read-only checkout still runs; it just has no estimate next time
            pass

    # ------------------------------------------------------------------ hooks
    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any) -> None:
        self._reset()
        project = run_params.get("project_path")
        self._file = Path(project) / TIMINGS_FILE if project else None
        raw = (run_params.get("runtime_params") or {}).get("raw_data_dir") or ""
        self._key = f"real:{raw}" if raw else "synthetic"
        previous = self._load().get(self._key, {})
        self._previous = previous if isinstance(previous, dict) else {}
        self._pending = {node.name for node in pipeline.nodes}
        self._total = len(self._pending)
        self._pipeline_started = self._clock()
        logger.info("Running %d nodes", self._total)

    def _left(self) -> float | None:
        """Seconds the nodes not finished yet took last run, or None if one of them is new."""
        if not self._pending or any(name not in self._previous for name in self._pending):
            return None
        return sum(float(self._previous[name]) for name in self._pending)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        now = self._clock()
        if self._pipeline_started is None:  # a node run outside a pipeline run (tests)
            return
        self._started_nodes += 1
        self._node_started[node.name] = now
        timing = f"{clock_time(now - self._pipeline_started)} elapsed"
        left = self._left()
        if left is not None and left >= 1:  # "about 0:00 left" says nothing
            timing += f", about {clock_time(left)} left"
        last = self._previous.get(node.name)
        if last is not None and float(last) >= SLOW_NODE_SECONDS:
            timing += f"; took {clock_time(float(last))} last run"
        logger.info("Node %d/%d %s (%s)", self._started_nodes, self._total, node.name, timing)

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        began = self._node_started.pop(node.name, None)
        if began is not None:
            self._seconds[node.name] = self._clock() - began
        self._pending.discard(node.name)

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._pipeline_started is not None:
            logger.info(
                "Completed %d nodes in %s",
                len(self._seconds),
                clock_time(self._clock() - self._pipeline_started),
            )
        self._save()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._save()
