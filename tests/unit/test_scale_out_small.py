"""Scale-out without real data: cost-balanced shards, concurrent manifest and cache writers, task
markers and ``harness status``, Hydra sweeps in-process (basic launcher) on small tasks, and the
Slurm launcher's config composed without a cluster. The joblib and local launchers' parallel
processes are the integration tier's (tests/integration/test_scale_out.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import mteb
import numpy as np
import pytest
from support import (
    MINILM,
    MINILM_REVISION,
    QUICK_TASKS,
    assert_same_tables,
    cli,
    run_settings,
    write_files,
)

from harness.cache import EmbeddingCache
from harness.config import load_config
from harness.results import read_manifest, run_folder
from harness.runner import evaluate, record_task
from harness.sharding import assign_shards, parse_shard, shard_tasks, task_cost
from harness.status import FAILED_DIR, RUNNING_DIR, task_markers, task_state
from harness.tasks import task_objects

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

MODEL = MINILM
SMALL = ["BIOSSES", "STSBenchmark"]


def test_sharded_sweep_equals_unsharded_run(tiny_data_root: Path, tiny_results: Path,
                                            tiny_cache: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep of two shard jobs (Hydra's basic launcher: one after the other, in this
    process) fills one results folder and one manifest, equal to the unsharded run."""
    code, out, err = cli(capsys, "run", "-m", "shard=0/2,1/2", f"tasks.names=[{','.join(SMALL)}]",
                         *run_settings(tiny_data_root, tmp_path, tiny_cache))
    assert code == 0, err
    assert "sweep of 2 job(s) finished" in out
    assert_same_tables(tmp_path, tiny_results.parents[1], SMALL)
    folder = run_folder(tmp_path, MODEL, MINILM_REVISION)
    manifest = read_manifest(folder)["tasks"]
    assert sorted(manifest) == sorted(SMALL)
    assert sorted(entry["shard"] for entry in manifest.values()) == ["0/2", "1/2"]
    assert not list((folder / RUNNING_DIR).glob("*.json"))


@pytest.mark.parametrize("task_list", ["quick", "mteb_eng_v1"])
def test_shards_cover_every_task_exactly_once(task_list: str) -> None:
    tasks = task_objects(load_config([f"tasks={task_list}"]).tasks)
    names = [t.metadata.name for t in tasks]
    shards = [[t.metadata.name for t in shard_tasks(tasks, f"{i}/3")] for i in range(3)]
    assert sorted(sum(shards, [])) == sorted(names)
    assert all(shard for shard in shards)
    assert shards == [[t.metadata.name for t in shard_tasks(tasks, f"{i}/3")] for i in range(3)]
    costs = {t.metadata.name: task_cost(t) for t in tasks}
    loads = [sum(costs[n] for n in shard) for shard in shards]
    assert max(loads) <= 4 / 3 * max(sum(loads) / 3, max(costs.values()))  # LPT's bound
    if task_list == "mteb_eng_v1":  # 56 tasks of very different sizes balance closely
        assert max(loads) < 1.05 * min(loads)


def test_cost_estimate_follows_mteb_statistics() -> None:
    tasks = {t.metadata.name: t for t in task_objects(load_config(["tasks=mteb_eng_v1"]).tasks)}
    assert task_cost(tasks["BIOSSES"]) == 31313  # BIOSSES' number_of_characters
    assert task_cost(tasks["MSMARCO"]) > task_cost(tasks["SciFact"]) > task_cost(tasks["STS13"])
    cqa = tasks["CQADupstackRetrieval"]  # an aggregate without stats of its own: sum of parts
    assert task_cost(cqa) == sum(task_cost(part) for part in cqa.tasks)
    massive = tasks["MassiveIntentClassification"]  # the benchmark keeps only its en subset
    assert task_cost(massive) < task_cost(mteb.get_task("MassiveIntentClassification")) / 20


def test_lpt_assignment_and_shard_syntax() -> None:
    assert assign_shards({"a": 5, "b": 4, "c": 3, "d": 3, "e": 3}, 2) == [["a", "d"],
                                                                         ["b", "c", "e"]]
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "1", "-1/3", "a/b"):
        with pytest.raises(Exception, match="i/n"):
            parse_shard(bad)


def _record_many(folder: Path, worker: int) -> None:
    for number in range(25):
        record_task(folder, {"config": {"worker": worker}}, f"Task{worker}_{number}",
                    {"main_score": number})


