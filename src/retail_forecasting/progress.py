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
import time
from collections.abc import Callable

__all__ = ["Progress", "clock_time"]


def clock_time(seconds: float) -> str:
    """``seconds`` as ``m:ss`` (``h:mm:ss`` from an hour), rounded to the second."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts the finished items of a step of ``total`` items and logs a line for each.

    ``clock`` is for tests (default :func:`time.perf_counter`); the clock starts when the object
    is made, so make it right before the loop.
    """

    def __init__(
        self,
        what: str,
        total: int,
        logger: logging.Logger | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.what = what
        self.total = max(int(total), 0)
        self.count = 0
        self.logger = logger or logging.getLogger(__name__)
        self._clock = clock
        self._started = self._last = clock()

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
