"""Every seed recipe feeds the model what its published run's script fed it.

``tests/data/protocols/<recipe>.json`` is written by ``scripts/make_protocol_tables.py``, which
re-implements each family's input construction from the authors' scripts (cited there) with its
own copy of their instruction tables; here ``harness explain --format json`` must give the same
row, field for field, for every task and side of MTEB(eng, v1) (and MTEB(cmn, v1) where a table
covers it). No weights, no task data: explain reads task metadata only.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from support import REPO, cli

from harness.config import config_options

PROTOCOLS = REPO / "tests" / "data" / "protocols"
TASK_LISTS = {"MTEB(eng, v1)": "mteb_eng_v1", "MTEB(cmn, v1)": "cmteb"}


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_protocol_tables", REPO / "scripts" / "make_protocol_tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


def _table(recipe: str) -> list[dict]:
    return json.loads((PROTOCOLS / f"{recipe}.json").read_text(encoding="utf-8"))


def _explained(capsys: pytest.CaptureFixture[str], recipe: str) -> list[dict]:
    rows = []
    for benchmark in GENERATOR.RECIPES[recipe].benchmarks:
        code, out, err = cli(capsys, "explain", "--format", "json", f"model={recipe}",
                             f"tasks={TASK_LISTS[benchmark]}")
        assert code == 0, err
        rows += json.loads(out)
    return rows


def test_every_recipe_has_a_table_and_every_table_a_recipe() -> None:
    assert sorted(GENERATOR.RECIPES) == config_options("model")
    assert sorted(p.stem for p in PROTOCOLS.glob("*.json")) == config_options("model")


def test_committed_tables_are_what_the_generator_writes() -> None:
    assert GENERATOR.main(["--check"]) == 0, "rerun python scripts/make_protocol_tables.py"


@pytest.mark.parametrize("recipe", config_options("model"))
def test_explain_equals_the_authors_protocol(recipe: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    expected = _table(recipe)
    explained = {(row["task"], row["side"]): row for row in _explained(capsys, recipe)}
    assert sorted(explained) == sorted((row["task"], row["side"]) for row in expected)
    differences = [
        f"{row['task']}/{row['side']} {field}: explain {got!r} != script {value!r}"
        for row in expected for field, value in row.items()
        if (got := explained[row["task"], row["side"]].get(field)) != value]
    assert not differences, "\n".join(differences[:20]) + f"\n({len(differences)} in all)"


def test_tables_cover_the_benchmarks() -> None:
    """67 encoded tasks in MTEB(eng, v1) (CQADupstack by its 12 parts), 31 in MTEB(cmn, v1);
    retrieval and reranking on two sides."""
    rows = _table("e5-mistral-7b-instruct")
    english = [r for r in rows if r["task"] in dict(GENERATOR.benchmark_tasks("MTEB(eng, v1)"))]
    assert len({r["task"] for r in english}) == 67 and len(english) == 67 + 30
    assert len({r["task"] for r in rows}) == 67 + 31


# A few rows spelled out from the scripts, so that the generator itself is pinned too.
INSTRUCT = "Instruct: {}\nQuery: what is the capital of China?"
SAMPLES = {
    ("e5-mistral-7b-instruct", "Banking77Classification", "symmetric"): (
        INSTRUCT.format("Given a online banking query, find the corresponding intents"), False),
    ("e5-mistral-7b-instruct", "SciDocsRR", "document"): (INSTRUCT.format(
        "Given a title of a scientific paper, retrieve the titles of other relevant papers"),
        True),
    ("e5-mistral-7b-instruct", "STSBenchmark", "symmetric"): (
        INSTRUCT.format("Retrieve semantically similar text."), True),
    ("e5-mistral-7b-instruct", "ArguAna", "document"): ("what is the capital of China?", True),
    ("gte-Qwen2-1.5B-instruct", "STSBenchmark", "symmetric"): (
        INSTRUCT.format("Retrieve semantically similar text"), False),
    ("gte-Qwen2-1.5B-instruct", "CQADupstackTexRetrieval", "document"): (INSTRUCT.format(
        "Given a question, retrieve detailed question descriptions from Stackexchange that are "
        "duplicates to the given question"), False),
    ("gte-Qwen2-1.5B-instruct", "SciDocsRR", "document"): ("what is the capital of China?",
                                                          False),
    ("stella_en_1.5B_v5", "QuoraRetrieval", "document"): (INSTRUCT.format(
        "Given a question, retrieve questions that are semantically equivalent to the given "
        "question"), True),
    ("stella_en_1.5B_v5-card", "SciFact", "query"): (
        "Instruct: Given a web search query, retrieve relevant passages that answer the query."
        "\nQuery: what is the capital of China?", True),
    ("e5-small-v2", "QuoraRetrieval", "document"): ("query: what is the capital of China?",
                                                    False),
    ("e5-small-v2", "SciFact", "document"): ("passage: what is the capital of China?", False),
    ("bge-small-en-v1.5", "ArguAna", "query"): ("what is the capital of China?", False),
    ("bge-small-en-v1.5", "CQADupstackGisRetrieval", "query"): (
        "Represent this sentence for searching relevant passages: what is the capital of "
        "China?", False),
    ("stella-large-zh", "T2Reranking", "document"): ("结果: what is the capital of China?", True),
}


@pytest.mark.parametrize(("recipe", "task", "side"), sorted(SAMPLES))
def test_table_rows_match_the_scripts(recipe: str, task: str, side: str) -> None:
    row = next(r for r in _table(recipe) if (r["task"], r["side"]) == (task, side))
    assert (row["input"], row["normalize"]) == SAMPLES[recipe, task, side]


def test_symmetric_retrieval_documents_are_instructed_only_for_gte_qwen2_protocols() -> None:
    def instructed_documents(recipe: str) -> set[str]:
        return {r["task"] for r in _table(recipe)
                if r["side"] == "document" and r["input"].startswith("Instruct:")}

    symmetric = {"ArguAna", "QuoraRetrieval"} | {
        t for t, _ in GENERATOR.benchmark_tasks("MTEB(eng, v1)") if t.startswith("CQADupstack")}
    assert {t for t in instructed_documents("gte-Qwen2-1.5B-instruct")
            if t in dict(GENERATOR.benchmark_tasks("MTEB(eng, v1)"))} == symmetric
    assert instructed_documents("stella_en_400M_v5") == symmetric
    reranking = {t for t, ty in GENERATOR.benchmark_tasks("MTEB(eng, v1)") if ty == "Reranking"}
    assert {t for t in instructed_documents("e5-mistral-7b-instruct")
            if t in dict(GENERATOR.benchmark_tasks("MTEB(eng, v1)"))} == reranking


def test_a_recipe_table_differing_from_explain_fails(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The comparison is not vacuous: the card recipe's rows are not the published protocol's."""
    card = {(r["task"], r["side"]): r["input"] for r in _table("stella_en_1.5B_v5-card")}
    published = {(r["task"], r["side"]): r["input"] for r in _table("stella_en_1.5B_v5")}
    differing = [key for key in published if published[key] != card[key]]
    assert len(differing) >= 45, len(differing)
    explained = {(r["task"], r["side"]): r["input"]
                 for r in _explained(capsys, "stella_en_1.5B_v5-card")}
    assert all(explained[key] != published[key] for key in differing)