def test_manifest_merges_entries_of_concurrent_jobs(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_record_many, args=(tmp_path, w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(read_manifest(tmp_path)["tasks"]) == 100


def _fill_cache(cache: Path, start: int) -> None:
    handle = EmbeddingCache(cache, {"name": "test"})
    for number in range(start, start + 200, 10):
        keys = [n.to_bytes(16, "big") for n in range(number, number + 10)]
        handle.put(keys, np.arange(10 * 4, dtype=np.float32).reshape(10, 4) + number)
    handle.close()


def test_cache_written_by_two_processes_at_once_reads_back(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_fill_cache, args=(tmp_path, start)) for start in (0, 100)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
        assert writer.exitcode == 0
    reader = EmbeddingCache(tmp_path, {"name": "test"})
    found = reader.get([n.to_bytes(16, "big") for n in range(300)])
    assert len(found) == 300 and reader.stats.damaged == 0
    assert all(found[n.to_bytes(16, "big")][0] == n - n % 10 + (n % 10) * 4 for n in range(300))


def test_markers_while_running_after_failure_and_after_success(tmp_path: Path) -> None:
    with task_markers([tmp_path], "BIOSSES"):
        assert task_state(tmp_path, "BIOSSES")["state"] == "running"
    assert task_state(tmp_path, "BIOSSES")["state"] == "missing"
    with pytest.raises(ValueError), task_markers([tmp_path], "BIOSSES"):
        raise ValueError("bad\nthing")
    state = task_state(tmp_path, "BIOSSES")
    assert state["state"] == "failed" and state["error"] == "ValueError: bad thing"
    assert not (tmp_path / RUNNING_DIR / "BIOSSES.json").exists()
    with task_markers([tmp_path], "BIOSSES"):
        pass
    assert not (tmp_path / FAILED_DIR / "BIOSSES.json").exists()


def test_dead_markers(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    marker = tmp_path / RUNNING_DIR / "STS13.json"
    marker.parent.mkdir()
    host = os.uname().nodename
    marker.write_text(json.dumps({"pid": int(gone.stdout), "host": host, "started": 0}))
    assert task_state(tmp_path, "STS13") | {"since": ""} == {
        "state": "dead", "since": "", "where": f"{host}:{gone.stdout.strip()}",
        "error": "process gone"}
    marker.write_text(json.dumps({"pid": 1, "host": "another-node", "started": time.time()}))
    assert task_state(tmp_path, "STS13")["state"] == "running"
    os.utime(marker, (time.time() - 7200, time.time() - 7200))
    assert task_state(tmp_path, "STS13", stale_after=3600)["state"] == "dead"
    assert task_state(tmp_path, "STS13", stale_after=3 * 3600)["state"] == "running"


@pytest.mark.parametrize("launcher", ["slurm", "submitit_slurm"])
def test_slurm_launcher_composes_without_a_cluster(
        launcher: str, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    code = main(["run", "-m", f"hydra/launcher={launcher}", "hydra.launcher.partition=gpu",
                 "hydra.launcher.timeout_min=600", "model=minilm", "tasks=quick,mteb_eng_v1",
                 "--cfg", "hydra"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("SlurmLauncher") == 2  # one config per sweep job
    assert "partition: gpu" in out and "timeout_min: 600" in out


def test_slurm_job_config_composes_as_a_user_types_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", "-m", "hydra/launcher=submitit_slurm", "--cfg", "job")
    assert code == 0, err
    assert f"name: {MODEL}" in out and "shard: null" in out


@pytest.mark.parametrize(("args", "must_name"), [
    (["-m", "model=minilm,nope"], ["model=nope", "'nope'", "minilm"]),
    (["-m", "tasks.names=[BIOSSES],[NotATask]"], ["'NotATask'"]),
    (["hydra/launcher=slurmm"], ["'slurmm'", "slurm", "joblib"]),
    (["-m", "shard=0/2,2/2"], ["shard=2/2", "i/n"]),
    (["-m", "dims=[256"], ["'dims=[256'"]),
])
def test_bad_sweep_fails_in_one_line_before_any_job(
        args: list[str], must_name: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    assert main(["run", *args, f"output_dir={tmp_path}"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert all(fragment in lines[0] for fragment in must_name)
    assert not any(tmp_path.iterdir())  # no job started, no sweep folder made


def test_runner_records_failure_and_status_reports_it(
        tiny_data_root: Path, tiny_results: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from harness import cli, runner

    def broken(task, data_root, identity):
        raise RuntimeError(f"cannot read {task.metadata.name}")

    done = run_folder(tmp_path, MODEL, MINILM_REVISION)
    for name in ("BIOSSES.json", ".protocol/BIOSSES.json"):
        write_files(done, {name: (tiny_results / name).read_bytes()})
    monkeypatch.setattr(runner, "load_task_data", broken)
    with pytest.raises(RuntimeError):
        evaluate(load_config(["tasks.names=[BIOSSES,STS12]",
                              *run_settings(tiny_data_root, tmp_path)]))
    assert cli.main(["status", str(tmp_path), "--tasks", "quick", "--model", "minilm"]) == 0
    text = capsys.readouterr().out
    assert "|      1 |         0 |      0 |        1 |         4 |" in text
    assert "RuntimeError: cannot read STS12" in text
    missing = [t for t in QUICK_TASKS if t not in ("BIOSSES", "STS12")]
    assert all(f"| {t} " in text for t in missing) and "| BIOSSES " not in text
