"""``harness export``: the results-repo folder reads back with mteb's own loaders and holds the
model metadata mteb writes; the model card's model-index block and the eval-results files."""

from __future__ import annotations

import json
from pathlib import Path

import mteb
import yaml
from huggingface_hub import ModelCard
from mteb import ResultCache, TaskResult
from mteb._hf_integration.eval_result_model import HFEvalResults
from support import MINILM_REVISION, cli
from tiny import MODEL

from harness.results import main_score, read_task_result, run_folder

TASKS = {"Banking77Classification", "SciFact", "STSBenchmark"}


def test_export_loads_with_mteb_and_holds_the_model_meta(tiny_runs, tmp_path: Path, capsys):
    out = tmp_path / "submission"
    code, stdout, _ = cli(capsys, "export", str(tiny_runs["a"]), "--model", MODEL, "--out",
                          str(out))
    assert code == 0 and f"exported {MODEL} @ {MINILM_REVISION}" in stdout
    folder = out / "results" / MODEL.replace("/", "__") / MINILM_REVISION
    meta = json.loads((folder / "model_meta.json").read_text())
    expected = json.loads(json.dumps(mteb.get_model_meta(MODEL).to_dict(), default=str))
    assert meta == {**expected, "revision": MINILM_REVISION}
    loaded = ResultCache(out).load_results(models=[MODEL], include_remote=False,
                                           require_model_meta=True)
    [model] = loaded.model_results
    assert model.model_name == MODEL and model.model_revision == MINILM_REVISION
    ours = run_folder(tiny_runs["a"], MODEL, MINILM_REVISION)
    assert {r.task_name: r.get_score() for r in model.task_results} == {
        t: main_score(read_task_result(ours / f"{t}.json")) for t in TASKS}
    for task in TASKS:
        exported = TaskResult.from_disk(folder / f"{task}.json").scores
        original = read_task_result(ours / f"{task}.json").scores
        assert json.dumps(exported, sort_keys=True) == json.dumps(original, sort_keys=True)
        HFEvalResults.model_validate(yaml.safe_load((out / ".eval_results" / f"{task}.yaml")
                                                    .read_text()))
    card = ModelCard.load(out / "model_card.md")
    assert "mteb" in card.data.tags
    assert {r.dataset_name.split(" (")[0] for r in card.data.eval_results} == TASKS
    assert "model-index:" in (out / "model_card.md").read_text()


def test_export_of_an_unknown_model_is_a_usage_error(tiny_runs, tmp_path: Path, capsys):
    code, out, err = cli(capsys, "export", str(tiny_runs["a"]), "--model", "nobody/nothing",
                         "--out", str(tmp_path / "x"))
    assert code == 2 and out == "" and "nobody/nothing" in err
    assert not (tmp_path / "x").exists()
