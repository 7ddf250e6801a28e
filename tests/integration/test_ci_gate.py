"""Acceptance: the CI gate on the committed baseline of the embedded model's `ci` suite."""

from __future__ import annotations

import shutil
from pathlib import Path

from support import REPO, run_cli

from harness.results import read_task_result, write_task_result

BASELINE = REPO / "results" / "baselines" / "ci"


def test_ci_suite_passes_against_committed_baseline(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ci-results"
    proc = run_cli("run", "tasks=ci", f"data_root={data_root}", f"output_dir={out}",
                   f"cache_dir={tmp_path / 'cache'}", "show_progress=false")
    assert proc.returncode == 0, proc.stderr
    gate = run_cli("regress", str(out), "--baseline", str(BASELINE))
    assert gate.returncode == 0, gate.stdout + gate.stderr


def test_lowered_score_fails_with_diff(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(BASELINE, copy)
    path = copy / "sentence-transformers__all-MiniLM-L6-v2" / "local" / "STS13.json"
    result = read_task_result(path)
    assert result is not None
    for entry in result.scores["test"]:
        entry["main_score"] -= 0.01
    write_task_result(result, path.parent)
    gate = run_cli("regress", str(copy), "--baseline", str(BASELINE))
    assert gate.returncode == 1
    assert "STS13" in gate.stdout and "-1.00" in gate.stdout.replace("−", "-")
    within = run_cli("regress", str(copy), "--baseline", str(BASELINE), "--tolerance", "0.02")
    assert within.returncode == 0, within.stdout
