"""BIOSSES as a tab-separated ``biosses.tsv`` with a header naming sentence1, sentence2, score_mean.

``score_mean`` (the mean of the five annotators, 0-4) is the gold score of ``mteb/biosses-sts``,
whose only split is test (all 100 pairs). Writes ``test.jsonl.gz``: sentence1, sentence2, score.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from harness.data.importers.base import Converted, Row, Table, parse_score, read_lines, source_error

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
    reader = csv.reader(read_lines(path), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise source_error(path, 1, f"header lacks column(s) {', '.join(missing)}")
    first, second, score = (header.index(name) for name in _REQUIRED)
    rows: list[Row] = []
    for number, columns in enumerate(reader, 2):
        if len(columns) != len(header):
            raise source_error(
                path, number, f"expected {len(header)} tab-separated columns, found {len(columns)}"
            )
        rows.append(
            {
                "sentence1": columns[first],
                "sentence2": columns[second],
                "score": parse_score(columns[score], task.min_score, task.max_score, path, number),
            }
        )
    return Converted([Table("test.jsonl.gz", "default", "test", rows)])
