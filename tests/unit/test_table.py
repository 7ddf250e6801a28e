"""The leaderboard table over a real run of the small tasks: complete and incomplete
categories, a second model missing a task, csv output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import cli

from harness.api import leaderboard
from harness.results import load_scores


def test_table_sts_category_complete(tiny_results: Path) -> None:
    results_dir = tiny_results.parents[1]
    scores = load_scores(results_dir)
    sts = scores[scores["task_type"] == "STS"]["main_score"]
    text = leaderboard(results_dir)
    summary = text.split("\n\n")[0]
    assert "STS (2)" in summary and "Average (4)" in summary
    assert f"{sts.mean() * 100:.2f}" in summary
    assert f"{scores['main_score'].mean() * 100:.2f}" in summary
    assert "(1/2)" not in summary


def test_table_marks_benchmark_categories_incomplete(tiny_results: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "table", str(tiny_results.parents[1]), "--tasks", "mteb_eng_v1")
    assert code == 0, err
    assert "Average (56)" in out and "(4/56)" in out
    assert "STS (10)" in out and "(2/10)" in out
    assert "Classification (12)" in out and "(1/12)" in out
    assert "Retrieval (15)" in out and "(1/15)" in out


def test_table_missing_task_of_second_model(tiny_results: Path, tmp_path: Path) -> None:
    results_dir = tmp_path / "results"
    shutil.copytree(tiny_results.parents[1], results_dir)
    other = results_dir / "someone__other-model" / "local"
    shutil.copytree(tiny_results, other)
    (other / "BIOSSES.json").unlink()
    summary = leaderboard(results_dir).split("\n\n")[0]
    other_row = next(line for line in summary.splitlines() if "someone/other-model" in line)
    assert "(1/2)" in other_row and "(3/4)" in other_row


def test_table_csv(tiny_results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "table", str(tiny_results.parents[1]), "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0].startswith("Model,Average (4)")


def test_table_of_nothing_is_one_line_exit_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "table", str(tmp_path))
    assert code == 2 and err.count("\n") == 1
    assert "no readable result JSON" in err
