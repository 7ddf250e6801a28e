"""Long-text suite on the real sources in ../shared/data: deterministic builds, sampling rules,
mteb loading (tests/unit/test_longtext_small.py: the same on small files, and input checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SHARED_DATA, assert_longtext_build_rules, read_jsonl

from harness.longtext import (
    build_set,
    longtext_dir,
    longtext_task,
)

DATA = SHARED_DATA
BUILT = ["LongTextCMRC2018Dev", "LongTextDRCDDev", "LongTextCAIL2019Dev", "LongTextSQuADDev"]
OUTPUTS = ["README.md", "corpus.jsonl", "manifest.json", "qrels.jsonl", "queries.jsonl"]

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"offline data not found at {DATA}")


@needs_data
@pytest.mark.parametrize("name", BUILT)
def test_build_is_deterministic_and_honours_rules(name: str, tmp_path: Path) -> None:
    assert_longtext_build_rules(name, DATA, tmp_path)


@needs_data
def test_seed_changes_only_the_short_sample(tmp_path: Path) -> None:
    name = "LongTextCMRC2018Dev"
    base = build_set(name, DATA, tmp_path / "a", seed=0)
    other = build_set(name, DATA, tmp_path / "b", seed=1)
    assert base.checksum != other.checksum
    queries = [
        {q["_id"] for q in read_jsonl(longtext_dir(tmp_path / d, name) / "queries.jsonl")}
        for d in ("a", "b")
    ]
    assert queries[0] != queries[1]
    assert len(queries[0]) == len(queries[1]) == base.long_kept + base.short_kept
    corpus = [(longtext_dir(tmp_path / d, name) / "corpus.jsonl").read_bytes() for d in "ab"]
    assert corpus[0] == corpus[1]


@needs_data
def test_mteb_load_data_reads_built_set(tmp_path: Path) -> None:
    name = "LongTextDRCDDev"
    manifest = build_set(name, DATA, tmp_path)
    task = longtext_task(name, tmp_path)
    assert task.metadata.main_score == "recall_at_5"
    assert task.metadata.eval_langs == ["zho-Hant"]
    task.load_data()
    split = task.dataset["default"]["test"]
    n_queries = manifest.long_kept + manifest.short_kept
    assert len(split["corpus"]) == manifest.corpus_size == 1000
    assert len(split["queries"]) == len(split["relevant_docs"]) == n_queries
    assert all(len(docs) == 1 for docs in split["relevant_docs"].values())
