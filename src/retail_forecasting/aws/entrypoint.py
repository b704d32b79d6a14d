"""Entry point of the container image, for SageMaker Processing and Training jobs.

The image's ``ENTRYPOINT`` is ``python -m retail_forecasting.aws.entrypoint``; what follows is
the job's ``ContainerArguments`` (Processing) or ``train`` (Training):

``kedro run --env sagemaker --pipeline ingestion``
    Processing jobs (what the SageMaker Pipeline built by
    :mod:`retail_forecasting.aws.sagemaker_pipeline` runs): any ``kedro`` command line.
``run --env sagemaker --pipeline ingestion``
    The same, ``kedro`` left out.
``train``
    Training jobs. The hyperparameters (``/opt/ml/input/config/hyperparameters.json``) choose
    what runs: ``pipeline`` (default ``__default__``), ``env`` (default ``sagemaker``) and
    ``params`` (``key=value,...`` as for ``kedro run --params``). On failure the message is
    written to ``/opt/ml/output/failure``, where SageMaker shows it as the failure reason.
``serve``
    SageMaker hosting (an endpoint of the registered model package) and EKS: the serving API
    (:mod:`retail_forecasting.serving`) on port 8080 of every interface, with SageMaker's
    ``GET /ping`` and ``POST /invocations`` (JSON or CSV) besides the API's own endpoints. The
    model comes from the MLflow registry (``MLFLOW_TRACKING_URI``, alias
    ``RETAIL_SERVING_ALIAS``, default ``champion``); without one it exits with code 2 and says
    how to promote a version. ``SAGEMAKER_BIND_TO_PORT`` (or ``RETAIL_SERVING_PORT``) and
    ``RETAIL_SERVING_HOST`` override the port and the address.

Before running, ``RETAIL_S3_PREFIX`` is checked (``s3://bucket/prefix``) and a trailing ``/`` is
removed, telemetry is switched off, and the working directory is the project
(``RETAIL_PROJECT_DIR``, default ``/opt/ml/code`` where it exists).

After a successful run, ``RETAIL_EXPORTS`` copies files of the run to local folders that
SageMaker uploads as the job's outputs: ``08_reporting/metrics.json=/opt/ml/processing/metrics``
(paths relative to ``RETAIL_S3_PREFIX`` on the left, a local folder or file on the right,
several pairs separated by ``;``). The pipeline builder uses it for the evaluation step's
property file.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger("retail_forecasting.aws.entrypoint")

SAGEMAKER_ROOT = Path("/opt/ml")
DEFAULT_PROJECT_DIR = SAGEMAKER_ROOT / "code"
USAGE = (
    "usage: <image> kedro run --env sagemaker --pipeline NAME [kedro options]  (Processing job)\n"
    "       <image> run --env sagemaker --pipeline NAME [kedro options]        (same)\n"
    "       <image> train   (Training job; hyperparameters: pipeline, env, params)\n"
    "       <image> serve   (SageMaker endpoint / EKS: the serving API on port 8080)"
)
SERVE_PORT = 8080

Runner = Callable[[list[str], Path, dict[str, str]], int]


class EntrypointError(Exception):
    """Bad arguments or environment: reported without a traceback, exit code 2."""


def _run_subprocess(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    return subprocess.run(command, cwd=cwd, env=env, check=False).returncode


def read_hyperparameters(path: Path) -> dict[str, str]:
    """SageMaker's hyperparameters file: a JSON object whose values may be JSON-encoded strings."""
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    values: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            try:  # the SageMaker SDK JSON-encodes every value ("\"modelling\"")
                decoded = json.loads(value)
                value = decoded if isinstance(decoded, str) else value
            except json.JSONDecodeError:
                pass
        values[key] = str(value)
    return values


def training_command(hyperparameters: Mapping[str, str]) -> list[str]:
    """The ``kedro run`` arguments of a Training job."""
    unknown = set(hyperparameters) - {"pipeline", "env", "params"}
    # SageMaker adds its own keys (sagemaker_*); anything else is a typo worth reporting
    unknown = {key for key in unknown if not key.startswith("sagemaker_")}
    if unknown:
        raise EntrypointError(
            f"Unknown hyperparameter(s) {sorted(unknown)}: expected pipeline, env, params"
        )
    command = [
        "run",
        "--env",
        hyperparameters.get("env") or "sagemaker",
        "--pipeline",
        hyperparameters.get("pipeline") or "__default__",
    ]
    if hyperparameters.get("params"):
        command += ["--params", hyperparameters["params"]]
    return command


