"""``harness explain --against mteb``: per task and side, where a recipe differs from mteb's own
implementation (ModelMeta and its loader's prompts), without weights; what mteb leaves to the
model's folder is read from the folder when it is at hand, else reported unknown."""

from __future__ import annotations

import json

import pytest
from support import MINILM_REVISION, cli

from harness.api import explain
from harness.errors import UsageError

SAMPLE = "what is the capital of China?"
SCIDOCSRR = "Given a title of a scientific paper, retrieve the titles of other relevant papers"


def _json(*overrides: str) -> dict:
    return json.loads(explain(list(overrides), fmt="json", against="mteb"))


def test_e5_mistral_reranking_candidates_differ() -> None:
    found = _json("model=e5-mistral-7b-instruct",
                  "tasks.names=[SciDocsRR,Banking77Classification,SciFact]")
    assert found["mteb_revision"] == "07163b72af1488142a360786df853f237b1a3ca1"
    assert found["mteb_loader"] == "InstructSentenceTransformerModel"
    assert found["differences"] == [
        {"task": "SciDocsRR", "side": "document", "field": "input",
         "recipe": repr(f"Instruct: {SCIDOCSRR}\nQuery: {SAMPLE}"), "mteb": repr(SAMPLE)}]
    assert {"pooling", "max_length", "normalize"} <= set(found["unknown_offline"])


def test_markdown_names_the_model_wide_settings_and_the_differing_rows() -> None:
    out = explain(["model=e5-mistral-7b-instruct", "tasks.names=[SciDocsRR]"], against="mteb")
    rows = {cells[0]: cells[1:] for line in out.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}
    assert rows["revision"] == ["07163b72af1488142a360786df853f237b1a3ca1"] * 2 + ["yes"]
    assert rows["append_eos"] == ["True", "True", "yes"]
    assert rows["pooling"] == ["last_token", "unknown offline", "?"]
    assert rows["SciDocsRR"][:2] == ["document", "input"]
    assert "1 of 2 differ" in out


def test_gte_qwen2_symmetric_retrieval_documents_differ() -> None:
    found = _json("model=gte-Qwen2-1.5B-instruct", "tasks.names=[ArguAna,SciFact]")
    assert [(d["task"], d["side"], d["field"]) for d in found["differences"]] == [
        ("ArguAna", "document", "input")]


def test_with_the_folder_at_hand_everything_is_compared() -> None:
    """The embedded MiniLM: mteb's pooling, Normalize and max_seq_length come from the folder;
    the recipe agrees, until a per-task setting or another max length departs from it."""
    assert _json("tasks.names=[SciFact,STSBenchmark]")["differences"] == []
    found = _json("tasks.names=[STSBenchmark]", "model.max_length=128",
                  "++model.settings.STS.normalize=false")
    assert found["unknown_offline"] == ["dtype"]  # mteb names none: the library default
    assert [(d["field"], d["recipe"], d["mteb"]) for d in found["differences"]] == [
        ("max_length", 128, 256), ("normalize", False, True)]
    model_wide = explain(["tasks.names=[STSBenchmark]"], against="mteb")
    rows = {cells[0]: cells[1:] for line in model_wide.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}
    assert rows["revision"] == [MINILM_REVISION, MINILM_REVISION, "yes"]
    assert rows["pooling"] == ["mean", "mean", "yes"]


def test_a_model_mteb_does_not_know_is_one_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="mteb has no implementation of 'infgrad/stella-base-zh"):
        explain(["model=stella-base-zh-v2", "tasks.names=[ATEC]"], against="mteb")
    code, _, err = cli(capsys, "explain", "--against", "mteb", "model=stella-base-zh-v2",
                       "tasks.names=[ATEC]")
    assert code == 2 and len(err.strip().splitlines()) == 1
