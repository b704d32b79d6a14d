"""MLflow runs named and tagged by what they are, so the UI's run list tells them apart.

kedro-mlflow names a run after its pipeline (``__default__`` for every plain ``kedro run``,
also with ``--namespaces``). :class:`RunNameHook` renames the run kedro-mlflow opened to

    <pipelines>[<namespaces>] · <synthetic|real> · h<horizon_weeks> · <git commit>

for example ``__default__ · real · h39 · 8e19d9d`` or ``__default__[lightgbm] · synthetic · h13 ·
8e19d9d+``; ``+`` marks a checkout with uncommitted changes, ``(partial)`` a run filtered by
``--from-nodes``/``--to-nodes``/``--nodes``/``--tags``/``--from-inputs``/``--to-outputs``.
It also sets the tags ``run_scope``, ``data_source``, ``raw_data_dir``, ``horizon_weeks``,
``git_commit``, ``git_dirty`` and MLflow's own ``mlflow.source.git.commit``, so the list can be
filtered (``tags.data_source = 'real'``).

A name chosen in ``conf/<env>/mlflow.yml`` (``tracking.run.name``, or at run time with
``--params mlflow_run_name=...``) is kept; the tags are set either way.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

SEPARATOR = " · "
_FILTERS = ("tags", "from_nodes", "to_nodes", "node_names", "from_inputs", "to_outputs")


def git_commit(path: Path) -> tuple[str | None, bool]:
    """``(commit sha, has uncommitted changes)`` of the checkout holding ``path``, or
    ``(None, False)`` without git or outside a checkout."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(path), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if not sha:
        return None, False
    status = git("status", "--porcelain", "--untracked-files=no")
    return sha.strip(), bool(status and status.strip())


def run_scope(run_params: dict[str, Any]) -> str:
    """``__default__``, ``modelling+evaluation``, ``__default__[lightgbm]``, ``... (partial)``."""
    names = run_params.get("pipeline_names") or [run_params.get("pipeline_name") or "__default__"]
    scope = "+".join(names)
    if run_params.get("namespaces"):
        scope += f"[{','.join(run_params['namespaces'])}]"
    if any(run_params.get(key) for key in _FILTERS):
        scope += " (partial)"
    return scope


def describe_run(
    run_params: dict[str, Any], raw_data_dir: str, horizon: Any, commit: str | None, dirty: bool
) -> tuple[str, dict[str, str]]:
    """The run name and tags of a run."""
    source = "real" if str(raw_data_dir or "").strip() else "synthetic"
    scope = run_scope(run_params)
    parts = [scope, source, f"h{horizon}" if horizon is not None else "h?"]
    if commit:
        parts.append(commit[:7] + ("+" if dirty else ""))
    tags = {
        "run_scope": scope,
        "data_source": source,
        "raw_data_dir": str(raw_data_dir or "") or "(synthetic)",
        "horizon_weeks": str(horizon),
        "git_commit": commit or "unknown",
        "git_dirty": str(dirty).lower(),
    }
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return SEPARATOR.join(parts), tags


class RunNameHook:
    """Rename and tag the MLflow run kedro-mlflow opened (see the module docstring)."""

    def __init__(self) -> None:
        self._configured_name: str | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        try:
            name = context.config_loader["mlflow"]["tracking"]["run"]["name"]
        except Exception:  # noqa: BLE001 - no mlflow.yml: kedro-mlflow's defaults
            name = None
        self._configured_name = name or None

    @hook_impl(trylast=True)  # after kedro-mlflow's hook has started the run
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is None:
            return
        try:
            parameters = catalog.load("parameters") or {}
        except Exception:  # noqa: BLE001
            parameters = {}
        import retail_forecasting

        commit, dirty = git_commit(Path(retail_forecasting.__file__).parent)
        name, tags = describe_run(
            run_params,
            parameters.get("raw_data_dir", ""),
            parameters.get("horizon_weeks"),
            commit,
            dirty,
        )
        try:
            mlflow.set_tags(tags)
            if not self._configured_name:
                mlflow.MlflowClient().update_run(run.info.run_id, name=name)
        except Exception as exc:  # noqa: BLE001 - naming must never fail a run
            logger.warning("Could not name the MLflow run: %s", exc)
            return
        logger.info("MLflow run %s: %s", run.info.run_id, self._configured_name or name)
