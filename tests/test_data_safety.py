"""Issue #10: no input can wipe or poison the warehouse. One test per bad input or fault,
on DuckDB and on PostgreSQL where a warehouse is involved: after a good load, the bad one is
refused with a message that says what and where, and the fact table's row count and checksum
are unchanged.

The ingestion pipeline itself runs (up to ``verify_warehouse_load``) on a catalog of the real
dataset classes: raw files from a folder, the warehouse on a DuckDB file or a PostgreSQL
database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.runner import SequentialRunner
from sqlalchemy import create_engine, text

from retail_forecasting.cli import describe_failure, find_input_error
from retail_forecasting.datasets import KaggleRawDataset, WarehouseDataset
from retail_forecasting.datasets.atomic import AtomicParquetDataset, AtomicPartitionedDataset
from retail_forecasting.errors import InputError, LoadRefused, RawDataError, RunLocked
from retail_forecasting.files import replace_whole, write_text_whole
from retail_forecasting.pipelines.ingestion import create_pipeline
from retail_forecasting.pipelines.ingestion.nodes import IngestionParams
from retail_forecasting.runlock import ProjectLock

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL = PROJECT_ROOT / "sql"
FILES = ("train.csv", "features.csv", "stores.csv")


# ------------------------------------------------------------------------------ helpers


@pytest.fixture
def good_dir(tmp_path, tiny_raw_dir) -> Path:
    """A private copy of the tiny synthetic bundle (tests edit it)."""
    directory = tmp_path / "good"
    directory.mkdir()
    for name in FILES:
        shutil.copy(tiny_raw_dir / name, directory / name)
    return directory


def bad_copy(good_dir: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "bad"
    directory.mkdir(exist_ok=True)
    for name in FILES:
        shutil.copy(good_dir / name, directory / name)
    return directory


def ingest(raw_dir: Path, warehouse_url: str, **params) -> dict:
    """Run the ingestion pipeline up to the post-load check; returns its outputs."""
    pipeline = create_pipeline().to_nodes("verify_warehouse_load")
    catalog = DataCatalog(
        {
            "raw_train": KaggleRawDataset(file="train.csv", raw_data_dir=str(raw_dir)),
            "raw_features": KaggleRawDataset(file="features.csv", raw_data_dir=str(raw_dir)),
            "raw_stores": KaggleRawDataset(file="stores.csv", raw_data_dir=str(raw_dir)),
            "params:ingestion": MemoryDataset(IngestionParams(**params)),
            "warehouse": WarehouseDataset(
                credentials={"con": warehouse_url},
                schema_files=[
                    str(SQL / "01_create_schema.sql"),
                    str(SQL / "02_create_analytics_view.sql"),
                ],
                upsert_file=str(SQL / "03_upsert_from_staging.sql"),
            ),
        }
    )
    return SequentialRunner().run(pipeline, catalog)


def fact_state(warehouse_url: str) -> tuple:
    """(rows, stores, checksum) of retailds.fact_sales_weekly, read on a fresh connection."""
    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows, stores = conn.execute(
                text("SELECT COUNT(*), COUNT(DISTINCT store_id) FROM retailds.fact_sales_weekly")
            ).one()
            checksum = conn.execute(
                text(
                    "SELECT md5(string_agg(CAST(store_id AS VARCHAR)"
                    " || '|' || CAST(dept_id AS VARCHAR)"
                    " || '|' || CAST(week_date AS VARCHAR) || '|' || CAST(weekly_sales AS VARCHAR),"
                    " ',' ORDER BY store_id, dept_id, week_date)) FROM retailds.fact_sales_weekly"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(rows), int(stores), checksum


def refused(exc_info) -> InputError:
    """The InputError behind a runner failure (Kedro may wrap dataset errors)."""
    error = find_input_error(exc_info.value)
    assert error is not None, f"not an InputError: {exc_info.value!r}"
    return error


@pytest.fixture
def loaded(warehouse_url, good_dir):
    """A good load done: (warehouse_url, good_dir, state before the bad input)."""
    ingest(good_dir, warehouse_url)
    state = fact_state(warehouse_url)
    assert state[0] > 0
    return warehouse_url, good_dir, state


# ------------------------------------------------------------------------------ the table


def test_a_header_only_train_csv_is_refused_and_the_warehouse_kept(loaded, tmp_path):
    warehouse_url, good_dir, before = loaded
    bad = bad_copy(good_dir, tmp_path)
    (bad / "train.csv").write_text("Store,Dept,Date,Weekly_Sales,IsHoliday\n")
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    error = refused(info)
    assert isinstance(error, RawDataError)
    assert "train.csv" in str(error) and "no data rows" in str(error)
    assert fact_state(warehouse_url) == before


def test_half_a_train_csv_is_refused_with_what_it_would_delete(loaded, tmp_path):
    warehouse_url, good_dir, before = loaded
    bad = bad_copy(good_dir, tmp_path)
    lines = (good_dir / "train.csv").read_text().splitlines(keepends=True)
    (bad / "train.csv").write_text("".join(lines[: len(lines) // 2]))  # cut at a line break
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    error = refused(info)
    assert isinstance(error, LoadRefused)
    message = str(error)
    assert "fact_sales_weekly" in message and "Nothing was written" in message
    assert "store(s)" in message and "ingestion.load.allow_shrink=true" in message
    assert "ingestion.load.mode=incremental" in message
    assert fact_state(warehouse_url) == before


def test_shrinking_on_purpose_and_incremental_loads(loaded, tmp_path):
    warehouse_url, good_dir, before = loaded
    train = pd.read_csv(good_dir / "train.csv")
    last_weeks = sorted(train["Date"].unique())[-4:]
    # incremental: a file of the last 4 weeks with corrected sales adds/updates, deletes nothing
    bad = bad_copy(good_dir, tmp_path)
    corrected = train[train["Date"].isin(last_weeks)].assign(
        Weekly_Sales=lambda f: f["Weekly_Sales"] + 1
    )
    corrected.to_csv(bad / "train.csv", index=False)
    ingest(bad, warehouse_url, load={"mode": "incremental"})
    rows, stores, checksum = fact_state(warehouse_url)
    assert (rows, stores) == before[:2] and checksum != before[2]
    # the same file as a mirror load would delete most rows: refused...
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    assert isinstance(refused(info), LoadRefused)
    # ... unless asked for on purpose
    ingest(bad, warehouse_url, load={"allow_shrink": True})
    assert fact_state(warehouse_url)[0] == len(corrected)


@pytest.mark.parametrize(
    "value, problem", [("1e15", "above the plausible maximum"), ("inf", "not finite")]
)
def test_implausible_sales_are_refused_with_line_and_value(loaded, tmp_path, value, problem):
    warehouse_url, good_dir, before = loaded
    bad = bad_copy(good_dir, tmp_path)
    lines = (good_dir / "train.csv").read_text().splitlines(keepends=True)
    fields = lines[10].rstrip("\n").split(",")
    fields[3] = value
    lines[10] = ",".join(fields) + "\n"
    (bad / "train.csv").write_text("".join(lines))
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    message = str(refused(info))
    assert problem in message and "line 11" in message and "Weekly_Sales" in message
    assert fact_state(warehouse_url) == before


def test_sales_far_beyond_their_department_are_refused(good_dir, tmp_path, warehouse_url):
    bad = bad_copy(good_dir, tmp_path)
    train = pd.read_csv(good_dir / "train.csv")
    dept = train["Dept"].iloc[0]
    top = train.loc[train["Dept"] == dept, "Weekly_Sales"].abs().quantile(0.99)
    train.loc[5, ["Dept", "Weekly_Sales"]] = [dept, 500 * max(top, 10_000)]  # < absolute cap
    train.to_csv(bad / "train.csv", index=False)
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    message = str(refused(info))
    assert "99th percentile of their department" in message and "line 7" in message


def test_other_columns_have_plausible_ranges(good_dir, tmp_path, warehouse_url):
    bad = bad_copy(good_dir, tmp_path)
    features = pd.read_csv(good_dir / "features.csv")
    features.loc[0, "Temperature"] = 500.0
    features.to_csv(bad / "features.csv", index=False)
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    message = str(refused(info))
    assert "features.csv, column 'Temperature'" in message and "line 2" in message
    assert "500" in message


def test_an_empty_staging_area_is_refused_by_the_shared_function(loaded):
    from retail_forecasting import warehouse

    warehouse_url, _, before = loaded
    engine = create_engine(warehouse_url)
    try:
        with pytest.raises(LoadRefused, match="the batch is empty"):
            with engine.begin() as conn:
                warehouse.apply_staged(
                    conn,
                    SQL / "03_upsert_from_staging.sql",
                    warehouse.LoadPolicy(allow_shrink=True),
                )
    finally:
        engine.dispose()
    assert fact_state(warehouse_url) == before


# ------------------------------------------------------------------------------ concurrency


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from retail_forecasting.runlock import ProjectLock
    lock = ProjectLock(sys.argv[1]); lock.acquire("pipeline __default__, command: kedro run")
    print("locked", flush=True); time.sleep(60)
    """
)


