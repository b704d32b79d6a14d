"""The event-driven ETL: Glue job and Lambdas, with S3 / Secrets Manager / Glue on the moto
server and the SQL on the local PostgreSQL (a throw-away database per test)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from retail_forecasting.aws import etl
from retail_forecasting.errors import LoadRefused

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GLUE_SCRIPT = PROJECT_ROOT / "etl" / "glue" / "walmart_s3_to_rds.py"
RAW = ("train.csv", "features.csv", "stores.csv")


def load_glue_module():
    spec = importlib.util.spec_from_file_location("walmart_s3_to_rds", GLUE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def batch(aws, tiny_raw_dir):
    """The tiny bundle uploaded as s3://bucket/raw/batch-1/, with its ready marker."""
    for name in RAW:
        aws.put_file(f"raw/batch-1/{name}", tiny_raw_dir / name)
    aws.client("s3").put_object(Bucket=aws.bucket, Key="raw/batch-1/_READY", Body=b"")
    return f"s3://{aws.bucket}/raw/batch-1"


@pytest.fixture
def etl_env(aws, postgres_secret, monkeypatch, lambdas_path):
    for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RDS_SECRET_NAME", postgres_secret)
    monkeypatch.setenv("RETAIL_S3_PREFIX", f"s3://{aws.bucket}/retail")
    return aws


def s3_event(bucket: str, key: str) -> dict:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
            }
        ]
    }


def glue_event(state: str = "SUCCEEDED", job: str = "retail-etl") -> dict:
    return {
        "source": "aws.glue",
        "detail-type": "Glue Job State Change",
        "detail": {"jobName": job, "state": state, "jobRunId": "jr_1"},
    }


def counts(postgres_url: str) -> dict[str, int]:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT COUNT(*) FROM retailds.{table}")).scalar_one()
                for table in ("stg_sales_weekly", "fact_sales_weekly", "vw_sales_analytics")
            }
    finally:
        engine.dispose()


def test_outputs_are_where_the_sagemaker_catalog_puts_them(aws, project_copy, monkeypatch):
    from kedro.config import OmegaConfigLoader

    from retail_forecasting.resolvers import CUSTOM_RESOLVERS

    monkeypatch.setenv("RETAIL_S3_PREFIX", "s3://b/p")
    loader = OmegaConfigLoader(
        str(project_copy / "conf"),
        env="sagemaker",
        base_env="base",
        default_run_env="base",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    catalog = loader["catalog"]
    for name, relative in etl.OUTPUTS.items():
        entry = catalog[name]
        filepath = entry.get("filepath") or entry["dataset"]["filepath"]
        assert filepath == f"s3://b/p/{relative}", name


@pytest.mark.postgres
def test_whole_event_driven_load(etl_env, batch, postgres_url, tiny_raw_dir, monkeypatch):
    aws = etl_env
    glue = aws.client("glue")
    glue.create_job(
        Name="retail-etl",
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "pythonshell", "ScriptLocation": "s3://code/glue.py"},
    )
    pre = importlib.import_module("pre_load_cleanup")
    upsert = importlib.import_module("post_load_upsert")
    validation = importlib.import_module("post_load_validation")

    # 1. the ready marker lands: staging emptied, Glue job started on the batch
    monkeypatch.setenv("GLUE_JOB_NAME", "retail-etl")
    result = pre.handler(s3_event(aws.bucket, "raw/batch-1/_READY"))
    assert result["status"] == "glue_started" and result["batch"] == batch
    runs = glue.get_job_runs(JobName="retail-etl")["JobRuns"]
    assert runs[0]["Arguments"] == {
        "--raw_s3_prefix": batch,
        "--data_s3_prefix": f"s3://{aws.bucket}/retail",
    }

    # 2. the Glue job: validated, cleaned batch staged; frames and manifest on S3
    staged = load_glue_module().run(batch, f"s3://{aws.bucket}/retail", PROJECT_ROOT / "sql")
    rows = len(pd.read_csv(tiny_raw_dir / "train.csv"))
    assert staged["staged"]["stg_sales_weekly"] == rows
    manifest = aws.read_json("retail/08_reporting/input_manifest.json")
    assert manifest["source"] == "real"
    assert manifest["inputs"]["train"]["path"] == f"{batch}/train.csv"
    assert counts(postgres_url) == {
        "stg_sales_weekly": rows,
        "fact_sales_weekly": 0,
        "vw_sales_analytics": 0,
    }

    # 3. Glue succeeded: upsert in one transaction, staging emptied by the upsert script
    assert upsert.handler(glue_event(job="other-job"))["status"] == "skipped"
    result = upsert.handler(glue_event())
    assert result["status"] == "upserted" and result["counts"]["fact_sales_weekly"] == rows
    assert counts(postgres_url) == {
        "stg_sales_weekly": 0,
        "fact_sales_weekly": rows,
        "vw_sales_analytics": rows,
    }

    # 4. validation against the batch, report next to the Kedro one
    report = validation.handler({"responsePayload": result})
    assert report["status"] == "valid" and report["load"]["actual"]["fact_sales_weekly"] == rows
    stored = aws.read_json("retail/03_primary/prm_warehouse_load_report.json")
    assert stored == report["load"] and stored["status"] == "ok"


@pytest.mark.postgres
def test_pre_load_cleanup_ignores_other_objects_and_refuses_incomplete_batches(
    etl_env, tiny_raw_dir
):
    pre = importlib.import_module("pre_load_cleanup")
    aws = etl_env
    assert pre.handler(s3_event(aws.bucket, "raw/b/train.csv"))["status"] == "skipped"
    aws.put_file("raw/partial/train.csv", tiny_raw_dir / "train.csv")
    missing = r"not complete: \['stores.csv', 'features.csv'\] missing"
    with pytest.raises(etl.EtlError, match=missing):
        pre.handler(s3_event(aws.bucket, "raw/partial/_READY"))


