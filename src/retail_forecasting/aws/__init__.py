"""The AWS path: S3 + RDS + MLflow server (``kedro run --env sagemaker``), the container's
entry point, the SageMaker Pipeline builder, and the shared functions of the Glue job and the
Lambdas. See docs/aws.md.

Modules import AWS libraries lazily: the package works without the ``aws`` extra, which only
the pipeline builder (SageMaker SDK) and the Lambdas/Glue job run outside AWS (boto3) need.
"""
