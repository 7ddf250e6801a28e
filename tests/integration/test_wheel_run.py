"""Acceptance 1 of the packaging issue: ``harness run 'tasks.names=[STSBenchmark]'`` with the
wheel installed in a fresh virtualenv, from another directory, on data imported by that
installed ``harness data import``; its score equals the checkout's in-process run."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import MINILM, MINILM_REVISION, SHARED_DATA, run_installed, wheel_venv

from harness.api import run
from harness.results import read_task_result, run_folder


def test_installed_harness_runs_stsbenchmark_from_another_directory(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    venv_bin = wheel_venv(tmp_path_factory.mktemp("wheel"))
    data_root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    imported = run_installed(venv_bin, "data", "import", str(SHARED_DATA / "stsbenchmark"),
                             "--out", str(data_root), cwd=elsewhere)
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert "STSBenchmark ->" in imported.stdout
    proc = run_installed(venv_bin, "run", "tasks.names=[STSBenchmark]", f"data_root={data_root}",
                         "output_dir=out", "cache_dir=null", "show_progress=false",
                         cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "evaluated 1, already done 0" in proc.stdout
    installed = read_task_result(
        run_folder(elsewhere / "out", MINILM, MINILM_REVISION) / "STSBenchmark.json")
    run(["tasks.names=[STSBenchmark]", f"data_root={data_root}", f"output_dir={tmp_path / 'ref'}",
         "cache_dir=null", "show_progress=false"])
    ours = read_task_result(
        run_folder(tmp_path / "ref", MINILM, MINILM_REVISION) / "STSBenchmark.json")
    assert abs(installed.main_score - ours.main_score) <= 1e-6
