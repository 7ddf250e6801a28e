"""The table formats, for any task of their type: sentence pairs with a similarity score (STS),
sentence pairs with a 0/1 label (pair classification: 1 = the pair matches), texts with a label
(classification).

The source is a folder of ``<split>.<csv|tsv|jsonl>`` files (see ``tables``), or for a
multilingual task one such folder per subset. Sentences and texts are non-blank, scores lie in
the task's range, labels are encoded as in ``labels``. Where the mirror puts each column is
decided by ``hub_layout``, which checks that mteb's own ``dataset_transform`` of the task reads
the rows back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.importers.base import (
    Converted,
    Row,
    own_transform,
    parse_score,
    shown,
    source_error,
    subset_folders,
)
from harness.data.importers.hub_layout import Compare, Data, Target, choose_layout
from harness.data.importers.hub_layout import tables as layout_tables
from harness.data.importers.labels import LabelCoder
from harness.data.importers.tables import (
    EXTENSIONS,
    SourceRow,
    TableOptions,
    read_rows,
    split_files,
)
from harness.errors import UsageError

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

STS_COLUMNS = ("sentence1", "sentence2", "score")
PAIR_COLUMNS = ("sentence1", "sentence2", "label")
TEXT_COLUMNS = ("text", "label")


def matches(src: Path, task_name: str) -> bool:
    """The folder, or a subset folder in it, holds ``<split>.<csv|tsv|jsonl>`` files."""
    folders = [src, *(p for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))]
    return any(p.is_file() and p.name.rpartition(".")[2] in EXTENSIONS
               for folder in folders for p in folder.iterdir())


def convert_sts(src: Path, task: AbsTask, options: TableOptions) -> Converted:
    """Sentence pairs with a score in the task's range."""
    first, second = task.column_names

    def row(source: SourceRow) -> Row:
        values = _texts(source, ("sentence1", "sentence2"))
        score = values["score"]
        if isinstance(score, bool) or not isinstance(score, str | int | float):
            raise source_error(source.path, source.line, f"score {shown(score)} is not a number")
        values["score"] = parse_score(str(score).strip(), task.min_score, task.max_score,
                                      source.path, source.line)
        return values

    target = Target({"sentence1": first, "sentence2": second, "score": "score"},
                               list(task.metadata.eval_splits), _same_rows(STS_COLUMNS))
    return _convert(src, task, options, STS_COLUMNS, row, target)


def convert_pairs(src: Path, task: AbsTask, options: TableOptions) -> Converted:
    """Sentence pairs with a 0/1 label."""

    def row(source: SourceRow) -> Row:
        values = _texts(source, ("sentence1", "sentence2"))
        label = values["label"].strip() if isinstance(values["label"], str) else values["label"]
        if label not in (0, 1, "0", "1") or isinstance(label, float):
            raise source_error(source.path, source.line, f"label {shown(label)} is not 0 or 1 "
                                                         "(1: the pair matches)")
        values["label"] = int(label)
        return values

    target = Target(
        {"sentence1": task.input1_column_name, "sentence2": task.input2_column_name,
         "label": task.label_column_name},
        list(task.metadata.eval_splits), _same_rows(PAIR_COLUMNS), pairs=True)
    return _convert(src, task, options, PAIR_COLUMNS, row, target)


def convert_classification(src: Path, task: AbsTask, options: TableOptions) -> Converted:
    """Texts with a label name or id (see ``labels`` for how each is written)."""
    coder = LabelCoder(task, src)

    def row(source: SourceRow) -> Row:
        values = _texts(source, ("text",))
        values["label"] = coder.encode(values["label"], source.path, source.line)
        name = coder.name_of(values["label"])
        if name is not None:
            values.setdefault("label_text", name)
        return values

    splits = list(task.metadata.eval_splits)
    if not task.is_cross_validation and task.train_split not in splits:
        splits.insert(0, task.train_split)
    target = Target(
        {"text": task.input_column_name, "label": task.label_column_name}, splits,
        _same_classes)
    return _convert(src, task, options, TEXT_COLUMNS, row, target)


def _convert(src: Path, task: AbsTask, options: TableOptions, columns: Sequence[str],
             parse: Callable[[SourceRow], Row], target: Target) -> Converted:
    data: Data = {}
    for subset, folder in subset_folders(src, task).items():
        files = split_files(folder)
        missing = [split for split in target.splits if split not in files]
        if not files or missing and not own_transform(task):
            raise UsageError(
                f"{folder}: no table file for split {(missing or target.splits)[0]} "
                f"({task.metadata.name} reads {', '.join(target.splits)}; name each file "
                f"<split>.<{'|'.join(EXTENSIONS)}>)")
        data[subset] = {split: [parse(row) for row in read_rows(path, options, columns)]
                        for split, path in files.items()}
    layout = choose_layout(task, data, target, src)
    notes = [] if layout.columns == target.columns and not layout.nested else [
        f"written as {layout.describe()} for {task.metadata.name}'s loader"]
    return Converted(layout_tables(task, data, layout), notes=notes)


def _texts(source: SourceRow, columns: Sequence[str]) -> Row:
    """The row's values, with non-blank text in ``columns``."""
    values = dict(source.values)
    for column in columns:
        value = values[column]
        if not isinstance(value, str):
            raise source_error(source.path, source.line, f"{column} {shown(value)} is not text")
        if not value.strip():
            raise source_error(source.path, source.line, f"empty {column}")
    return values


def _same_rows(columns: Sequence[str]) -> Compare:
    """Each split read holds source rows (all of them, or a subsample) with the same values."""

    def compare(source: list[Row], got: list[dict[str, list[Any]]]) -> str | None:
        have = Counter(tuple(row[c] for c in columns) for row in source)
        for split in got:
            rows = Counter(zip(*(split[c] for c in columns), strict=True))
            if not rows:
                return "a split the task reads is empty"
            extra = rows - have
            if extra:
                return f"it reads a row that is not in the source: {shown(next(iter(extra)))}"
        return None

    return compare


def _same_classes(source: list[Row], got: list[dict[str, list[Any]]]) -> str | None:
    """Each split read holds source texts; each source label became one label (the task may
    encode them anew), distinct labels stayed distinct and none vanished."""
    labels_of = defaultdict(set)
    for row in source:
        labels_of[row["text"]].add(row["label"])
    became: dict[Any, Any] = {}
    for split in got:
        if not split["text"]:
            return "a split the task reads is empty"
        for text, label in zip(split["text"], split["label"], strict=True):
            if text not in labels_of:
                return f"it reads a text that is not in the source: {shown(text)}"
            (old, *more) = labels_of[text]
            if not more and became.setdefault(old, label) != label:
                return f"label {shown(old)} became both {became[old]!r} and {label!r}"
    if len(set(became.values())) < len(became):
        return "two source labels became one"
    gone = {row["label"] for row in source} - set(became)
    if gone and all(len(labels) == 1 for labels in labels_of.values()):
        return f"no text labelled {shown(sorted(map(str, gone))[0])} is left"
    return None
