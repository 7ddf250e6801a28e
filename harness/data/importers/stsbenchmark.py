"""STS-Benchmark release: ``sts-{train,dev,test}.csv``.

Tab-separated without quoting (quote characters are literal): genre, file, year, id, score,
sentence1, sentence2, and on some lines extra source columns. A pair id (file, year, id) appears
once per file and both sentences must be non-blank.
Writes ``{train,validation,test}.jsonl.gz`` with the columns of ``mteb/stsbenchmark-sts``:
split, genre, dataset, year, sid, score, sentence1, sentence2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.data.importers.base import (
    Converted,
    Row,
    Table,
    check_sentences,
    parse_score,
    read_tsv,
    shown,
    source_error,
)

if TYPE_CHECKING:
    from mteb.abstasks import AbsTaskSTS

_SPLITS = (("train", "train"), ("dev", "validation"), ("test", "test"))
"""(release file part, hub split)."""


def matches(src: Path, task_name: str) -> bool:
    """The folder holds the benchmark's test file."""
    return (src / "sts-test.csv").is_file()


def convert(src: Path, task: AbsTaskSTS) -> Converted:
    """Convert every release file present; the test file is required."""
    if not (src / "sts-test.csv").is_file():
        raise source_error(src / "sts-test.csv", None, "file not found (STS-Benchmark layout)")
    tables, notes = [], []
    for part, split in _SPLITS:
        path = src / f"sts-{part}.csv"
        if path.is_file():
            tables.append(Table(f"{split}.jsonl.gz", "default", split, _rows(path, part, task)))
        else:
            notes.append(f"no {path.name}, so no {split} split")
    return Converted(tables, notes=notes)


def _rows(path: Path, part: str, task: AbsTaskSTS) -> list[Row]:
    rows: list[Row] = []
    first_seen: dict[tuple[str, str, str], int] = {}
    for number, columns in read_tsv(path):
        if len(columns) < 7:
            raise source_error(
                path,
                number,
                "expected at least 7 tab-separated columns "
                f"(genre, file, year, id, score, sentence1, sentence2), found {len(columns)}",
            )
        genre, dataset, year, sid, score, sentence1, sentence2 = columns[:7]
        pair_id = (dataset, year, sid)
        if pair_id in first_seen:
            first = first_seen[pair_id]
            raise source_error(path, number, f"duplicate pair id {shown(pair_id)} (line {first})")
        first_seen[pair_id] = number
        row = {
            "split": part,
            "genre": genre,
            "dataset": dataset,
            "year": year,
            "sid": sid,
            "score": parse_score(score, task.min_score, task.max_score, path, number),
            "sentence1": sentence1,
            "sentence2": sentence2,
        }
        rows.append(check_sentences(row, path, number))
    return rows
