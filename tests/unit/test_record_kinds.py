"""Records of pair classification and clustering, end to end: small mirror folders written here
in the hub layout (TwitterSemEval2015 pairs, TwentyNewsgroupsClustering cluster sets)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from support import MINILM_REVISION, cli, write_files
from tiny import MODEL, TOPICS, WORDS

from harness.api import compare_runs, run
from harness.predictions import read_record
from harness.results import main_score, read_task_result, run_folder

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

TASKS = ["TwitterSemEval2015", "TwentyNewsgroupsClustering"]
CARD = ("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n"
        "    path: test.jsonl\n---\n")


def _pairs(rng: random.Random, n: int = 40) -> str:
    rows = []
    for _ in range(n):
        first = rng.sample(WORDS, 6)
        same = rng.random() < 0.5
        second = first[:4] + rng.sample(WORDS, 2) if same else rng.sample(WORDS, 6)
        rows.append({"sent1": " ".join(first), "sent2": " ".join(second),  # the hub's names
                     "labels": int(same)})
    return "".join(json.dumps(r) + "\n" for r in rows)


def _cluster_sets(rng: random.Random, sets: int = 3, per_topic: int = 6) -> str:
    rows = []
    for _ in range(sets):
        docs = [(" ".join(rng.sample(words, 4)), name) for name, words in TOPICS.items()
                for _ in range(per_topic)]
        rows.append({"sentences": [d for d, _ in docs], "labels": [label for _, label in docs]})
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.fixture(scope="module")
def kinds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(4)
    root = tmp_path_factory.mktemp("kinds_data")
    write_files(root / "mteb" / "twittersemeval2015-pairclassification",
                {"README.md": CARD, "test.jsonl": _pairs(rng)})
    write_files(root / "mteb" / "twentynewsgroups-clustering",
                {"README.md": CARD, "test.jsonl": _cluster_sets(rng)})
    out = tmp_path_factory.mktemp("kinds_run")
    run([f"data_root={root}", f"output_dir={out}", "show_progress=false", "cache_dir=null",
         f"tasks.names=[{','.join(TASKS)}]", "save_predictions=true"])
    return out


@pytest.mark.parametrize("task", TASKS)
def test_records_reproduce_main_scores(kinds_run: Path, task: str):
    folder = run_folder(kinds_run, MODEL, MINILM_REVISION)
    record = read_record(folder, task)
    entry = record.subsets[0].entry
    [scorer] = record.scorers().values()
    assert entry["reproduced"] and scorer.score() == pytest.approx(entry["main_score"],
                                                                    abs=1e-12)
    assert round(entry["main_score"], 6) == main_score(read_task_result(folder / f"{task}.json"))
    if task == "TwitterSemEval2015":
        assert record.kind == "pair" and len(entry["labels"]) == 40
        assert set(entry["predictions"]) >= {"cosine_scores", "dot_scores"}
    else:
        assert record.kind == "clustering" and len(entry["experiments"]) == 3  # cluster sets
        assert scorer.n_items == 0 and scorer.n_experiments == 3


def test_compare_against_itself_and_diff_per_kind(kinds_run: Path, capsys):
    report = compare_runs(kinds_run, kinds_run, significance=True)
    stats = {r.name: r.stat for r in report.sections[0].rows}
    assert stats["TwitterSemEval2015"].resamples == "items (40)"
    assert stats["TwentyNewsgroupsClustering"].resamples == "experiments (3)"
    assert all(s.p_value == 1.0 and s.observed == 0 for s in stats.values())
    assert any("Clustering" in note for note in report.notes)
    code, out, _ = cli(capsys, "diff", str(kinds_run), str(kinds_run), "--task",
                       "TwitterSemEval2015", "--top", "3")
    assert code == 0 and out.count("\n| ") == 4  # header and three pairs
    code, _, err = cli(capsys, "diff", str(kinds_run), str(kinds_run), "--task",
                       "TwentyNewsgroupsClustering")
    assert code == 2 and "no per-item outcome" in err
