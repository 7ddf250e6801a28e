"""The files of the table formats: ``<split>.csv``, ``<split>.tsv`` or ``<split>.jsonl`` in one
folder, read with the user's ``--column NEW=OLD`` renames and ``--delimiter``.

A CSV file has a header row and standard quoting (``"a, b"``); a TSV file has a header line and
no quoting (a tab separates, quote characters are text, as in the SICK and STS-B releases); a
JSON-lines file has one object per line. Blank lines are skipped. CSV and TSV values are text,
JSON values keep their JSON types. Columns other than the format's are kept as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.importers.base import (
    Row,
    read_jsonl,
    read_lines,
    read_text,
    shown,
    source_error,
)
from harness.errors import UsageError

EXTENSIONS = ("csv", "tsv", "jsonl")
_SPLIT = re.compile(r"^[A-Za-z0-9_-]+$")
_COLUMN_SPEC = re.compile(r"^([^=]+)=([^=]+)$")


@dataclass(frozen=True)
class TableOptions:
    """How to read the table files: column renames (old name -> new name) and the delimiter."""

    renames: dict[str, str] = field(default_factory=dict)
    delimiter: str | None = None

    @classmethod
    def parse(cls, columns: Sequence[str] = (), delimiter: str | None = None) -> TableOptions:
        """Options from ``--column NEW=OLD`` values and ``--delimiter`` (one character, or
        ``\\t``); UsageError for a malformed value."""
        renames: dict[str, str] = {}
        for spec in columns:
            match = _COLUMN_SPEC.match(spec)
            if not match:
                raise UsageError(f"--column expects NEW=OLD (e.g. score=relatedness_score), "
                                 f"got {shown(spec)}")
            new, old = match[1], match[2]
            if old in renames:
                raise UsageError(f"--column renames {shown(old)} twice")
            if new in renames.values():
                raise UsageError(f"--column gives two columns the name {shown(new)}")
            renames[old] = new
        if delimiter is not None:
            delimiter = "\t" if delimiter == "\\t" else delimiter
            if len(delimiter) != 1 or delimiter in "\r\n\"":
                raise UsageError(f"--delimiter must be one character (or \\t), got "
                                 f"{shown(delimiter)}")
        return cls(renames, delimiter)

    def __bool__(self) -> bool:
        return bool(self.renames) or self.delimiter is not None


@dataclass(frozen=True)
class SourceRow:
    """One row of a table file, with where it came from (for error messages)."""

    path: Path
    line: int
    values: Row


def split_files(folder: Path) -> dict[str, Path]:
    """The table files of ``folder`` by split (``test.csv`` -> ``test``); UsageError when a
    split has two files or a name that is not a split name."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        stem, _, ext = path.name.rpartition(".")
        if ext not in EXTENSIONS or not path.is_file() or path.name.startswith("."):
            continue
        if not _SPLIT.match(stem):
            raise source_error(path, None, "table files must be named <split>.<csv|tsv|jsonl> "
                                           "(letters, digits, _ -)")
        if stem in found:
            raise source_error(path, None, f"split {stem} also has {found[stem].name}; keep one")
        found[stem] = path
    return found


def read_rows(path: Path, options: TableOptions, required: Sequence[str]) -> list[SourceRow]:
    """Every row of one table file, renamed, each holding the ``required`` columns."""
    if path.suffix == ".jsonl":
        rows = _jsonl_rows(path, options)
    else:
        rows = _delimited_rows(path, options, required)
    out = []
    for line, values in rows:
        missing = [name for name in required if name not in values]
        if missing:
            raise source_error(path, line, _missing(missing, list(values), options))
        for name, value in values.items():
            _check_json(value, path, line, name)
        out.append(SourceRow(path, line, values))
    return out


def _missing(missing: list[str], present: list[str], options: TableOptions) -> str:
    hint = f"; rename one with --column {missing[0]}=OLD" if present else ""
    renamed = " after --column renames" if options.renames else ""
    return (f"no column {', '.join(map(repr, missing))}{renamed} (it has "
            f"{', '.join(shown(name, 30) for name in present[:12]) or 'none'}){hint}")


def _check_json(value: Any, path: Path, line: int, column: str) -> None:
    """Values the mirror can hold: strict JSON (no NaN/Infinity) that encodes as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError:
        raise source_error(path, line, f"column {shown(column, 30)} holds NaN or Infinity") \
            from None
    except UnicodeEncodeError:
        raise source_error(path, line, f"column {shown(column, 30)} holds an unpaired "
                                       "surrogate") from None


def _header(names: list[str], path: Path, options: TableOptions) -> list[str]:
    """The header renamed by ``--column``; every old name must be there, no name twice."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise source_error(path, 1, f"header names {shown(twice[0])} more than once")
    for old, new in options.renames.items():
        if old not in names:
            raise source_error(path, 1, f"--column {new}={old}: no column {shown(old)} (columns: "
                                        f"{', '.join(shown(n, 30) for n in names[:12])})")
        if new in names and new not in options.renames:
            raise source_error(path, 1, f"--column {new}={old}: {shown(new)} is already a column")
    return [options.renames.get(name, name) for name in names]


def _delimited_rows(path: Path, options: TableOptions,
                    required: Sequence[str]) -> Iterator[tuple[int, Row]]:
    """(line, row) of a CSV file (standard quoting) or TSV file (none)."""
    delimiter = options.delimiter or ("\t" if path.suffix == ".tsv" else ",")
    if path.suffix == ".tsv":
        numbered = [(n, line.split(delimiter)) for n, line in enumerate(read_lines(path), 1)
                    if line.strip()]
    else:
        numbered = _csv_records(path, delimiter)
    if not numbered:
        raise source_error(path, None, "file is empty")
    header = _header(numbered[0][1], path, options)
    missing = [name for name in required if name not in header]
    if missing and len(header) >= len(required):
        raise source_error(path, 1, _missing(missing, header, options))
    if missing:
        raise source_error(path, 1, f"the header has {len(header)} column(s) ({shown(header)}) "
                                    f"where {len(required)} are needed; is {delimiter!r} the "
                                    "delimiter? (--delimiter)")
    for line, columns in numbered[1:]:
        if len(columns) != len(header):
            raise source_error(path, line, f"expected {len(header)} columns like the header, "
                                           f"found {len(columns)}")
        yield line, dict(zip(header, columns, strict=True))


def _csv_records(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """(first line, fields) of every non-blank CSV record."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
    records = []
    line = 1
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                records.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise source_error(path, line, f"malformed CSV ({exc})") from None
    return records


def _jsonl_rows(path: Path, options: TableOptions) -> Iterator[tuple[int, Row]]:
    """(line, object) of a JSON-lines file, keys renamed."""
    for number, obj in read_jsonl(path):
        renamed = {options.renames.get(key, key): value for key, value in obj.items()}
        if len(renamed) < len(obj):
            raise source_error(path, number, "--column gives a name that is already a key")
        yield number, renamed
