"""One ``kedro run`` at a time per project: an exclusive lock on ``<project>/.kedro-run.lock``.

Two runs at once on one project used to overwrite each other's ``data/`` files (``Parquet magic
bytes not found``) or meet on DuckDB's file lock. :class:`RunLockHook` takes an OS-level,
non-blocking ``flock`` before a pipeline runs and releases it after (success or failure); the
OS drops it if the process dies, so a crashed run never leaves a stale lock. The lock file
holds the owner's PID, start time and command line, which the refusal quotes.

The warehouse has its own lock besides (PostgreSQL advisory lock, DuckDB's file lock: see
:mod:`retail_forecasting.warehouse`), which also covers runs from two project copies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from kedro.framework.hooks import hook_impl

from retail_forecasting.errors import RunLocked

logger = logging.getLogger(__name__)

LOCK_FILE = ".kedro-run.lock"


class ProjectLock:
    """An exclusive, non-blocking lock on a file; :meth:`acquire` raises :class:`RunLocked`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, what: str = "") -> None:
        if self._handle is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise RunLocked(
                f"Another run holds this project's lock ({self.path}): {owner}. Nothing was "
                "read or written. Wait for it to finish or stop that process, then run again; "
                "to run in parallel, use a separate copy of the project."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"PID {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}"
            f"{', ' + what if what else ''}\n"
        )
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class RunLockHook:
    """Hold :class:`ProjectLock` on ``<project>/.kedro-run.lock`` while a pipeline runs."""

    def __init__(self) -> None:
        self._lock: ProjectLock | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._lock = ProjectLock(Path(context.project_path) / LOCK_FILE)

    @hook_impl(tryfirst=True)  # before kedro-mlflow opens a run: a refused run leaves no trace
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self._lock is None:
            return
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        pipeline = ", ".join(name for name in names if name) or "__default__"
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "?"
        self._lock.acquire(f"pipeline {pipeline}, command: {command}")

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._lock is not None:
            self._lock.release()

    @hook_impl
    def on_pipeline_error(self) -> None:
        if self._lock is not None:
            self._lock.release()
