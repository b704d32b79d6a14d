"""A guard against mixed settings: outputs carry the settings they were made under, and a node
of the training chain refuses inputs made under settings other than its run's.

Why: a partial run (``--pipeline``, ``--namespaces``, ``--from-nodes``) reads what earlier runs
left under ``data/``. After ``kedro run --params horizon_weeks=13``, ``kedro run --namespaces
lightgbm`` used to read the 13-week feature data with a 39-week setting and say nothing.

What :class:`ProvenanceHook` does, per ``kedro run``:

* **Stamp.** Each dataset a node saves gets a *stamp*: every parameter leaf that went into it
  (``horizon_weeks``, ``feature_engineering.covariates.observed``, ...; the node's own
  ``params:`` inputs plus, transitively, the stamps of its inputs), the data it comes from
  (``synthetic`` with its generator settings or ``real`` with the folder, and the sha256 of each
  raw file, read from the raw datasets' ``attrs["source"]``), and the command, time and Kedro
  environment of the run. Stamps of persisted datasets are written atomically to
  ``data/.provenance/<dataset>.json``; those of in-memory datasets live for the run only.
* **Check.** Before a node of the training chain (the nodes of ``__default__``) runs, the stamps
  of its inputs are compared with each other and with this run's parameters and raw-data
  configuration. Any difference stops the run with an :class:`~retail_forecasting.errors.InputError`
  naming the dataset, the setting, both values and the commands that fix it (rebuild the inputs
  with this run's settings, or run with the settings they were made under); ``kedro run`` prints
  it as one short block.

Not compared: parameters that change how a run executes or is judged, not what the data is
(:data:`EXEMPT_PARAMETERS`). Not checked: the on-demand pipelines (``inference``, ``forecast``,
``monitoring``, ``weekly``), which by design apply a model trained earlier to newer data.
Inputs without a stamp (written before this guard existed, or by hand) are not judged.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import logging
import shlex
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from retail_forecasting.errors import InputError
from retail_forecasting.files import write_text_whole

logger = logging.getLogger(__name__)

STAMP_DIR = Path("data") / ".provenance"
STAMP_VERSION = 1
#: Parameter leaves (fnmatch patterns) that do not change what the data is: a guard's time
#: budget, how ingestion loads the warehouse (mirror/incremental), the quality gate's thresholds.
EXEMPT_PARAMETERS = (
    "*time_budget_seconds",
    "ingestion.load.*",
    "evaluation.quality_gate.*",
)
#: Raw datasets (KaggleRawDataset): where the data identity comes from.
RAW_PREFIX = "raw_"
#: The pipelines whose nodes are checked: the training chain.
CHECKED_PIPELINES = ("__default__",)
_MAX_LISTED = 6


class MixedSettingsError(InputError):
    """A node's inputs were made under settings other than its run's, or each other's."""


# ----------------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    """``value`` as plain JSON-able data, whole floats as ints (YAML ``10000`` and a typed
    parameter's ``10000.0`` are the same setting)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _canonical(value: Any) -> str:
    """A stable text of a parameter value (compared, and shown in messages)."""
    return json.dumps(_plain(value), sort_keys=True, default=str)


def flatten_leaves(prefix: str, value: Any) -> dict[str, str]:
    """``{"a": {"b": 1}}`` under ``p`` -> ``{"p.a.b": "1"}`` (lists are leaves)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict) and value:
        leaves: dict[str, str] = {}
        for key, item in value.items():
            leaves.update(flatten_leaves(f"{prefix}.{key}" if prefix else str(key), item))
        return leaves
    return {prefix: _canonical(value)}


def is_exempt(leaf: str) -> bool:
    return any(fnmatch.fnmatchcase(leaf, pattern) for pattern in EXEMPT_PARAMETERS)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def data_identity(raw_dataset: Any) -> dict[str, Any] | None:
    """``{"kind", "location"}`` of a raw dataset's configuration (no file is read)."""
    if raw_dataset is None or not hasattr(raw_dataset, "uses_real_data"):
        return None
    if raw_dataset.uses_real_data:
        return {"kind": "real", "location": str(raw_dataset._raw_data_dir)}
    synthetic = dict(getattr(raw_dataset, "_synthetic", {}) or {})
    return {"kind": "synthetic", "location": json.dumps(synthetic, sort_keys=True, default=str)}


def describe_identity(identity: dict[str, Any] | None) -> str:
    if not identity:
        return "unknown data"
    if identity["kind"] == "real":
        return f"real data in {identity['location']}"
    try:
        settings = json.loads(identity["location"])
        shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    except (TypeError, ValueError):
        shown = identity["location"]
    return f"synthetic data ({shown})" if shown else "synthetic data"


