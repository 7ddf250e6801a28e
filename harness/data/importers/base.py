"""Shared pieces of the importers: converted tables, import summaries and strict source reading."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

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

    @property
    def name(self) -> str:
        """How the summary calls this table (the split unless the importer named it)."""
        return self.label or self.split


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


def source_error(path: Path, line: int | None, what: str) -> HarnessError:
    """The error for a bad source file, located as ``file:line``."""
    where = f"{path}:{line}" if line else str(path)
    return HarnessError(f"{where}: {what}")


def read_text(path: Path) -> str:
    """The content of a UTF-8 text file; HarnessError if it is missing, empty or not UTF-8."""
    if not path.is_file():
        raise source_error(path, None, "file not found")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise source_error(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    if not text.strip():
        raise source_error(path, None, "file is empty")
    return text


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file without line terminators (only ``\\n`` splits lines)."""
    lines = read_text(path).split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_jsonl(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, object) for each non-blank line of a JSON-lines file."""
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise source_error(path, number, f"invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise source_error(path, number, "expected a JSON object")
        yield number, obj


def parse_score(value: str, low: float, high: float, path: Path, line: int) -> float:
    """A similarity score in ``[low, high]``."""
    try:
        score = float(value)
    except ValueError:
        raise source_error(path, line, f"score {value!r} is not a number") from None
    if not (math.isfinite(score) and low <= score <= high):
        raise source_error(path, line, f"score {value!r} is outside {low}..{high}")
    return score
