"""Shared pieces of the importers: converted tables, import summaries and strict source reading.

Every problem in a source file is a UsageError of one line naming the file and, where the
problem is on one line, the line number; values quoted in it are clipped (see ``shown``), so a
10 MB line gives a short message. Lines of any length are read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError
from harness.fileio import Utf8Error, decode_utf8

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

MARKER_NAME = ".harness-import.json"
"""File in an imported dataset folder naming the task and dataset revision it was written for."""

Row = dict[str, Any]


@dataclass
class Table:
    """One data file of a mirror: its path in the repo, the config/split it serves, its rows."""

    path: str
    config: str
    split: str
    rows: list[Row]
    label: str = ""
    size: int | None = None
    """How many records the rows hold, when that is not one per row (a row of lists)."""

    @property
    def name(self) -> str:
        """How the summary calls this table (the split unless the importer named it)."""
        return self.label or self.split

    @property
    def count(self) -> int:
        """The number of records (pairs, texts, documents) in the table."""
        return len(self.rows) if self.size is None else self.size


@dataclass
class Converted:
    """Everything an importer produced from one source folder."""

    tables: list[Table]
    skipped_rows: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    """What one import did; ``task`` is None when the source folder was skipped (see ``notes``)."""

    source: Path
    task: str | None
    folder: Path | None
    rows: dict[str, int] = field(default_factory=dict)
    skipped_rows: int = 0
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        """One line for the CLI."""
        if self.task is None:
            return f"skipped {self.source}: {'; '.join(self.notes)}"
        parts = [", ".join(f"{name} {count}" for name, count in self.rows.items())]
        if self.skipped_rows:
            parts.append(f"skipped {self.skipped_rows} rows")
        parts.extend(self.notes)
        return f"{self.task} -> {self.folder} ({'; '.join(parts)})"


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` clipped to about ``limit`` characters, for one-line messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}...{size}"


def source_error(path: Path, line: int | None, what: str) -> UsageError:
    """The error for a bad source file, located as ``file:line``."""
    where = f"{path}:{line}" if line else str(path)
    return UsageError(f"{where}: {what}")


def check_text(value: str, path: Path, line: int | None, what: str) -> str:
    """``value`` if it can be written as UTF-8 (JSON escapes can decode to lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        raise source_error(path, line, f"{what} holds an unpaired surrogate {bad!r}") from None
    return value


def read_text(path: Path) -> str:
    """The content of a UTF-8 text file; UsageError if it is missing, empty or not UTF-8."""
    if not path.is_file():
        raise source_error(path, None, "file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise source_error(path, None, f"cannot read it ({exc.strerror or exc})") from None
    try:
        text = decode_utf8(data)
    except Utf8Error as exc:
        raise source_error(path, exc.line, str(exc)) from None
    if not text.strip():
        raise source_error(path, None, "file is empty")
    return text


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file without line terminators (only ``\\n`` splits lines)."""
    lines = read_text(path).split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_tsv(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, columns) for each line of a tab-separated file without quoting."""
    for number, line in enumerate(read_lines(path), 1):
        yield number, line.split("\t")


def parse_json(text: str, path: Path, line: int | None) -> Any:
    """``json.loads(text)``; UsageError located at ``path:line`` for anything it rejects."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise source_error(path, line or exc.lineno, f"invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise source_error(path, line, "invalid JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise source_error(path, line, f"invalid JSON ({str(exc)[:100]})") from None


def read_jsonl(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, object) for each non-blank line of a JSON-lines file."""
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        obj = parse_json(line, path, number)
        if not isinstance(obj, dict):
            raise source_error(path, number, "expected a JSON object")
        yield number, obj


def parse_score(value: str, low: float, high: float, path: Path, line: int) -> float:
    """A similarity score in ``[low, high]``."""
    try:
        score = float(value)
    except ValueError:
        raise source_error(path, line, f"score {shown(value)} is not a number") from None
    if not (math.isfinite(score) and low <= score <= high):
        raise source_error(path, line, f"score {shown(value)} is outside {low}..{high}")
    return score


def check_sentences(row: Row, path: Path, line: int) -> Row:
    """An STS row whose two sentences are non-blank."""
    for column in ("sentence1", "sentence2"):
        if not row[column].strip():
            raise source_error(path, line, f"empty {column}")
    return row


def subset_folders(src: Path, task: AbsTask) -> dict[str, Path]:
    """The source folder of each subset: ``src`` itself (``default``) for a monolingual task, one
    subfolder per hf subset (``src/<subset>/``) for a multilingual one, every subset required."""
    if not task.metadata.is_multilingual:
        return {"default": src}
    subsets = list(task.metadata.hf_subsets)
    found = {p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")}
    unknown = sorted(found - set(subsets))
    if unknown:
        raise UsageError(f"{src}: folder {shown(unknown[0])} is not a subset of "
                         f"{task.metadata.name} (its subsets: {', '.join(subsets)})")
    missing = [s for s in subsets if s not in found]
    if missing:
        raise UsageError(f"{src}: no folder for subset(s) {', '.join(missing)} of the "
                         f"{len(subsets)} that {task.metadata.name} evaluates (one folder each)")
    return {subset: src / subset for subset in subsets}


def own_transform(task: AbsTask) -> bool:
    """The task reshapes its hub data after loading (a ``dataset_transform`` of its own)."""
    from mteb.abstasks import AbsTask

    return type(task).dataset_transform is not AbsTask.dataset_transform
