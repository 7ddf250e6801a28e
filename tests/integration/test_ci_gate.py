"""Acceptance: the CI gate on the committed baseline of the embedded model's `ci` suite."""

from __future__ import annotations

from pathlib import Path

from support import REPO, run_cli

BASELINE = REPO / "results" / "baselines" / "ci"


def test_ci_suite_passes_against_committed_baseline(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ci-results"
    proc = run_cli("run", "tasks=ci", f"data_root={data_root}", f"output_dir={out}",
                   f"cache_dir={tmp_path / 'cache'}", "show_progress=false")
    assert proc.returncode == 0, proc.stderr
    gate = run_cli("regress", str(out), "--baseline", str(BASELINE))
    assert gate.returncode == 0, gate.stdout + gate.stderr
