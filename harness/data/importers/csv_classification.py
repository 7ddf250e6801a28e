"""Text-classification CSVs: ``train.csv``/``test.csv`` with header ``text,category`` plus the
intent list ``categories.json`` (the PolyAI Banking77 release).

Writes ``train.jsonl``/``test.jsonl`` with the columns of ``mteb/banking77``: text, label,
label_text. Labels are encoded as on the hub (the ClassLabel order of the HF ``banking77``
dataset): the index of the category among the names sorted case-insensitively, which is not the
order of ``categories.json``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from harness.data.importers.base import (
    Converted,
    Row,
    Table,
    parse_json,
    read_text,
    shown,
    source_error,
)

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

_SPLITS = ("train", "test")
_HEADER = ["text", "category"]


def matches(src: Path, task_name: str) -> bool:
    """The folder holds train.csv, test.csv and categories.json."""
    return all((src / name).is_file() for name in ("train.csv", "test.csv", "categories.json"))


def convert(src: Path, task: AbsTask) -> Converted:
    """Encode both splits' categories as hub label ids."""
    names = sorted(_categories(src / "categories.json"), key=str.casefold)
    label_ids = {name: index for index, name in enumerate(names)}
    tables = [
        Table(f"{split}.jsonl", "default", split, _rows(src / f"{split}.csv", label_ids))
        for split in _SPLITS
    ]
    return Converted(tables)


def _categories(path: Path) -> list[str]:
    """The category names: a JSON list of distinct strings."""
    names = parse_json(read_text(path), path, None)
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise source_error(path, None, "expected a JSON list of category names")
    if len(set(names)) != len(names):
        raise source_error(path, None, "category names must be distinct")
    return names


def _rows(path: Path, label_ids: dict[str, int]) -> list[Row]:
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    rows: list[Row] = []
    try:
        if next(reader) != _HEADER:
            raise source_error(path, 1, "expected the header text,category")
        for columns in reader:
            rows.append(_row(columns, label_ids, path, reader.line_num))
    except csv.Error as exc:
        raise source_error(path, reader.line_num, f"malformed CSV ({exc})") from None
    return rows


def _row(columns: list[str], label_ids: dict[str, int], path: Path, line: int) -> Row:
    if len(columns) != 2:
        raise source_error(path, line, f"expected 2 columns (text,category), found {len(columns)}")
    text, category = columns
    if category not in label_ids:
        raise source_error(path, line, f"category {shown(category)} is not in categories.json")
    if not text.strip():
        raise source_error(path, line, "empty text")
    return {"text": text, "label": label_ids[category], "label_text": category}
