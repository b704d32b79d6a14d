"""AWS stand-ins for tests/aws: moto in server mode on 127.0.0.1 (a free port), started once per
test session and reset before each test that uses it.

Every AWS client of the code under test — s3fs/aiobotocore (Kedro datasets), botocore (Secrets
Manager), boto3 (MLflow's S3 artifact store, Lambdas) — finds the server through
``AWS_ENDPOINT_URL``, which botocore honours for every service: no code or configuration of the
project knows about the stand-in. Fake credentials; no other network.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """``http://127.0.0.1:<port>`` of a moto server, stopped at the end of the session."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@dataclass
class AwsStandIn:
    endpoint: str
    region: str
    bucket: str

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=self.region)

    def put_file(self, key: str, path: Path) -> str:
        self.client("s3").upload_file(str(path), self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def keys(self, prefix: str = "") -> list[str]:
        paginator = self.client("s3").get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        )

    def read_json(self, key: str):
        body = self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return json.loads(body)

    def create_secret(self, name: str, value: dict) -> str:
        client = self.client("secretsmanager")
        return client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]


def _clear_fsspec_caches() -> None:
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def aws(moto_endpoint, monkeypatch) -> AwsStandIn:
    """A fresh moto state with one bucket, fake credentials and every SDK pointed at it."""
    for variable in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "MLFLOW_S3_ENDPOINT_URL",
        "RDS_SECRET_NAME",
        "RETAIL_S3_PREFIX",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the stand-in is never proxied
    monkeypatch.setenv("AWS_CONFIG_FILE", str(Path("/nonexistent/aws-config")))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(Path("/nonexistent/aws-credentials")))
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    _clear_fsspec_caches()
    stand_in = AwsStandIn(moto_endpoint, REGION, f"retail-test-{uuid.uuid4().hex[:8]}")
    stand_in.client("s3").create_bucket(
        Bucket=stand_in.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    yield stand_in
    _clear_fsspec_caches()


@pytest.fixture
def postgres_secret(aws, postgres_url):
    """A Secrets Manager secret (RDS format) for the throw-away PostgreSQL database."""
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    name = f"retail/rds/{uuid.uuid4().hex[:6]}"
    aws.create_secret(
        name,
        {
            "engine": "postgres",
            "host": url.host or "127.0.0.1",
            "port": url.port or 5432,
            "dbname": url.database,
            "username": url.username or "postgres",
            "password": url.password or "",
        },
    )
    return name


@pytest.fixture
def lambdas_path(monkeypatch) -> Path:
    """infra/lambdas on sys.path, as the Lambda runtime puts the task root; modules reloaded."""
    path = PROJECT_ROOT / "infra" / "lambdas"
    monkeypatch.syspath_prepend(str(path))
    for module in ("_common", "pre_load_cleanup", "post_load_upsert", "post_load_validation"):
        sys.modules.pop(module, None)
    monkeypatch.setenv("RETAIL_SQL_DIR", str(PROJECT_ROOT / "sql"))
    yield path
    for module in ("_common", "pre_load_cleanup", "post_load_upsert", "post_load_validation"):
        sys.modules.pop(module, None)
