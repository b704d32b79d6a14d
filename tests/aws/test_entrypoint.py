"""The container: entry point command handling (no Docker engine here) and the image recipe."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from retail_forecasting.aws import entrypoint

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    def __init__(self, code: int = 0):
        self.code = code
        self.calls = []

    def __call__(self, command, cwd, env):
        self.calls.append((command, cwd, env))
        return self.code


def run(argv, environ=None, code=0, tmp_path=None):
    recorder = Recorder(code)
    root = tmp_path or Path("/nonexistent-sagemaker-root")
    exit_code = entrypoint.main(argv, environ or {}, recorder, sagemaker_root=root)
    return exit_code, recorder.calls


def test_processing_job_arguments_run_kedro(tmp_path):
    code, calls = run(
        ["kedro", "run", "--env", "sagemaker", "--pipeline", "ingestion"],
        {"RETAIL_PROJECT_DIR": str(tmp_path)},
    )
    assert code == 0
    command, cwd, env = calls[0]
    assert command == [
        sys.executable,
        "-m",
        "kedro",
        "run",
        "--env",
        "sagemaker",
        "--pipeline",
        "ingestion",
    ]
    assert cwd == tmp_path and env["KEDRO_DISABLE_TELEMETRY"] == "1"


def test_run_without_kedro_word_is_the_same():
    _, calls = run(["run", "--env", "sagemaker", "--pipeline", "eda"])
    assert calls[0][0][3:] == ["run", "--env", "sagemaker", "--pipeline", "eda"]


def test_training_job_reads_its_hyperparameters(tmp_path):
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    # the SageMaker SDK JSON-encodes every hyperparameter value
    (config / "hyperparameters.json").write_text(
        json.dumps(
            {"pipeline": '"modelling"', "params": '"horizon_weeks=39"', "sagemaker_program": '"x"'}
        )
    )
    code, calls = run(["train"], tmp_path=tmp_path)
    assert code == 0
    assert calls[0][0][3:] == [
        "run",
        "--env",
        "sagemaker",
        "--pipeline",
        "modelling",
        "--params",
        "horizon_weeks=39",
    ]


def test_training_job_defaults_to_every_pipeline(tmp_path):
    _, calls = run(["train"], tmp_path=tmp_path)
    assert calls[0][0][3:] == ["run", "--env", "sagemaker", "--pipeline", "__default__"]


def test_failed_training_writes_the_failure_reason(tmp_path):
    code, _ = run(["train"], code=3, tmp_path=tmp_path)
    assert code == 3
    failure = (tmp_path / "output" / "failure").read_text()
    assert "kedro run --env sagemaker --pipeline __default__' failed with exit code 3" in failure


def test_unknown_hyperparameter_is_reported(tmp_path):
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({"pipline": "x"}))
    code, calls = run(["train"], tmp_path=tmp_path)
    assert code == 2 and not calls
    assert "Unknown hyperparameter(s) ['pipline']" in (tmp_path / "output" / "failure").read_text()


def test_failed_processing_job_returns_the_exit_code():
    code, _ = run(["kedro", "run", "--pipeline", "ingestion"], code=1)
    assert code == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "No command given"),
        (["serve", "--port", "1"], "'serve' takes no arguments"),
        (["bash"], "Unknown command 'bash'"),
        (["kedro"], "'kedro' needs a command"),
        (["train", "--pipeline", "x"], "'train' takes no arguments"),
    ],
)
def test_bad_commands_exit_2_without_running(argv, message, caplog):
    code, calls = run(argv)
    assert code == 2 and not calls
    assert message in caplog.text


def test_s3_prefix_is_checked_and_normalised():
    _, calls = run(["run"], {"RETAIL_S3_PREFIX": "s3://bucket/retail/"})
    assert calls[0][2]["RETAIL_S3_PREFIX"] == "s3://bucket/retail"
    code, calls = run(["run"], {"RETAIL_S3_PREFIX": "/local/path"})
    assert code == 2 and not calls


def test_exports_copy_files_of_the_run_for_sagemaker_outputs(aws, tmp_path, monkeypatch):
    import os

    aws.client("s3").put_object(
        Bucket=aws.bucket, Key="retail/08_reporting/metrics.json", Body=b'{"champion": "lightgbm"}'
    )
    environ = {
        **os.environ,
        "RETAIL_S3_PREFIX": f"s3://{aws.bucket}/retail",
        "RETAIL_EXPORTS": f"08_reporting/metrics.json={tmp_path / 'metrics'}",
    }
    code, _ = run(["kedro", "run", "--pipeline", "evaluation"], environ)
    assert code == 0
    exported = tmp_path / "metrics" / "metrics.json"
    assert json.loads(exported.read_text()) == {"champion": "lightgbm"}


def test_exports_need_source_and_target():
    with pytest.raises(entrypoint.EntrypointError, match="is not SOURCE=LOCAL_PATH"):
        entrypoint.parse_exports("08_reporting/metrics.json")


def test_dockerfile_is_the_sagemaker_image_without_test_dependencies():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    assert "WORKDIR /opt/ml/code" in instructions
    assert instructions[-1] == 'ENTRYPOINT ["python", "-m", "retail_forecasting.aws.entrypoint"]'
    installs = [line for line in instructions if "pip install" in line or "uv export" in line]
    # runtime dependencies + what `serve` needs, at the versions of uv.lock; then the project
    assert any("uv export --frozen --no-dev --extra serving" in line for line in installs), installs
    assert any("pip install --no-deps ." in line for line in installs), installs
    assert "COPY pyproject.toml uv.lock README.md ./" in instructions
    assert "EXPOSE 8080" in instructions  # SageMaker hosting's port, the EKS containerPort
    import tomllib

    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    serving = {re.split(r"[<>=\[ ]", d)[0].lower() for d in extras["serving"]}
    # what retail_forecasting.serving imports beyond the runtime dependencies
    assert {"fastapi", "uvicorn", "prometheus-client", "orjson"} <= serving
    for needed in (
        "COPY src ./src",
        "COPY conf/base ./conf/base",
        "COPY conf/sagemaker ./conf/sagemaker",
        "COPY sql ./sql",
    ):
        assert needed in instructions
    assert not re.search(r"test|notebook|jupyter|ipykernel", " ".join(installs))
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (
        "**/*credentials*",
        "tests",
        "notebooks",
        "data",
        "mlflow.db",
        ".venv",
        "conf/local",
    ):
        assert pattern in ignored


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile: comments dropped, continuation lines
    joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = " ".join((pending + line).split())
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments))
    return instructions


def test_dockerfile_instructions_parser():
    parsed = dockerfile_instructions("FROM x\n# note\nRUN a \\\n && b\nUSER 1:1\n")
    assert parsed == [("FROM", "x"), ("RUN", "a && b"), ("USER", "1:1")]


def test_image_runs_as_a_non_root_user_that_can_write_only_where_jobs_write():
    from retail_forecasting import cli, runlock
    from retail_forecasting.aws.sagemaker_pipeline import METRICS_LOCAL_DIR

    instructions = dockerfile_instructions((PROJECT_ROOT / "Dockerfile").read_text())
    kinds = [kind for kind, _ in instructions]
    users = [i for i, (kind, _) in enumerate(instructions) if kind == "USER"]
    assert users, "the image must switch to a non-root USER"
    user_index = users[-1]
    user = instructions[user_index][1]
    name, _, group = user.partition(":")
    assert name not in ("root", "0") and group not in ("root", "0"), f"USER {user} is root"
    # after every install and copy, before the entry point; nothing runs as root afterwards
    last_build_step = max(i for i, kind in enumerate(kinds) if kind in ("RUN", "COPY", "ADD"))
    assert user_index > last_build_step
    assert user_index < kinds.index("ENTRYPOINT")
    assert all(kind != "USER" or arguments == user for kind, arguments in instructions[user_index:])

    # the RUN that creates the user creates and hands over the writable paths, and no more
    (create,) = [
        arguments for kind, arguments in instructions if kind == "RUN" and "useradd" in arguments
    ]
    assert f"--uid {name}" in create and f"--gid {group or name}" in create
    project = Path("/opt/ml/code")
    writable_dirs = [
        METRICS_LOCAL_DIR,  # RETAIL_EXPORTS (evaluation step)
        str(entrypoint.SAGEMAKER_ROOT / "output"),  # Training jobs' failure file
        str(entrypoint.SAGEMAKER_ROOT / "model"),  # Training jobs' model dir
        str(project / cli.ERROR_LOG.parent),  # logs/run_errors.log
    ]
    commands = [command.strip() for command in create.split("&&")]
    made = {path for c in commands if c.startswith("mkdir") for path in c.split()[1:]}
    owned = {
        path
        for c in commands
        if c.startswith("chown")
        for path in c.split()[2:]
        if not path.startswith("-")
    }
    chown_targets = " ".join(c for c in commands if c.startswith("chown"))
    for path in writable_dirs:
        assert path in made, f"{path} is not created"
        assert any(path == o or path.startswith(o.rstrip("/") + "/") for o in owned), (
            f"{path} is not owned by the job's user"
        )
        assert f"{name}:{group}" in chown_targets
    lock = str(project / runlock.LOCK_FILE)
    assert any(c == f"touch {lock}" for c in commands) and lock in owned
    assert str(project) not in owned and "/opt/ml" not in owned, "code and config stay read-only"
    env = " ".join(arguments for kind, arguments in instructions if kind == "ENV")
    assert "HOME=/home/app" in env and "--create-home" in create


def test_image_code_needs_neither_the_sagemaker_sdk_nor_boto3():
    import subprocess

    code = (
        "import sys; sys.modules['sagemaker'] = None; sys.modules['boto3'] = None\n"
        "import retail_forecasting.aws.entrypoint, retail_forecasting.aws.secrets\n"
        "import retail_forecasting.aws.mlflow_artifacts, retail_forecasting.warehouse.credentials\n"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip().splitlines()[-1:] == ["ok"], result.stderr


def test_serve_starts_the_api_on_8080_of_every_interface(tmp_path):
    started = []
    code = entrypoint.main(
        ["serve"],
        {"MLFLOW_TRACKING_URI": "sqlite:///x.db"},
        Recorder(),
        sagemaker_root=tmp_path,
        server=lambda env: started.append(env) or 0,
    )
    assert code == 0 and started[0]["MLFLOW_TRACKING_URI"] == "sqlite:///x.db"
    assert entrypoint.serve_address(started[0]) == ("0.0.0.0", 8080)
    assert entrypoint.serve_address({"SAGEMAKER_BIND_TO_PORT": "9000"}) == ("0.0.0.0", 9000)
    assert entrypoint.serve_address(
        {"RETAIL_SERVING_HOST": "127.0.0.1", "RETAIL_SERVING_PORT": "81"}
    ) == ("127.0.0.1", 81)


def test_serve_refuses_a_bad_port(caplog):
    code = entrypoint.main(
        ["serve"], {"RETAIL_SERVING_PORT": "http"}, Recorder(), server=lambda env: 0
    )
    assert code == 2 and "the serving port must be a number" in caplog.text
