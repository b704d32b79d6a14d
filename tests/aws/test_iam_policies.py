"""The least-privilege IAM policies of infra/iam/ (documented in docs/aws.md), checked offline:
valid documents (moto's IAM accepts them), no wildcard actions, and every AWS call the code
makes is allowed on the resources it touches — the S3 keys come from the code's own constants —
while what a function has no business doing is not."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest

from retail_forecasting.aws import etl

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IAM = PROJECT_ROOT / "infra" / "iam"
POLICIES = sorted(path.stem for path in IAM.glob("*.json"))
#: actions that only work on "Resource": "*" (or are harmless there)
STAR_ACTIONS = {
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
}
BUCKET = "arn:aws:s3:::BUCKET"
SECRET = "arn:aws:secretsmanager:REGION:ACCOUNT_ID:secret:RDS_SECRET_NAME-AbC123"
BATCH = f"{BUCKET}/raw/2024-06-01"


def policy(name: str) -> dict:
    return json.loads((IAM / f"{name}.json").read_text())


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def allows(document: dict, action: str, resource: str, prefix: str | None = None) -> bool:
    """Whether an Allow statement grants ``action`` on ``resource`` (IAM wildcards ``*``/``?``);
    for ``s3:ListBucket``, ``prefix`` must match the statement's ``s3:prefix`` condition."""
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
            continue
        if not any(
            fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"])
        ):
            continue
        condition = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
        if (
            prefix is not None
            and condition is not None
            and not any(fnmatch.fnmatchcase(prefix, p) for p in as_list(condition))
        ):
            continue
        return True
    return False


def s3_actions(document: dict) -> set[str]:
    return {a for s in document["Statement"] for a in as_list(s["Action"]) if a.startswith("s3:")}


def test_the_five_roles_have_a_policy():
    assert POLICIES == [
        "glue_walmart_s3_to_rds",
        "lambda_post_load_upsert",
        "lambda_post_load_validation",
        "lambda_pre_load_cleanup",
        "sagemaker_execution",
    ]


@pytest.mark.parametrize("name", POLICIES)
def test_policy_is_valid_and_has_no_wildcard_action(name):
    document = policy(name)
    assert document["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids)), "statement ids are unique"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", action), (
                f"{name}: wildcard action {action}"
            )
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= STAR_ACTIONS, statement["Sid"]


@pytest.mark.parametrize("name", POLICIES)
def test_moto_iam_accepts_the_policy(name, monkeypatch):
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        text = (IAM / f"{name}.json").read_text()
        created = boto3.client("iam", region_name="us-east-1").create_policy(
            PolicyName=name, PolicyDocument=text
        )
        assert created["Policy"]["PolicyName"] == name


def test_every_lambda_and_the_glue_job_read_the_rds_secret_and_log():
    for name in POLICIES:
        assert allows(policy(name), "secretsmanager:GetSecretValue", SECRET), name
        assert not allows(
            policy(name),
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:REGION:ACCOUNT_ID:secret:other-AbC123",
        ), name
    for name in (
        "lambda_pre_load_cleanup",
        "lambda_post_load_upsert",
        "lambda_post_load_validation",
    ):
        group = "/aws/lambda/retail-" + name.removeprefix("lambda_").replace("_", "-")
        stream = f"arn:aws:logs:REGION:ACCOUNT_ID:log-group:{group}:log-stream:2026/12/01/x"
        assert allows(policy(name), "logs:PutLogEvents", stream), name
        assert allows(
            policy(name),
            "ec2:CreateNetworkInterface",
            "arn:aws:ec2:REGION:ACCOUNT_ID:subnet/SUBNET_ID",
        ), name


def test_pre_load_cleanup_checks_the_batch_and_starts_glue_only():
    document = policy("lambda_pre_load_cleanup")
    for file in etl.RAW_FILES.values():  # fs.isfile: HeadObject (s3:GetObject), list when missing
        assert allows(document, "s3:GetObject", f"{BATCH}/{file}")
    assert allows(document, "s3:ListBucket", BUCKET, prefix="raw/2024-06-01/train.csv/")
    assert not allows(document, "s3:ListBucket", BUCKET, prefix="retail/")
    assert s3_actions(document) == {"s3:GetObject", "s3:ListBucket"}, "read-only on S3"
    assert allows(document, "glue:StartJobRun", "arn:aws:glue:REGION:ACCOUNT_ID:job/GLUE_JOB_NAME")
    assert not allows(document, "glue:StartJobRun", "arn:aws:glue:REGION:ACCOUNT_ID:job/other")


