"""Acceptance: the leaderboard table over real results, complete and incomplete categories."""

from __future__ import annotations

import shutil
from pathlib import Path

from support import run_cli

from harness.api import leaderboard
from harness.results import load_scores


def test_table_sts_category_complete(harness_results: Path) -> None:
    results_dir = harness_results.parents[1]
    scores = load_scores(results_dir)
    sts = scores[scores["task_type"] == "STS"]["main_score"]
    text = leaderboard(results_dir)
    summary = text.split("\n\n")[0]
    assert "STS (4)" in summary and "Average (6)" in summary
    assert f"{sts.mean() * 100:.2f}" in summary
    assert "(3/4)" not in summary


def test_table_marks_benchmark_categories_incomplete(harness_results: Path) -> None:
    proc = run_cli("table", str(harness_results.parents[1]), "--tasks", "mteb_eng_v1")
    assert proc.returncode == 0, proc.stderr
    assert "Average (56)" in proc.stdout
    assert "(6/56)" in proc.stdout
    assert "STS (10)" in proc.stdout and "(4/10)" in proc.stdout
    assert "Classification (12)" in proc.stdout and "(1/12)" in proc.stdout


def test_table_missing_task_of_second_model(harness_results: Path, tmp_path: Path) -> None:
    results_dir = tmp_path / "results"
    shutil.copytree(harness_results.parents[1], results_dir)
    other = results_dir / "someone__other-model" / "local"
    shutil.copytree(harness_results, other)
    (other / "BIOSSES.json").unlink()
    summary = leaderboard(results_dir).split("\n\n")[0]
    other_row = next(line for line in summary.splitlines() if "someone/other-model" in line)
    assert "(3/4)" in other_row and "(5/6)" in other_row


def test_table_csv(harness_results: Path) -> None:
    proc = run_cli("table", str(harness_results.parents[1]), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("Model,Average (6)")