def hold(script: str, *args: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_run_on_one_project_is_refused_naming_the_first(tmp_path):
    lock_file = tmp_path / ".kedro-run.lock"
    other = hold(HOLD_LOCK, str(lock_file))
    try:
        with pytest.raises(RunLocked, match=f"PID {other.pid}.*pipeline __default__"):
            ProjectLock(lock_file).acquire()
    finally:
        other.kill()
        other.wait()
    lock = ProjectLock(lock_file)  # the OS released it with the process: no stale lock
    lock.acquire()
    lock.release()


@pytest.mark.slow
def test_a_session_run_is_refused_while_another_holds_the_project(project_copy):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    other = hold(HOLD_LOCK, str(project_copy / ".kedro-run.lock"))
    try:
        bootstrap_project(project_copy)
        with KedroSession.create(project_path=project_copy) as session:
            with pytest.raises(RunLocked, match=f"PID {other.pid}"):
                session.run(pipeline_name="ingestion")
    finally:
        other.kill()
        other.wait()
    assert not list((project_copy / "data").rglob("*.parquet")), "nothing was written"


@pytest.mark.postgres
def test_a_postgres_load_waits_for_no_one_and_names_the_other_backend(postgres_url, good_dir):
    from retail_forecasting import warehouse

    warehouse_url = postgres_url
    ingest(good_dir, warehouse_url)
    before = fact_state(warehouse_url)
    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": warehouse.ADVISORY_LOCK_KEY})
            pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with pytest.raises(Exception) as info:
                ingest(good_dir, warehouse_url)
            holder.execute(
                text("SELECT pg_advisory_unlock(:k)"), {"k": warehouse.ADVISORY_LOCK_KEY}
            )
            holder.commit()
    finally:
        engine.dispose()
    error = refused(info)
    assert isinstance(error, RunLocked) and f"PID {pid}" in str(error)
    assert fact_state(warehouse_url) == before


HOLD_DUCKDB = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True); time.sleep(60)
    """
)


def test_a_duckdb_file_in_use_gives_a_readable_refusal(tmp_path, good_dir):
    path = tmp_path / "warehouse.duckdb"
    warehouse_url = f"duckdb:///{path}"
    ingest(good_dir, warehouse_url)
    before = fact_state(warehouse_url)
    other = hold(HOLD_DUCKDB, str(path))
    try:
        with pytest.raises(Exception) as info:
            ingest(good_dir, warehouse_url)
    finally:
        other.kill()
        other.wait()
    message = str(refused(info))
    assert f"PID {other.pid}" in message and "in use by another process" in message
    assert fact_state(warehouse_url) == before


def test_parquet_files_are_whole_or_untouched(tmp_path):
    target = tmp_path / "int" / "frame.parquet"
    dataset = AtomicParquetDataset(filepath=str(target))
    good = pd.DataFrame({"a": [1, 2, 3]})
    dataset.save(good)
    with pytest.raises(DatasetError):
        dataset.save(pd.DataFrame({"a": [object()]}))  # pyarrow cannot write it: fails mid-save
    pd.testing.assert_frame_equal(dataset.load(), good)
    assert sorted(p.name for p in target.parent.iterdir()) == ["frame.parquet"], "no temp file"


def test_small_files_are_written_whole_or_untouched(tmp_path):
    """The alerts file and the provenance stamps go through files.write_text_whole."""
    target = tmp_path / "alerts.json"
    write_text_whole(target, "good")

    def fails(temporary):
        temporary.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_whole(target, fails)
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["alerts.json"], "no temp file"


def test_partitioned_folders_are_replaced_whole_or_untouched(tmp_path):
    target = tmp_path / "out" / "per_model"
    dataset = AtomicPartitionedDataset(
        path=str(target),
        dataset="retail_forecasting.datasets.atomic.AtomicParquetDataset",
        filename_suffix=".parquet",
    )
    made = []

    def part(value):
        def make():
            made.append(value)
            return pd.DataFrame({"a": [value]})

        return make

    dataset.save({"x": part(1), "y": part(2)})
    assert made == [1, 2]  # lazily, one partition after the other

    def broken():
        raise RuntimeError("the third model failed")

    with pytest.raises(DatasetError, match="third model failed"):
        dataset.save({"x": part(3), "z": broken})
    loaded = dataset.load()
    assert sorted(loaded) == ["x", "y"] and loaded["x"]().loc[0, "a"] == 1  # the earlier set
    dataset.save({"z": part(4)})
    assert sorted(dataset.load()) == ["z"]  # no partition survives from an earlier save
    assert sorted(p.name for p in target.parent.iterdir()) == ["per_model"], "no temp folder"


# ------------------------------------------------------------------------------ raw files


def load_refusal(dataset: KaggleRawDataset) -> str:
    with pytest.raises(Exception) as info:
        dataset.load()
    error = refused(info)
    assert isinstance(error, RawDataError)
    return str(error)


def test_a_zero_byte_file_is_named_with_its_size(good_dir, tmp_path):
    bad = bad_copy(good_dir, tmp_path)
    (bad / "features.csv").write_bytes(b"")
    message = load_refusal(KaggleRawDataset(file="features.csv", raw_data_dir=str(bad)))
    assert "features.csv is empty (0 bytes)" in message


def test_a_file_cut_mid_line_is_refused_with_its_line(good_dir, tmp_path):
    bad = bad_copy(good_dir, tmp_path)
    content = (good_dir / "train.csv").read_bytes()
    cut = content[: content.index(b"\n", len(content) // 2) + 8]  # 8 bytes into a line
    (bad / "train.csv").write_bytes(cut)
    line = cut.count(b"\n") + 1
    message = load_refusal(KaggleRawDataset(file="train.csv", raw_data_dir=str(bad)))
    assert re.search(rf"train.csv, line {line}: \d of 5 fields.*cut off mid-line", message)


def test_raw_data_dir_pointing_at_a_file_says_so(good_dir):
    dataset = KaggleRawDataset(file="train.csv", raw_data_dir=str(good_dir / "train.csv"))
    assert "is a file, not a folder" in load_refusal(dataset)


def test_empty_required_cells_give_clean_examples(good_dir, tmp_path, warehouse_url):
    bad = bad_copy(good_dir, tmp_path)
    train = pd.read_csv(good_dir / "train.csv")
    train.loc[[3, 4], "Date"] = None
    train.to_csv(bad / "train.csv", index=False)
    with pytest.raises(Exception) as info:
        ingest(bad, warehouse_url)
    message = str(refused(info))
    assert "column 'Date': 2 row(s) are empty" in message
    assert "line 5: Store=" in message and "Name:" not in message and "\n" not in message


# ------------------------------------------------------------------------------ the console


def test_the_failure_block_is_short_and_points_at_the_log():
    try:
        try:
            raise RawDataError("train.csv, column 'Date': 1 row(s) are empty. Examples: line 2")
        except RawDataError as inner:
            raise RuntimeError("wrapped by the runner") from inner
    except RuntimeError as exc:
        block = describe_failure(exc, Path("logs/run_errors.log"))
    assert "train.csv, column 'Date'" in block and "logs/run_errors.log" in block
    assert "Traceback" not in block and len(block.splitlines()) <= 8
    bug = describe_failure(KeyError("x"), None)
    assert "unexpected error" in bug and "KeyError" in bug


@pytest.mark.slow
def test_kedro_run_prints_one_block_and_keeps_the_traceback(project_copy, good_dir, tmp_path):
    bad = bad_copy(good_dir, tmp_path)
    (bad / "train.csv").write_text("Store,Dept,Date,Weekly_Sales,IsHoliday\n")
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "COLUMNS": "200", "KEDRO_DISABLE_TELEMETRY": "1"}
    env.pop("RETAIL_FORECASTING_VERBOSE", None)
    result = subprocess.run(
        [str(kedro), "run", "--pipelines", "ingestion", "--params", f"raw_data_dir={bad}"],
        cwd=project_copy,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Traceback" not in output and "╭" not in output
    # kedro-mlflow logs one "was closed" line per stale entry of MLflow's run stack (6 seen)
    assert "was closed because of an error" not in output
    assert "train.csv: the file has a header" in result.stderr
    assert "logs/run_errors.log" in result.stderr
    log = (project_copy / "logs" / "run_errors.log").read_text()
    assert "Traceback" in log and "RawDataError" in log


def test_the_lock_file_names_the_running_pipeline(tmp_path):
    from types import SimpleNamespace

    from retail_forecasting.runlock import LOCK_FILE, RunLockHook

    hook = RunLockHook()
    hook.after_context_created(SimpleNamespace(project_path=tmp_path))
    hook.before_pipeline_run({"pipeline_names": ["ingestion", "eda"], "pipeline_name": None})
    try:
        content = (tmp_path / LOCK_FILE).read_text()
        assert f"PID {os.getpid()}" in content and "pipeline ingestion, eda" in content
        with pytest.raises(RunLocked):
            ProjectLock(tmp_path / LOCK_FILE).acquire()  # a second handle: refused
    finally:
        hook.on_pipeline_error()
    ProjectLock(tmp_path / LOCK_FILE).acquire()  # released on error


def test_the_package_entry_point_runs_the_same_run_command():
    """`python -m retail_forecasting` / `retail-forecasting` (Kedro's find_run_command) and
    `kedro run` (the project's cli group) are one command."""
    from kedro.framework.cli.utils import find_run_command

    from retail_forecasting import cli

    assert find_run_command("retail_forecasting") is cli.run
    assert cli.cli.commands["run"] is cli.run
    assert "--verbose" in {opt for p in cli.run.params for opt in p.opts}
