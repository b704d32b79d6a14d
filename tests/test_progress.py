"""Progress of long steps (retail_forecasting.progress) and of the nodes of a run
(retail_forecasting.node_progress): a line per item with elapsed time and time left."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from retail_forecasting.node_progress import TIMINGS_FILE, NodeProgressHook
from retail_forecasting.progress import Progress, clock_time


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (59.6, "1:00"), (125, "2:05"), (3725, "1:02:05"), (-3, "0:00")],
)
def test_clock_time(seconds, text):
    assert clock_time(seconds) == text


def test_a_step_logs_each_item_with_its_time_elapsed_and_an_estimate_of_what_is_left(caplog):
    clock = Clock()
    progress = Progress("Tuning lightgbm", 4, logging.getLogger("test.progress"), clock=clock)
    lines = []
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for seconds in (10, 30, 20, 20):
            clock.now += seconds
            lines.append(progress.done(f"candidate took {seconds}"))
    assert lines == [
        "Tuning lightgbm 1/4: candidate took 10 (10.0 s; 0:10 elapsed, about 0:30 left)",
        "Tuning lightgbm 2/4: candidate took 30 (30.0 s; 0:40 elapsed, about 0:40 left)",
        "Tuning lightgbm 3/4: candidate took 20 (20.0 s; 1:00 elapsed, about 0:20 left)",
        "Tuning lightgbm 4/4: candidate took 20 (20.0 s; 1:20 elapsed)",  # the last: nothing left
    ]
    assert [r.getMessage() for r in caplog.records] == lines
    assert progress.remaining() == 0


def test_an_estimate_under_a_second_is_left_out():
    clock = Clock()
    progress = Progress("Backtest fold", 3, clock=clock)
    clock.now += 0.2
    assert progress.done() == "Backtest fold 1/3 (0.2 s; 0:00 elapsed)"


def _pipeline(*names):
    return SimpleNamespace(nodes=[SimpleNamespace(name=n) for n in names])


def _run(hook, clock, project, durations, raw_data_dir=""):
    run_params = {
        "project_path": str(project),
        "runtime_params": {"raw_data_dir": raw_data_dir} if raw_data_dir else {},
    }
    hook.before_pipeline_run(run_params=run_params, pipeline=_pipeline(*durations))
    for name, seconds in durations.items():
        hook.before_node_run(node=SimpleNamespace(name=name))
        clock.now += seconds
        hook.after_node_run(node=SimpleNamespace(name=name))
    hook.after_pipeline_run()


def test_one_line_per_node_and_the_estimate_comes_from_the_last_run_on_the_same_data(
    tmp_path, caplog
):
    clock = Clock()
    hook = NodeProgressHook(clock=clock)
    durations = {"ingest": 5.0, "lightgbm.tune_model": 40.0, "evaluate": 15.0}
    with caplog.at_level(logging.INFO, logger="retail_forecasting.node_progress"):
        _run(hook, clock, tmp_path, durations)
    first = [r.getMessage() for r in caplog.records]
    # a first run knows no timings: no estimate
    assert first == [
        "Running 3 nodes",
        "Node 1/3 ingest (0:00 elapsed)",
        "Node 2/3 lightgbm.tune_model (0:05 elapsed)",
        "Node 3/3 evaluate (0:45 elapsed)",
        "Completed 3 nodes in 1:00",
    ]
    saved = json.loads((tmp_path / TIMINGS_FILE).read_text(encoding="utf-8"))
    assert saved == {"synthetic": durations}

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retail_forecasting.node_progress"):
        _run(hook, clock, tmp_path, durations)
    assert [r.getMessage() for r in caplog.records][1:4] == [
        "Node 1/3 ingest (0:00 elapsed, about 1:00 left)",
        "Node 2/3 lightgbm.tune_model (0:05 elapsed, about 0:55 left; took 0:40 last run)",
        "Node 3/3 evaluate (0:45 elapsed, about 0:15 left; took 0:15 last run)",
    ]

    # the real data is timed apart from the synthetic data
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retail_forecasting.node_progress"):
        _run(hook, clock, tmp_path, {"ingest": 50.0}, raw_data_dir="/data/walmart")
    assert [r.getMessage() for r in caplog.records][1] == "Node 1/1 ingest (0:00 elapsed)"
    saved = json.loads((tmp_path / TIMINGS_FILE).read_text(encoding="utf-8"))
    assert saved["real:/data/walmart"] == {"ingest": 50.0} and saved["synthetic"] == durations


def test_a_node_never_timed_leaves_the_estimate_out_and_a_broken_file_is_ignored(tmp_path, caplog):
    (tmp_path / TIMINGS_FILE).parent.mkdir(parents=True)
    (tmp_path / TIMINGS_FILE).write_text(json.dumps({"synthetic": {"a": 5.0}}), encoding="utf-8")
    clock = Clock()
    hook = NodeProgressHook(clock=clock)
    with caplog.at_level(logging.INFO, logger="retail_forecasting.node_progress"):
        _run(hook, clock, tmp_path, {"a": 1.0, "b": 2.0})
    assert [r.getMessage() for r in caplog.records][1:3] == [
        "Node 1/2 a (0:00 elapsed)",
        "Node 2/2 b (0:01 elapsed)",
    ]

    (tmp_path / TIMINGS_FILE).write_text("{not json", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retail_forecasting.node_progress"):
        _run(hook, clock, tmp_path, {"a": 1.0})
    assert [r.getMessage() for r in caplog.records][1] == "Node 1/1 a (0:00 elapsed)"
    assert json.loads((tmp_path / TIMINGS_FILE).read_text(encoding="utf-8")) == {
        "synthetic": {"a": 1.0}
    }


def test_an_item_that_takes_long_gets_still_running_lines_until_it_finishes(caplog):
    import time

    with caplog.at_level(logging.INFO, logger="test.heartbeat"):
        progress = Progress(
            "Tuning xgboost", 2, logging.getLogger("test.heartbeat"), heartbeat=0.05
        )
        time.sleep(0.01)
        progress.done("quick")
        time.sleep(0.3)  # the second item takes six heartbeats
        beats = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
        progress.done("slow")
        time.sleep(0.2)  # finished: no more heartbeats
    after = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    assert len(beats) >= 2 and after == beats
    assert beats[0].startswith("Tuning xgboost 2/2 still running (0:00 on it; 0:00 elapsed")


def test_a_loop_that_raises_stops_its_heartbeat(caplog):
    import gc
    import time

    def loop():
        progress = Progress(
            "Backtest fold", 3, logging.getLogger("test.heartbeat2"), heartbeat=0.05
        )
        progress.done()
        raise RuntimeError("fold failed")

    with caplog.at_level(logging.INFO, logger="test.heartbeat2"):
        with pytest.raises(RuntimeError):
            loop()
        gc.collect()
        time.sleep(0.3)
    assert not [r for r in caplog.records if "still running" in r.getMessage()]