def kedro_arguments(argv: Sequence[str], hyperparameters_file: Path) -> tuple[str, list[str]]:
    """``(mode, kedro arguments)`` for the container arguments ``argv``."""
    if not argv:
        raise EntrypointError(f"No command given.\n{USAGE}")
    head, rest = argv[0], list(argv[1:])
    if head == "train":
        if rest:
            raise EntrypointError(f"'train' takes no arguments (use hyperparameters).\n{USAGE}")
        return "training", training_command(read_hyperparameters(hyperparameters_file))
    if head == "kedro":
        if not rest:
            raise EntrypointError(f"'kedro' needs a command.\n{USAGE}")
        return "processing", rest
    if head == "run":
        return "processing", list(argv)
    if head == "serve":
        if rest:
            raise EntrypointError(
                f"'serve' takes no arguments (use RETAIL_SERVING_* variables).\n{USAGE}"
            )
        return "serving", []
    raise EntrypointError(f"Unknown command {head!r}.\n{USAGE}")


def prepare_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: telemetry off, ``RETAIL_S3_PREFIX`` checked and normalised."""
    env = dict(environ)
    env.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    prefix = env.get("RETAIL_S3_PREFIX", "").strip()
    if prefix:
        if not prefix.startswith("s3://") or len(prefix.rstrip("/")) <= len("s3://"):
            raise EntrypointError(
                f"RETAIL_S3_PREFIX must look like s3://bucket/prefix, got {prefix!r}"
            )
        env["RETAIL_S3_PREFIX"] = prefix.rstrip("/")
    return env


def parse_exports(spec: str) -> list[tuple[str, str]]:
    """``"a/b.json=/local/dir;c.csv=/x"`` -> ``[("a/b.json", "/local/dir"), ...]``."""
    pairs = []
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise EntrypointError(f"RETAIL_EXPORTS item {item!r} is not SOURCE=LOCAL_PATH")
        pairs.append((source.strip().lstrip("/"), target.strip()))
    return pairs


def export_files(spec: str, env: Mapping[str, str]) -> list[Path]:
    """Copy ``RETAIL_EXPORTS`` files from under ``RETAIL_S3_PREFIX`` to local paths."""
    pairs = parse_exports(spec)
    if not pairs:
        return []
    prefix = env.get("RETAIL_S3_PREFIX")
    if not prefix:
        raise EntrypointError("RETAIL_EXPORTS needs RETAIL_S3_PREFIX")
    import fsspec

    written = []
    for source, target in pairs:
        url = f"{prefix}/{source}"
        local = Path(target)
        if not local.suffix or target.endswith("/") or local.is_dir():
            local = local / Path(source).name
        local.parent.mkdir(parents=True, exist_ok=True)
        with fsspec.open(url, "rb") as remote, local.open("wb") as handle:
            handle.write(remote.read())
        logger.info("Exported %s to %s", url, local)
        written.append(local)
    return written


def project_dir(env: Mapping[str, str]) -> Path:
    configured = env.get("RETAIL_PROJECT_DIR")
    if configured:
        return Path(configured)
    return DEFAULT_PROJECT_DIR if DEFAULT_PROJECT_DIR.is_dir() else Path.cwd()


def serve_address(env: Mapping[str, str]) -> tuple[str, int]:
    """``(host, port)`` of ``serve``: 0.0.0.0:8080 unless the environment says otherwise."""
    raw = env.get("SAGEMAKER_BIND_TO_PORT") or env.get("RETAIL_SERVING_PORT") or str(SERVE_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise EntrypointError(f"the serving port must be a number 1..65535, got {raw!r}")
    return env.get("RETAIL_SERVING_HOST") or "0.0.0.0", int(raw)


def _serve(env: dict[str, str]) -> int:
    from retail_forecasting.serving.server import serve

    host, port = serve_address(env)
    os.environ.update(env)  # the app reads its settings (MLFLOW_*, RETAIL_SERVING_*) from here
    return serve(host, port)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    runner: Runner = _run_subprocess,
    sagemaker_root: Path = SAGEMAKER_ROOT,
    server: Callable[[dict[str, str]], int] = _serve,
) -> int:
    """Run the container command; return the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    mode = "training" if argv[:1] == ["train"] else "processing"
    failure_file = sagemaker_root / "output" / "failure"
    try:
        env = prepare_environment(os.environ if environ is None else environ)
        mode, arguments = kedro_arguments(
            argv, sagemaker_root / "input" / "config" / "hyperparameters.json"
        )
        if mode == "serving":
            logger.info("serving: %s:%d", *serve_address(env))
            return server(env)
        cwd = project_dir(env)
        command = [sys.executable, "-m", "kedro", *arguments]
        logger.info("%s job: %s (in %s)", mode, " ".join(command[1:]), cwd)
        code = runner(command, cwd, env)
        if code == 0:
            export_files(env.get("RETAIL_EXPORTS", ""), env)
            return 0
        message = f"'kedro {' '.join(arguments)}' failed with exit code {code}"
    except EntrypointError as exc:
        message, code = str(exc), 2
    except Exception as exc:  # noqa: BLE001 - report any failure to SageMaker
        message, code = str(exc), 1
    logger.error(message)
    if mode == "training":
        try:
            failure_file.parent.mkdir(parents=True, exist_ok=True)
            failure_file.write_text(message[:1000], encoding="utf-8")
        except OSError:  # not in a SageMaker container
            pass
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
