"""Ingestion pipeline: the original S3 -> Glue -> RDS ETL, its Lambdas and manifests as nodes."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.ingestion import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.validate_stores,
                ["raw_stores", "params:ingestion"],
                "int_stores",
                name="validate_stores",
            ),
            Node(
                nodes.validate_store_features,
                ["raw_features", "int_stores", "params:ingestion"],
                "int_store_features",
                name="validate_store_features",
            ),
            Node(
                nodes.validate_sales,
                ["raw_train", "int_stores", "int_store_features", "params:ingestion"],
                "int_sales",
                name="validate_sales",
            ),
            Node(
                nodes.clean_sales,
                ["int_sales", "params:ingestion"],
                ["int_sales_clean", "int_cleaning_report"],
                name="clean_sales",
            ),
            Node(
                nodes.build_input_manifest,
                [
                    "raw_train",
                    "raw_features",
                    "raw_stores",
                    "int_cleaning_report",
                    "prm_warehouse_load_report",
                ],
                "rpt_input_manifest",
                name="build_input_manifest",
            ),
            Node(
                nodes.prepare_warehouse_batch,
                ["int_stores", "int_store_features", "int_sales_clean", "params:ingestion"],
                "warehouse",
                name="load_warehouse",
            ),
            Node(
                nodes.verify_warehouse_load,
                [
                    "warehouse",
                    "int_stores",
                    "int_store_features",
                    "int_sales_clean",
                    "params:ingestion",
                ],
                "prm_warehouse_load_report",
                name="verify_warehouse_load",
            ),
            Node(
                nodes.split_chronologically,
                [
                    "prm_sales_analytics",
                    "prm_warehouse_load_report",
                    "params:horizon_weeks",
                    "params:ingestion",
                ],
                ["prm_train", "prm_validation", "prm_test", "prm_split_summary"],
                name="split_chronologically",
            ),
        ]
    )
