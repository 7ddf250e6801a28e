"""One run's encoding spread over worker processes, one per device (``devices=[cpu,cpu]`` here,
``device=cuda:all`` or ``devices=[0,1]`` on a GPU node): the same scores as one device, each
worker writing its own cache shard; a worker's error or death is one line."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import torch
from support import assert_same_scores, cli, minilm_folder, run_settings

from harness.cache import cache_entries
from harness.config import load_config
from harness.errors import HarnessRuntimeError, ModelLoadError
from harness.models.device import resolve_devices
from harness.results import read_task_result
from harness.vectors import VectorStore
from harness.workers import EncodePool, WorkerSpec

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

TASKS = ["BIOSSES", "SciFact"]


def test_two_cpu_workers_score_as_one_device(tiny_data_root: Path, tiny_results: Path,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    code, out, err = cli(capsys, "run", f"tasks.names=[{','.join(TASKS)}]", "devices=[cpu,cpu]",
                         *run_settings(tiny_data_root, tmp_path / "out", cache))
    assert code == 0, err
    (entry,) = cache_entries(cache)
    assert f"texts encoded {entry.entries}" in out and entry.entries > 0
    shards = sorted(cache.rglob("shard-*.bin"))
    assert len(shards) == 2 and not [s for s in shards if f"-{os.getpid()}-" in s.name]
    for task in TASKS:  # tiny_results: the same tasks on one device
        ours = read_task_result(minilm_folder(tmp_path / "out") / f"{task}.json")
        assert_same_scores(ours, read_task_result(tiny_results / f"{task}.json"))


def _one_worker(tmp_path: Path, path: str | None = None, threads: int = 1):
    """A pool of one CPU worker for the embedded model (loaded from ``path`` when given: the
    worker, not this process, finds out it cannot be loaded)."""
    model = load_config([]).model
    if path is not None:
        model = dataclasses.replace(model, path=path)
    spec = WorkerSpec(model, "fp32", 4, 1024, False, threads)
    return EncodePool(["cpu"], spec, show_progress=False), VectorStore(None)


def test_a_workers_error_is_raised_here(tmp_path: Path) -> None:
    pool, store = _one_worker(tmp_path, str(tmp_path / "no-such-model"))
    try:
        with pytest.raises(ModelLoadError, match="no-such-model"):
            pool.encode("", [(b"k" * 16, "a text")], store.location(), "test", 256)
    finally:
        pool.close()
        store.close()


def test_a_worker_that_dies_is_an_error(tmp_path: Path) -> None:
    pool, store = _one_worker(tmp_path, threads=0)  # torch refuses 0 threads: the worker exits
    try:
        with pytest.raises(HarnessRuntimeError, match=r"worker on cpu died \(exit code 1\)"):
            pool.encode("", [(b"k" * 16, "a text")], store.location(), "test", 256)
    finally:
        pool.close()
        store.close()


@pytest.mark.parametrize(("overrides", "names"), [
    (["devices=[cpu,cuda:0]"], ["mixes cpu and cuda"]),
    (["device=cpu", "devices=[cpu,cpu]"], ["device=cpu", "give one of them"]),
    (["devices=[gpu0]"], ["'gpu0'", "cuda:N"]),
    (["device=cuda:any"], ["'cuda:any'", "cuda:all"]),
    (["devices=[]"], ["names no device"]),
])
def test_bad_devices_fail_in_one_line(overrides: list[str], names: list[str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "run", f"output_dir={tmp_path}", *overrides)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert all(name in lines[0] for name in names), lines[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without a GPU")
@pytest.mark.parametrize(("device", "devices"), [("cuda:all", None), ("auto", ["0", "1"])])
def test_gpu_devices_without_a_gpu_are_usage_errors(device: str, devices: list[str] | None
                                                    ) -> None:
    with pytest.raises(Exception, match="no CUDA GPU is visible"):
        resolve_devices(device, devices)


def test_device_lists_resolve() -> None:
    assert resolve_devices("auto", ["cpu", "cpu"]) == ["cpu", "cpu"]
    assert resolve_devices("cpu", None) == ["cpu"]