@pytest.mark.postgres
def test_upsert_refuses_an_empty_staging_area_and_ignores_failed_jobs(etl_env, postgres_url):
    upsert = importlib.import_module("post_load_upsert")
    assert upsert.handler(glue_event("FAILED"))["status"] == "skipped"
    # the schema exists but nothing is staged: the mirror upsert would empty the warehouse
    engine = create_engine(postgres_url)
    try:
        etl.cleanup_staging(engine, etl.sql_files(PROJECT_ROOT / "sql")[0])
    finally:
        engine.dispose()
    with pytest.raises(LoadRefused, match="the batch is empty"):
        upsert.handler(glue_event())


@pytest.mark.postgres
def test_validation_fails_when_the_warehouse_differs(etl_env, batch, postgres_url):
    validation = importlib.import_module("post_load_validation")
    load_glue_module().run(batch, f"s3://{etl_env.bucket}/retail", PROJECT_ROOT / "sql")
    # staged but never upserted: the warehouse does not hold the batch
    with pytest.raises(RuntimeError, match="Post-load validation failed"):
        validation.handler({})


@pytest.mark.postgres
def test_glue_main_reads_job_arguments_and_sql_from_s3(etl_env, batch, monkeypatch):
    aws = etl_env
    for path in sorted((PROJECT_ROOT / "sql").glob("*.sql")):
        aws.put_file(f"code/sql/{path.name}", path)
    seen = {}

    def get_resolved_options(argv, names):
        seen["names"] = names
        return {name: argv[argv.index(f"--{name}") + 1] for name in names}

    awsglue = types.ModuleType("awsglue")
    awsglue.utils = types.SimpleNamespace(getResolvedOptions=get_resolved_options)
    monkeypatch.setitem(sys.modules, "awsglue", awsglue)
    monkeypatch.setitem(sys.modules, "awsglue.utils", awsglue.utils)
    monkeypatch.delenv("RDS_SECRET_NAME")
    secret = etl_env.client("secretsmanager").list_secrets()["SecretList"][0]["Name"]
    result = load_glue_module().main(
        [
            "script.py",
            "--raw_s3_prefix",
            batch,
            "--data_s3_prefix",
            f"s3://{aws.bucket}/retail",
            "--sql_s3_prefix",
            f"s3://{aws.bucket}/code/sql",
            "--rds_secret_name",
            secret,
            "--negative_sales",
            "clip",
        ]
    )
    assert seen["names"] == [
        "raw_s3_prefix",
        "data_s3_prefix",
        "sql_s3_prefix",
        "rds_secret_name",
        "negative_sales",
    ]
    assert result["cleaning"]["negative_sales_strategy"] == "clip"
    assert result["staged"]["stg_store"] > 0


def test_glue_script_imports_awsglue_only_inside_main():
    source = GLUE_SCRIPT.read_text()
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not any("awsglue" in line for line in top_level)


@pytest.mark.postgres
def test_the_upsert_lambda_applies_the_same_shrink_rule(
    etl_env, batch, postgres_url, tiny_raw_dir, monkeypatch
):
    """A smaller batch after a good one: refused by the Lambda like by `kedro run`, nothing
    written; allowed on purpose with RETAIL_ALLOW_SHRINK; incremental adds without deleting."""
    aws = etl_env
    upsert = importlib.import_module("post_load_upsert")
    glue = load_glue_module()
    glue.run(batch, f"s3://{aws.bucket}/retail", PROJECT_ROOT / "sql")
    rows = upsert.handler(glue_event())["counts"]["fact_sales_weekly"]

    train = pd.read_csv(tiny_raw_dir / "train.csv")
    half = train.iloc[: len(train) // 2]
    small = f"s3://{aws.bucket}/raw/batch-2"
    for name in RAW:
        aws.put_file(f"raw/batch-2/{name}", tiny_raw_dir / name)
    aws.client("s3").put_object(
        Bucket=aws.bucket, Key="raw/batch-2/train.csv", Body=half.to_csv(index=False).encode()
    )
    glue.run(small, f"s3://{aws.bucket}/retail", PROJECT_ROOT / "sql")
    with pytest.raises(LoadRefused, match="would delete .* rows of retailds.fact_sales_weekly"):
        upsert.handler(glue_event())
    assert counts(postgres_url)["fact_sales_weekly"] == rows  # nothing written

    monkeypatch.setenv("RETAIL_LOAD_MODE", "incremental")
    assert upsert.handler(glue_event())["counts"]["fact_sales_weekly"] == rows  # adds, keeps

    glue.run(small, f"s3://{aws.bucket}/retail", PROJECT_ROOT / "sql")
    monkeypatch.setenv("RETAIL_LOAD_MODE", "mirror")
    monkeypatch.setenv("RETAIL_ALLOW_SHRINK", "true")
    assert upsert.handler(glue_event())["counts"]["fact_sales_weekly"] == len(half)


def test_the_lambda_load_policy_comes_from_the_environment():
    policy = etl.load_policy_from_env(
        {"RETAIL_LOAD_MODE": "incremental", "RETAIL_MAX_DELETE_SHARE": "0.2"}
    )
    assert (policy.mode, policy.allow_shrink, policy.max_delete_share) == (
        "incremental",
        False,
        0.2,
    )
    with pytest.raises(etl.EtlError, match="RETAIL_ALLOW_SHRINK"):
        etl.load_policy_from_env({"RETAIL_ALLOW_SHRINK": "maybe"})
    with pytest.raises(etl.EtlError, match="mirror' or 'incremental"):
        etl.load_policy_from_env({"RETAIL_LOAD_MODE": "replace"})