# ----------------------------------------------------------------------------- stamps


def stamp_path(root: Path, dataset_name: str) -> Path:
    return root / STAMP_DIR / f"{dataset_name}.json"


def write_stamp(path: Path, stamp: dict[str, Any]) -> None:
    """Write ``stamp`` as JSON whole (:func:`retail_forecasting.files.write_text_whole`)."""
    write_text_whole(path, json.dumps(stamp, indent=1, sort_keys=True))


def read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("version") == STAMP_VERSION else None


def _target(dataset: Any) -> str | None:
    """A fingerprint of a dataset's definition: a stamp applies only to the same target (the
    DuckDB warehouse of ``base`` and the PostgreSQL one of ``local`` share a name)."""
    if dataset is None:
        return None
    try:
        described = dataset._describe()
    except Exception:  # noqa: BLE001 - a dataset without a description has no target
        return None
    text = json.dumps({"type": type(dataset).__name__, **described}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _is_persisted(dataset: Any) -> bool:
    return dataset is not None and type(dataset).__name__ not in (
        "MemoryDataset",
        "SharedMemoryDataset",
        "MlflowMetricsHistoryDataset",
        "MlflowMetricsBatchDataset",
        "MlflowMetricDataset",
        "MlflowMetricHistoryDataset",
    )


def merge_lineage(sources: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The union of several stamps' parameters and data (the first value of a leaf wins; a
    conflict is found by :func:`find_conflicts` before this is used)."""
    params: dict[str, str] = {}
    data: dict[str, Any] | None = None
    for _, stamp in sources:
        for leaf, value in (stamp.get("params") or {}).items():
            params.setdefault(leaf, value)
        if stamp.get("data"):
            if data is None:
                data = {**stamp["data"], "files": dict(stamp["data"].get("files") or {})}
            else:
                for name, sha in (stamp["data"].get("files") or {}).items():
                    data["files"].setdefault(name, sha)
    return {"params": params, "data": data}


def find_conflicts(
    inputs: list[tuple[str, dict[str, Any]]],
    current_params: dict[str, str],
    current_data: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Differences between the inputs' stamps, and between them and this run.

    ``inputs`` are ``(dataset name, stamp)``; ``current_params`` this run's parameter leaves;
    ``current_data`` this run's raw-data identity. Each conflict is a dict with ``dataset``,
    ``setting``, ``made`` (the value the dataset was made under), ``now`` (this run's value, or
    the other input's) and ``other`` (``None`` for this run, else the other dataset's name).
    """
    conflicts: list[dict[str, Any]] = []
    seen_params: dict[str, tuple[str, str]] = {}
    seen_identity: tuple[str, dict[str, Any]] | None = None
    seen_files: dict[str, tuple[str, str]] = {}
    for name, stamp in inputs:
        for leaf, value in sorted((stamp.get("params") or {}).items()):
            if is_exempt(leaf):
                continue
            if leaf in current_params and current_params[leaf] != value:
                conflicts.append(
                    {
                        "dataset": name,
                        "setting": leaf,
                        "made": value,
                        "now": current_params[leaf],
                        "other": None,
                    }
                )
            elif leaf in seen_params and seen_params[leaf][0] != value:
                conflicts.append(
                    {
                        "dataset": name,
                        "setting": leaf,
                        "made": value,
                        "now": seen_params[leaf][0],
                        "other": seen_params[leaf][1],
                    }
                )
            seen_params.setdefault(leaf, (value, name))
        data = stamp.get("data")
        if not data:
            continue
        identity = {"kind": data.get("kind"), "location": data.get("location")}
        if current_data and identity != current_data:
            conflicts.append(
                {
                    "dataset": name,
                    "setting": "data",
                    "made": describe_identity(identity),
                    "now": describe_identity(current_data),
                    "other": None,
                }
            )
        elif seen_identity is not None and seen_identity[1] != identity:
            conflicts.append(
                {
                    "dataset": name,
                    "setting": "data",
                    "made": describe_identity(identity),
                    "now": describe_identity(seen_identity[1]),
                    "other": seen_identity[0],
                }
            )
        if seen_identity is None:
            seen_identity = (name, identity)
        for file, sha in sorted((data.get("files") or {}).items()):
            if file in seen_files and seen_files[file][0] != sha:
                conflicts.append(
                    {
                        "dataset": name,
                        "setting": f"sha256 of {file}",
                        "made": sha[:12],
                        "now": seen_files[file][0][:12],
                        "other": seen_files[file][1],
                    }
                )
            seen_files.setdefault(file, (sha, name))
    return conflicts


def _format_params(params: dict[str, Any]) -> str:
    flat: list[str] = []
    for key, value in flatten_leaves("", params).items():
        text = json.loads(value) if value.startswith('"') else value
        flat.append(f"{key}={text}")
    return ",".join(flat)


def kedro_command(run_params: dict[str, Any]) -> str:
    """The ``kedro run`` command line of a session's ``run_params`` (what to type again)."""
    parts = ["kedro", "run"]
    if run_params.get("env") and run_params["env"] != "base":
        parts += ["--env", str(run_params["env"])]
    names = [n for n in (run_params.get("pipeline_names") or []) if n != "__default__"]
    if len(names) == 1:
        parts += ["--pipeline", names[0]]
    elif names:
        parts += ["--pipelines", ",".join(names)]
    for key, flag in (
        ("namespaces", "--namespaces"),
        ("tags", "--tags"),
        ("from_nodes", "--from-nodes"),
        ("to_nodes", "--to-nodes"),
        ("node_names", "--nodes"),
        ("from_inputs", "--from-inputs"),
        ("to_outputs", "--to-outputs"),
    ):
        if run_params.get(key):
            parts += [flag, ",".join(run_params[key])]
    if run_params.get("runtime_params"):
        parts += ["--params", _format_params(run_params["runtime_params"])]
    return " ".join(shlex.quote(p) for p in parts)


def _shown(value: str, limit: int = 60) -> str:
    """A canonical value as typed on the command line (strings without their quotes)."""
    try:
        plain = json.loads(value)
    except (TypeError, ValueError):
        plain = value
    return _short(plain if isinstance(plain, str) else value, limit)


def describe_refusal(
    node_name: str,
    conflicts: list[dict[str, Any]],
    stamps: dict[str, dict[str, Any]],
    run_params: dict[str, Any],
) -> str:
    """The message of a refusal: what differs, where it came from, and the two ways out."""
    against_run = [c for c in conflicts if c["other"] is None]
    whom = "this run's" if against_run else "each other's"
    lines = [
        f"Node '{node_name}' would mix settings: its inputs were made under settings other "
        f"than {whom}."
    ]
    groups: dict[tuple, list[str]] = {}
    for c in conflicts:
        groups.setdefault((c["setting"], c["made"], c["now"], c["other"]), []).append(c["dataset"])
    for (setting, made, now, other), names in list(groups.items())[:_MAX_LISTED]:
        where = "this run" if other is None else other
        lines.append(
            f"  - {setting}: {_shown(made)} in {', '.join(sorted(set(names)))}; "
            f"{_shown(now)} in {where}"
        )
    if len(groups) > _MAX_LISTED:
        lines.append(f"  - … and {len(groups) - _MAX_LISTED} more settings")
    stale = sorted({c["dataset"] for c in conflicts})
    origins = sorted(
        {
            (stamps[n].get("command"), stamps[n].get("written_at"))
            for n in stale
            if stamps.get(n, {}).get("command")
        }
    )
    for command, written in origins[:3]:
        lines.append(
            f"  ({'they were' if len(stale) > 1 else 'it was'} written by `{command}` at {written})"
        )
    rebuild = kedro_command(
        {
            **run_params,
            "pipeline_names": [],
            "namespaces": None,
            "tags": None,
            "from_nodes": None,
            "to_nodes": None,
            "node_names": None,
            "from_inputs": None,
            "to_outputs": stale,
        }
    )
    lines.append(
        f"Rebuild {'them' if len(stale) > 1 else 'it'} with this run's settings: {rebuild}"
    )
    settings = {}
    for c in against_run:
        if c["setting"] != "data" and not c["setting"].startswith("sha256"):
            settings.setdefault(c["setting"], _shown(c["made"], 200))
    if settings:
        shown = ",".join(f"{leaf}={value}" for leaf, value in settings.items())
        lines.append(
            f"or run with the settings they were made under: --params {_short(shown, 200)}"
        )
    if any(c["setting"] == "data" for c in against_run):
        lines.append(
            "or point this run at the data they were made from (--params "
            "raw_data_dir=<folder> for real data, none for synthetic data)."
        )
    lines.append(
        "(The settings of each output are in data/.provenance/; a full `kedro run` "
        "rebuilds everything.)"
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the hook


class ProvenanceHook:
    """Stamp what each node saves; refuse a node of the training chain whose inputs were made
    under other settings (see the module docstring)."""

    def __init__(self) -> None:
        self._root = Path.cwd()
        self._context: Any = None
        self._run_params: dict[str, Any] = {}
        self._catalog: Any = None
        self._params: dict[str, str] = {}
        self._data: dict[str, Any] | None = None
        self._checked: set[str] | None = None
        self._lineage: dict[str, dict[str, Any]] = {}  # node name -> lineage of its outputs
        self._memory: dict[str, dict[str, Any]] = {}  # stamps written in this run
        self._persist = True  # False when the data root is remote (s3://): stamps stay in memory

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._root = Path(context.project_path)
        self._context = context

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:  # noqa: ARG002
        self._run_params = dict(run_params)
        self._catalog = catalog
        self._lineage, self._memory = {}, {}
        try:  # as configured (with --params), not as validated for the pipelines being run
            parameters = self._context.config_loader["parameters"]
        except Exception:  # noqa: BLE001 - no configured parameters: nothing to compare
            parameters = {}
        self._params = flatten_leaves("", parameters or {})
        try:  # stamps live beside the data: with a remote data root (the `sagemaker` env's S3),
            # nothing is written to the local disk and the check covers this run's own outputs
            data_root = str(self._context.config_loader["globals"]["paths"]["data"])
        except Exception:  # noqa: BLE001 - no globals: the default local data/ folder
            data_root = "data"
        self._persist = "://" not in data_root or data_root.startswith("file://")
        self._data = data_identity(self._dataset(f"{RAW_PREFIX}train"))
        try:
            from kedro.framework.project import pipelines

            self._checked = {
                n.name
                for name in CHECKED_PIPELINES
                if name in pipelines
                for n in pipelines[name].nodes
            }
        except Exception:  # noqa: BLE001 - no registry (a bare session): check every node
            self._checked = None

    def _dataset(self, name: str) -> Any:
        if self._catalog is None:
            return None
        try:
            return self._catalog.get(name)
        except Exception:  # noqa: BLE001
            return None

    def _stamp_of(self, name: str) -> dict[str, Any] | None:
        if name in self._memory:
            return self._memory[name]
        stamp = read_stamp(stamp_path(self._root, name))
        if stamp is None:
            return None
        target = _target(self._dataset(name))
        if stamp.get("target") and target and stamp["target"] != target:
            return None  # another dataset under the same name (another environment)
        return stamp

    def _param_leaves(self, name: str, value: Any) -> dict[str, str]:
        key = name.removeprefix("params:")
        leaves = {
            leaf: v for leaf, v in self._params.items() if leaf == key or leaf.startswith(key + ".")
        }
        return leaves or flatten_leaves(key, value)

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any]) -> None:
        own: dict[str, str] = {}
        sources: list[tuple[str, dict[str, Any]]] = []
        raw_files: dict[str, str] = {}
        raw_identity: dict[str, Any] | None = None
        for name, value in inputs.items():
            if name.startswith("params:"):
                own.update(self._param_leaves(name, value))
            elif name == "parameters":
                own.update(self._params)
            elif hasattr(self._dataset(name), "uses_real_data"):  # a raw file, read now
                source = getattr(value, "attrs", {}).get("source") or {}
                if isinstance(source, dict) and source.get("sha256"):
                    raw_files[str(source.get("file", name))] = source["sha256"]
                raw_identity = raw_identity or data_identity(self._dataset(name))
            else:
                stamp = self._stamp_of(name)
                if stamp is not None:
                    sources.append((name, stamp))

        if self._checked is None or node.name in self._checked:
            conflicts = find_conflicts(sources, self._params, self._data)
            if conflicts:
                stamps = dict(sources)
                raise MixedSettingsError(
                    describe_refusal(node.name, conflicts, stamps, self._run_params)
                )

        lineage = merge_lineage(sources)
        lineage["params"].update(own)
        if raw_identity is not None:
            data = lineage["data"] or {**raw_identity, "files": {}}
            data["files"].update(raw_files)
            lineage["data"] = data
        self._lineage[node.name] = lineage

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:  # noqa: ARG002
        lineage = self._lineage.get(getattr(node, "name", None))
        if lineage is None:
            return
        dataset = self._dataset(dataset_name)
        stamp = {
            "version": STAMP_VERSION,
            "dataset": dataset_name,
            "node": node.name,
            "params": lineage["params"],
            "data": lineage["data"],
            "command": kedro_command(self._run_params) if self._run_params else None,
            "env": self._run_params.get("env"),
            "session": self._run_params.get("run_id"),
            "written_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "target": _target(dataset),
        }
        self._memory[dataset_name] = stamp
        if not self._persist or not _is_persisted(dataset):
            return
        try:
            write_stamp(stamp_path(self._root, dataset_name), stamp)
        except OSError as exc:  # never fail a run for its stamp; say so
            logger.warning("Could not write the provenance stamp of %s: %s", dataset_name, exc)
