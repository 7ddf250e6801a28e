"""BIOSSES as a tab-separated ``biosses.tsv`` with a header naming sentence1, sentence2, score_mean.

``score_mean`` (the mean of the five annotators, 0-4) is the gold score of ``mteb/biosses-sts``,
whose only split is test (all 100 pairs). Writes ``test.jsonl.gz``: sentence1, sentence2, score.
Header names must be distinct, ids (the ``id`` column, when there is one) unique and sentences
non-blank.
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

_FILE = "biosses.tsv"
_REQUIRED = ("sentence1", "sentence2", "score_mean")


def matches(src: Path, task_name: str) -> bool:
    """The folder holds ``biosses.tsv``."""
    return (src / _FILE).is_file()


def convert(src: Path, task: AbsTaskSTS) -> Converted:
    """Read every pair of ``biosses.tsv`` into the test split."""
    path = src / _FILE
    lines = read_tsv(path)
    _, header = next(lines)
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise source_error(path, 1, f"header lacks column(s) {', '.join(missing)}")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise source_error(path, 1, f"header names {shown(twice[0])} more than once")
    first, second, score = (header.index(name) for name in _REQUIRED)
    ids: dict[str, int] = {}
    rows: list[Row] = []
    for number, columns in lines:
        if len(columns) != len(header):
            raise source_error(
                path, number, f"expected {len(header)} tab-separated columns, found {len(columns)}"
            )
        if "id" in header:
            pair_id = columns[header.index("id")]
            if pair_id in ids:
                raise source_error(
                    path, number, f"duplicate id {shown(pair_id)} (first at line {ids[pair_id]})"
                )
            ids[pair_id] = number
        row = {
            "sentence1": columns[first],
            "sentence2": columns[second],
            "score": parse_score(columns[score], task.min_score, task.max_score, path, number),
        }
        rows.append(check_sentences(row, path, number))
    return Converted([Table("test.jsonl.gz", "default", "test", rows)])