def test_post_load_upsert_touches_no_s3_and_invokes_only_the_validation():
    document = policy("lambda_post_load_upsert")
    assert s3_actions(document) == set()
    assert allows(
        document,
        "lambda:InvokeFunction",
        "arn:aws:lambda:REGION:ACCOUNT_ID:function:retail-post-load-validation",
    )
    assert not allows(
        document,
        "lambda:InvokeFunction",
        "arn:aws:lambda:REGION:ACCOUNT_ID:function:retail-pre-load-cleanup",
    )


def test_post_load_validation_reads_the_intermediates_and_writes_only_its_report():
    document = policy("lambda_post_load_validation")
    prefix = f"{BUCKET}/retail"
    for name in ("int_stores", "int_store_features", "int_sales_clean"):  # etl.read_intermediate
        assert allows(document, "s3:GetObject", f"{prefix}/{etl.OUTPUTS[name]}"), name
        assert not allows(document, "s3:PutObject", f"{prefix}/{etl.OUTPUTS[name]}"), name
    assert allows(document, "s3:PutObject", f"{prefix}/{etl.OUTPUTS['prm_warehouse_load_report']}")
    assert not allows(document, "s3:GetObject", f"{BATCH}/train.csv")
    assert "s3:DeleteObject" not in s3_actions(document)


def test_glue_job_reads_raw_and_sql_and_writes_its_outputs():
    document = policy("glue_walmart_s3_to_rds")
    for file in etl.RAW_FILES.values():
        assert allows(document, "s3:GetObject", f"{BATCH}/{file}")
    for file in (*etl.SCHEMA_FILES, etl.UPSERT_FILE, etl.MIRROR_FILE):  # download_sql
        assert allows(document, "s3:GetObject", f"{BUCKET}/code/sql/{file}"), file
    for name, path in etl.OUTPUTS.items():  # write_outputs: all but the validation's report
        assert allows(document, "s3:PutObject", f"{BUCKET}/retail/{path}") == (
            name != "prm_warehouse_load_report"
        ), name
    assert not allows(document, "s3:PutObject", f"{BATCH}/train.csv"), "raw files stay read-only"
    assert "s3:DeleteObject" not in s3_actions(document)


def test_sagemaker_role_reads_raw_writes_the_catalog_and_registers():
    from retail_forecasting.aws.sagemaker_pipeline import METRICS_OUTPUT

    document = policy("sagemaker_execution")
    assert allows(document, "s3:GetObject", f"{BATCH}/train.csv")
    assert not allows(document, "s3:PutObject", f"{BATCH}/train.csv")
    for path in (
        "08_reporting/metrics.json",
        *etl.OUTPUTS.values(),
        f"sagemaker/exec-1/{METRICS_OUTPUT}/metrics.json",
    ):
        assert allows(document, "s3:PutObject", f"{BUCKET}/retail/{path}"), path
        assert allows(document, "s3:GetObject", f"{BUCKET}/retail/{path}"), path
    assert allows(
        document, "s3:DeleteObject", f"{BUCKET}/retail/01_raw/synthetic/_synthetic_config.json"
    )
    assert not allows(document, "s3:DeleteObject", f"{BUCKET}/retail/08_reporting/metrics.json")
    assert allows(
        document,
        "sagemaker:CreateModelPackage",
        "arn:aws:sagemaker:REGION:ACCOUNT_ID:model-package/retail-forecasting/3",
    )
    assert allows(
        document, "iam:PassRole", "arn:aws:iam::ACCOUNT_ID:role/retail-forecasting-sagemaker"
    )
    assert allows(
        document, "ecr:BatchGetImage", "arn:aws:ecr:REGION:ACCOUNT_ID:repository/retail-forecasting"
    )


def test_docs_show_the_same_policies():
    """docs/aws.md embeds each policy after a `<!-- infra/iam/NAME.json -->` marker."""
    text = (PROJECT_ROOT / "docs" / "aws.md").read_text()
    shown = dict(re.findall(r"<!-- infra/iam/(\w+)\.json -->\s*```json\n(.*?)```", text, re.DOTALL))
    assert sorted(shown) == POLICIES
    for name, block in shown.items():
        assert json.loads(block) == policy(name), f"docs/aws.md differs from infra/iam/{name}.json"
