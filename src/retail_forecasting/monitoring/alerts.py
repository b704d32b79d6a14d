"""When a monitoring threshold is crossed: the alerts file, and the exit code of ``kedro run``.

A monitoring run always completes (every report, figure, metric and warehouse row is written);
if a check crossed its threshold the alerts file is written and :func:`signal` records it, and
the project's ``kedro run`` (``retail_forecasting.cli``) exits with :data:`ALERT_EXIT_CODE` (3)
instead of 0, so a scheduler or a CloudWatch alarm can act. 1 stays "the run failed".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from retail_forecasting.files import write_text_whole

ALERT_EXIT_CODE = 3
_signalled: list[dict[str, Any]] = []


def signal(payload: dict[str, Any]) -> None:
    """Record that this process's run raised the alerts of ``payload`` (if any)."""
    if payload.get("alerts"):
        _signalled.append(payload)


def exit_code() -> int:
    """:data:`ALERT_EXIT_CODE` if a run of this process raised alerts, else 0; resets the record."""
    code = ALERT_EXIT_CODE if _signalled else 0
    _signalled.clear()
    return code


class AlertsFileDataset(AbstractDataset[dict, dict]):
    """A JSON file that exists only while the latest monitoring run has alerts.

    ``save(payload)`` writes ``payload`` (atomically) when ``payload["alerts"]`` is not empty and
    removes a stale file otherwise; ``load()`` returns the file's content, or ``{"alerts": []}``.
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._path)}

    def save(self, data: dict) -> None:
        if not data.get("alerts"):
            self._path.unlink(missing_ok=True)
            return
        write_text_whole(self._path, json.dumps(data, indent=2, default=str))

    def load(self) -> dict:
        if not self._path.exists():
            return {"alerts": []}
        return json.loads(self._path.read_text(encoding="utf-8"))

    def _exists(self) -> bool:
        return True
