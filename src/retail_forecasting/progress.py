"""Progress of long steps, one log line per finished item with elapsed and estimated time left.

The engine's long loops (tuning candidates, backtest folds) call :class:`Progress` instead of
printing or logging their own timing lines::

    progress = Progress(f"Tuning {kind}", len(grid), logger)
    for candidate in grid:
        ...
        progress.done(f"{candidate} -> WMAE {error:.1f}")

logs, for example, ``Tuning lightgbm 2/6: {'num_leaves': 63} -> WMAE 1234.5 (8.1 s; 0:16
elapsed, about 0:32 left)``. The estimate is the mean time of the items done so far times the
items left. Standard library only, so the engine stays free of Kedro; the Kedro-level progress
(node k of N) is :class:`retail_forecasting.node_progress.NodeProgressHook`.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

__all__ = ["HEARTBEAT_SECONDS", "Progress", "clock_time"]


def clock_time(seconds: float) -> str:
    """``seconds`` as ``m:ss`` (``h:mm:ss`` from an hour), rounded to the second."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


#: Seconds without a finished item after which a "still running" line is logged (again).
HEARTBEAT_SECONDS = 60.0


class Progress:
    """Counts the finished items of a step of ``total`` items and logs a line for each.

    One item can take minutes (a LightGBM fit on the real data on a busy machine): when none
    has finished for ``heartbeat`` seconds, a background thread logs that the next one is still
    running, with the estimate. It holds the object weakly and stops after the last item (or
    once the loop is gone, e.g. after an exception). ``heartbeat=None`` turns it off.
    ``clock`` is for tests (default :func:`time.perf_counter`); the clock starts when the
    object is made, so make it right before the loop.
    """

    def __init__(
        self,
        what: str,
        total: int,
        logger: logging.Logger | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        heartbeat: float | None = HEARTBEAT_SECONDS,
    ) -> None:
        self.what = what
        self.total = max(int(total), 0)
        self.count = 0
        self.logger = logger or logging.getLogger(__name__)
        self._clock = clock
        self._started = self._last = clock()
        self._finished = threading.Event()
        if heartbeat and self.total:
            threading.Thread(
                target=_beat, args=(weakref.ref(self), self._finished, heartbeat), daemon=True
            ).start()

    def still_running(self) -> str:
        """Log (and return) that the next item has not finished yet, with the estimate."""
        on_it = self._clock() - self._last
        timing = f"{clock_time(on_it)} on it; {clock_time(self.elapsed)} elapsed"
        if self.count:
            left = self.elapsed / self.count * (self.total - self.count) - on_it
            if left >= 1:
                timing += f", about {clock_time(left)} left"
        line = (
            f"{self.what} {min(self.count + 1, self.total)}/{self.total} still running ({timing})"
        )
        self.logger.info("%s", line)
        return line

    @property
    def elapsed(self) -> float:
        """Seconds since the step started."""
        return self._clock() - self._started

    def remaining(self) -> float | None:
        """Estimated seconds left (mean time per finished item times the items left), or None
        before the first item."""
        if not self.count:
            return None
        return self.elapsed / self.count * max(self.total - self.count, 0)

    def done(self, detail: str = "") -> str:
        """Count one finished item and log its line (returned too)."""
        now = self._clock()
        took, self._last = now - self._last, now
        self.count += 1
        if self.count >= self.total:
            self._finished.set()
        left = self.remaining()
        timing = f"{took:.1f} s; {clock_time(self.elapsed)} elapsed"
        if self.count < self.total and left is not None and left >= 1:  # not "about 0:00 left"
            timing += f", about {clock_time(left)} left"
        line = (
            f"{self.what} {self.count}/{self.total}"
            + (f": {detail}" if detail else "")
            + f" ({timing})"
        )
        self.logger.info("%s", line)
        return line


def _beat(ref: weakref.ref[Progress], finished: threading.Event, every: float) -> None:
    """The heartbeat of one :class:`Progress`: a line when no item finished for ``every`` s."""
    while not finished.wait(every):
        progress = ref()
        if progress is None:  # the loop is gone (finished early or raised)
            return
        if progress._clock() - progress._last >= every * 0.99:
            progress.still_running()
        del progress
