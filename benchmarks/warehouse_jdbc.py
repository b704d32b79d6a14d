"""The warehouse path against Spark's JDBC, same data, back to back (docs/scale.md, issue #17).

Needs a PostgreSQL warehouse already loaded (e.g. by ``kedro run --env local --pipeline
ingestion``) and that run's ``data/02_intermediate`` (``int_sales_clean.parquet``), PySpark
(``pip install -e ".[spark]"``) and the PostgreSQL JDBC driver jar. Prints, for the view
``retailds.vw_sales_analytics`` and the staging table ``stg_sales_weekly``:

- the read into pandas by ``ChunkedQueryDataset`` (the catalog's dtypes) and by
  ``spark.read.jdbc`` (partitioned by store) + ``toPandas`` (``--skip-topandas`` to leave it
  out: at 10x it does not fit a 2 GB driver);
- the write by the streamed COPY (``CsvChunks``) and by ``DataFrame.write.jdbc`` (batched
  INSERTs, one transaction per partition); the staging table is emptied after each.

    python benchmarks/warehouse_jdbc.py --db eng_wh --int-dir /tmp/run/data/02_intermediate \\
        --jar ~/.m2/repository/org/postgresql/postgresql/42.7.13/postgresql-42.7.13.jar
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
from pathlib import Path

import pandas as pd
import yaml
from sqlalchemy import create_engine, text

from retail_forecasting.warehouse import bulk_load
from retail_forecasting.warehouse.dataset import ChunkedQueryDataset

ROOT = Path(__file__).resolve().parents[1]
VIEW_SQL = "SELECT * FROM retailds.vw_sales_analytics ORDER BY store, dept, date"
SALES_COLUMNS = ["store_id", "dept_id", "week_date", "weekly_sales", "is_holiday"]


def child_rss_mib() -> dict[str, float]:
    """Resident memory (MiB) of this process and its descendants (the JVM), by command name."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,rss,comm"], capture_output=True, text=True)
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        pid, ppid, rss, comm = line.split(None, 3)
        rows[int(pid)] = (int(ppid), int(rss), comm.strip())
    mine = {os.getpid()}
    grew = True
    while grew:
        new = {pid for pid, (ppid, _, _) in rows.items() if ppid in mine} - mine
        mine |= new
        grew = bool(new)
    return {rows[p][2]: round(rows[p][1] / 1024) for p in mine if p in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="PostgreSQL database of a loaded warehouse")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--int-dir", required=True, type=Path)
    parser.add_argument("--jar", required=True, type=Path, help="PostgreSQL JDBC driver jar")
    parser.add_argument("--skip-topandas", action="store_true")
    args = parser.parse_args()
    url = f"postgresql+psycopg2://{args.user}@{args.host}:5432/{args.db}"
    jdbc = f"jdbc:postgresql://{args.host}:5432/{args.db}"
    props = {"user": args.user, "driver": "org.postgresql.Driver"}
    catalog = yaml.safe_load((ROOT / "conf/base/catalog_03_primary.yml").read_text())
    dtypes = catalog["prm_sales_analytics"]["dtypes"]
    print(f"load average before {os.getloadavg()}")

    t = time.perf_counter()
    view = ChunkedQueryDataset(sql=VIEW_SQL, credentials={"con": url}, dtypes=dtypes).load()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"pandas chunked read: {len(view)} rows {time.perf_counter() - t:.1f} s, "
        f"python maxrss {maxrss:.0f} MiB"
    )
    sales = pd.read_parquet(args.int_dir / "int_sales_clean.parquet")
    renames = {"store": "store_id", "dept": "dept_id", "date": "week_date"}
    sales = sales.rename(columns=renames)[SALES_COLUMNS]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM retailds.stg_sales_weekly"))
        t = time.perf_counter()
        bulk_load(conn, "stg_sales_weekly", sales)
        print(f"streamed COPY write: {len(sales)} rows {time.perf_counter() - t:.1f} s")
        conn.execute(text("DELETE FROM retailds.stg_sales_weekly"))

    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.jars", str(args.jar))
        .config("spark.driver.memory", "2g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        t = time.perf_counter()
        frame = spark.read.jdbc(
            jdbc,
            "retailds.vw_sales_analytics",
            column="store",
            lowerBound=1,
            upperBound=int(view["store"].max()),
            numPartitions=2,
            properties=props,
        )
        rows = frame.count()
        print(f"spark jdbc read (count, 2 partitions): {rows} rows {time.perf_counter() - t:.1f} s")
        if not args.skip_topandas:
            t = time.perf_counter()
            collected = frame.orderBy("store", "dept", "date").toPandas()
            print(
                f"spark jdbc read + toPandas: {len(collected)} rows "
                f"{time.perf_counter() - t:.1f} s; rss {child_rss_mib()}"
            )
        staged = spark.createDataFrame(sales).cache()
        staged.count()
        t = time.perf_counter()
        staged.write.jdbc(
            jdbc,
            "retailds.stg_sales_weekly",
            mode="append",
            properties={**props, "batchsize": "10000"},
        )
        print(
            f"spark jdbc write ({staged.rdd.getNumPartitions()} partitions): {len(sales)} rows "
            f"{time.perf_counter() - t:.1f} s; rss {child_rss_mib()}"
        )
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM retailds.stg_sales_weekly"))
        engine.dispose()
        spark.stop()
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
