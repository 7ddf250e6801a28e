"""Acceptance (scale-out issue) on real data: Hydra sweeps on the joblib and local launchers,
concurrent jobs sharing one results tree and cache (tests/unit/test_scale_out_small.py: shards,
markers, status and in-process sweeps on small tasks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import MINILM, MINILM_REVISION, assert_same_tables, run_cli, run_settings

from harness.api import run
from harness.cache import SHARD_GLOB, cache_entries
from harness.results import read_manifest, read_task_result, run_folder
from harness.status import RUNNING_DIR

MODEL = MINILM
SMALL = ["BIOSSES", "STS13", "STSBenchmark"]


@pytest.fixture(scope="module")
def serial(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One in-process run over the small tasks: the reference every sweep must equal."""
    out = tmp_path_factory.mktemp("serial")
    run([f"tasks.names=[{','.join(SMALL)}]",
         *run_settings(data_root, out, tmp_path_factory.mktemp("serial_cache"))])
    return out


@pytest.fixture(scope="module")
def joblib_sweep(data_root: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """Two jobs at once (joblib, 2 processes) writing one results folder and one cache."""
    out, cache = tmp_path_factory.mktemp("sweep"), tmp_path_factory.mktemp("sweep_cache")
    proc = run_cli("run", "-m", "tasks.names=[BIOSSES],[STS13]", "hydra/launcher=joblib",
                   "hydra.launcher.n_jobs=2", *run_settings(data_root, out, cache))
    return out, cache, proc


def test_two_job_sweep_equals_serial_run(joblib_sweep, serial: Path) -> None:
    out, _, proc = joblib_sweep
    assert proc.returncode == 0, proc.stderr
    assert "sweep of 2 job(s) finished" in proc.stdout
    assert_same_tables(out, serial, ["BIOSSES", "STS13"])


def test_concurrent_jobs_leave_results_manifest_and_cache_complete(
        joblib_sweep, data_root: Path, serial: Path, tmp_path: Path) -> None:
    out, cache, proc = joblib_sweep
    assert proc.returncode == 0, proc.stderr
    folder = run_folder(out, MODEL, MINILM_REVISION)
    assert all(read_task_result(folder / f"{t}.json") for t in ("BIOSSES", "STS13"))
    assert set(read_manifest(folder)["tasks"]) == {"BIOSSES", "STS13"}
    assert not list((folder / RUNNING_DIR).glob("*.json"))
    (entry,) = cache_entries(cache)
    assert len(list((cache / entry.namespace).glob(SHARD_GLOB))) == 2  # one per process
    warm = run(["tasks.names=[BIOSSES,STS13]", *run_settings(data_root, tmp_path, cache)])
    assert warm.texts_encoded == 0 and warm.cache_hits == entry.entries
    assert_same_tables(tmp_path, serial, ["BIOSSES", "STS13"])


def test_sharded_sweep_on_local_launcher_equals_unsharded(data_root: Path, serial: Path,
                                                          tmp_path: Path) -> None:
    proc = run_cli("run", "-m", "shard=0/3,1/3,2/3", f"tasks.names=[{','.join(SMALL)}]",
                   "hydra/launcher=local", "hydra.launcher.cpus_per_task=1",
                   *run_settings(data_root, tmp_path, None))
    assert proc.returncode == 0, proc.stderr
    assert_same_tables(tmp_path, serial, SMALL)
    manifest = read_manifest(run_folder(tmp_path, MODEL, MINILM_REVISION))["tasks"]
    assert sorted(manifest) == sorted(SMALL)
    assert sorted(entry["shard"] for entry in manifest.values()) == ["0/3", "1/3", "2/3"]
