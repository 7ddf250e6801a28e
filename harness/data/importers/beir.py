"""BEIR retrieval folders: ``corpus.jsonl`` (or ``corpus-partNN.jsonl`` pieces), ``queries.jsonl``
and ``qrels/<split>.tsv``.

Writes the layout of mteb's BEIR copies (e.g. ``mteb/scifact``): ``corpus.jsonl`` (_id, title,
text), ``queries.jsonl`` (_id, text) and ``qrels/<split>.jsonl`` (query-id, corpus-id, score) under
the configs corpus, queries and default. Qrels stay JSON lines: a ``.tsv`` among ``.jsonl`` files
makes ``datasets`` pick the JSON builder for it and fail.

Ids are unique across the corpus files and across the queries, queries have non-blank text, and
every judgement names a known query and document once, with a relevance from 0 to 999999999.
A multilingual task has one BEIR folder per subset (``src/<subset>/``), written under the configs
``<subset>-corpus``, ``<subset>-queries`` and ``<subset>-qrels`` that mteb's retrieval loader reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness.data.importers.base import (
    Converted,
    Row,
    Table,
    check_text,
    read_jsonl,
    read_lines,
    shown,
    source_error,
    subset_folders,
)
from harness.errors import UsageError

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

_PART = re.compile(r"^corpus-part(\d+)\.jsonl$")
_SPLIT = re.compile(r"^[A-Za-z0-9_-]+$")
_QRELS_HEADER = ["query-id", "corpus-id", "score"]
_RELEVANCE = re.compile(r"^[0-9]{1,9}$")


def _corpus_files(src: Path) -> list[Path]:
    """``corpus.jsonl`` or the ``corpus-partNN.jsonl`` pieces in numeric order."""
    parts = sorted(
        (int(m[1]), p) for p in src.iterdir() if (m := _PART.match(p.name)) and p.is_file()
    )
    whole = src / "corpus.jsonl"
    if whole.is_file() and parts:
        raise UsageError(f"{src}: holds both corpus.jsonl and corpus-part*.jsonl; keep one")
    return [whole] if whole.is_file() else [path for _, path in parts]


def matches(src: Path, task_name: str) -> bool:
    """The folder has a corpus, queries.jsonl and qrels/*.tsv."""
    return (
        (src / "queries.jsonl").is_file()
        and ((src / "corpus.jsonl").is_file() or any(src.glob("corpus-part*.jsonl")))
        and any((src / "qrels").glob("*.tsv"))
    )


def convert_any(src: Path, task: AbsTask) -> Converted:
    """One BEIR folder, or one per subset for a multilingual task."""
    if not task.metadata.is_multilingual:
        return convert(src, task)
    tables = []
    for subset, folder in subset_folders(src, task).items():
        for table in convert(folder, task).tables:
            config = table.config if table.config != "default" else "qrels"
            tables.append(Table(f"{subset}/{table.path}", f"{subset}-{config}", table.split,
                                table.rows, f"{subset}/{table.name}"))
    return Converted(tables)


def convert(src: Path, task: AbsTask) -> Converted:
    """Validate ids and judgements and convert corpus, queries and every qrels file."""
    corpus_files = _corpus_files(src)
    if not corpus_files:
        raise source_error(src / "corpus.jsonl", None, "file not found (BEIR layout)")
    corpus = _records(corpus_files, with_title=True)
    queries = _records([src / "queries.jsonl"], with_title=False)
    qrels_files = sorted((src / "qrels").glob("*.tsv"))
    splits = [path.stem for path in qrels_files]
    missing = [s for s in task.metadata.eval_splits if s not in splits]
    if missing:
        raise source_error(
            src / "qrels" / f"{missing[0]}.tsv",
            None,
            f"file not found ({task.metadata.name} evaluates split {missing[0]})",
        )
    tables = [
        Table("corpus.jsonl", "corpus", "corpus", list(corpus.values())),
        Table("queries.jsonl", "queries", "queries", list(queries.values())),
    ]
    for path in qrels_files:
        if not _SPLIT.match(path.stem):
            raise source_error(
                path, None, "qrels file names must be <split>.tsv (letters, digits, _ -)"
            )
        rows = _qrels(path, corpus, queries)
        tables.append(
            Table(f"qrels/{path.stem}.jsonl", "default", path.stem, rows, f"qrels/{path.stem}")
        )
    return Converted(tables)


def _records(paths: list[Path], *, with_title: bool) -> dict[str, Row]:
    """Documents or queries by id; ids must be unique across all the files."""
    records: dict[str, Row] = {}
    first_seen: dict[str, str] = {}
    for path in paths:
        for number, obj in read_jsonl(path):
            doc_id, text = obj.get("_id"), obj.get("text")
            if isinstance(doc_id, int) and not isinstance(doc_id, bool):
                doc_id = str(doc_id)
            if not isinstance(doc_id, str) or not doc_id:
                raise source_error(path, number, 'missing or invalid "_id" (a string is needed)')
            check_text(doc_id, path, number, '"_id"')
            if not isinstance(text, str):
                raise source_error(path, number, f'record {shown(doc_id)} has no "text" string')
            if not with_title and not text.strip():
                raise source_error(path, number, f"query {shown(doc_id)} has an empty text")
            if doc_id in records:
                raise source_error(
                    path, number, f"duplicate _id {shown(doc_id)} (first at {first_seen[doc_id]})"
                )
            first_seen[doc_id] = f"{path.name}:{number}"
            record: Row = {"_id": doc_id}
            if with_title:
                title = obj.get("title") or ""
                if not isinstance(title, str):
                    raise source_error(
                        path, number, f'record {shown(doc_id)} has a non-string "title"'
                    )
                record["title"] = check_text(title, path, number, '"title"')
            record["text"] = check_text(text, path, number, '"text"')
            records[doc_id] = record
    return records


def _qrels(path: Path, corpus: dict[str, Row], queries: dict[str, Row]) -> list[Row]:
    """The judgements of one qrels file; every id must exist and each pair appear once."""
    lines = read_lines(path)
    if lines[0].split("\t") != _QRELS_HEADER:
        raise source_error(path, 1, "expected the header query-id<TAB>corpus-id<TAB>score")
    rows: list[Row] = []
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(lines[1:], 2):
        columns = line.split("\t")
        if len(columns) != 3:
            raise source_error(
                path, number, f"expected 3 tab-separated columns, found {len(columns)}"
            )
        query_id, doc_id, score = columns
        if query_id not in queries:
            raise source_error(path, number, f"query-id {shown(query_id)} is not in queries.jsonl")
        if doc_id not in corpus:
            raise source_error(path, number, f"corpus-id {shown(doc_id)} is not in the corpus")
        if (query_id, doc_id) in seen:
            raise source_error(
                path, number, f"duplicate judgement for ({shown(query_id)}, {shown(doc_id)})"
            )
        if not _RELEVANCE.match(score):
            raise source_error(
                path, number, f"score {shown(score)} is not an integer from 0 to 999999999"
            )
        seen.add((query_id, doc_id))
        rows.append({"query-id": query_id, "corpus-id": doc_id, "score": int(score)})
    return rows
