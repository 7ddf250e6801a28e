"""SemEval STS 2012-2016 test releases: ``STS.input.<subset>.txt`` + ``STS.gs.<subset>.txt``.

Each input line holds two tab-separated non-blank sentences, the gold line with the same number
its 0-5 score. Pairs whose gold line is empty were not scored and are skipped (as in the hub
copies) and counted in the import summary. Gold files without an input file (STS12's ``ALL``,
STS13's licence-restricted ``SMT``) are ignored.
Writes ``test.jsonl.gz`` with columns split, sentence1, sentence2, score, like ``mteb/stsNN-sts``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness.data.importers.base import (
    Converted,
    Row,
    Table,
    check_sentences,
    parse_score,
    read_lines,
    source_error,
)
from harness.errors import UsageError

if TYPE_CHECKING:
    from mteb.abstasks import AbsTaskSTS

SUBSETS: dict[str, tuple[str, ...]] = {
    "STS12": ("MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"),
    "STS13": ("FNWN", "headlines", "OnWN", "SMT"),
    "STS14": ("deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"),
    "STS15": ("answers-forums", "answers-students", "belief", "headlines", "images"),
    "STS16": ("answer-answer", "headlines", "plagiarism", "postediting", "question-question"),
}
"""The subsets of each year's test release, in release order."""

_FILE = re.compile(r"^STS\d*\.(input|gs)\.(.+)\.txt$")


def _files(src: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Input and gold files by subset name."""
    found: dict[str, dict[str, Path]] = {"input": {}, "gs": {}}
    for path in sorted(src.iterdir()):
        match = _FILE.match(path.name)
        if match and path.is_file():
            found[match[1]][match[2]] = path
    return found["input"], found["gs"]


def matches(src: Path, task_name: str) -> bool:
    """The folder holds input files of this year's subsets only."""
    inputs, _ = _files(src)
    return bool(inputs) and inputs.keys() <= set(SUBSETS[task_name])


def convert(src: Path, task: AbsTaskSTS) -> Converted:
    """Pair every input file with its gold file and collect the scored pairs as the test split."""
    name = task.metadata.name
    inputs, golds = _files(src)
    if not inputs:
        raise UsageError(
            f"{src}: no STS.input.<subset>.txt files (SemEval STS layout for {name})"
        )
    unexpected = sorted(inputs.keys() - set(SUBSETS[name]))
    if unexpected:
        raise UsageError(
            f"{src}: subset(s) {', '.join(unexpected)} are not part of {name} "
            f"(its subsets: {', '.join(SUBSETS[name])})"
        )
    rows: list[Row] = []
    skipped = 0
    for subset in (s for s in SUBSETS[name] if s in inputs):
        if subset not in golds:
            raise source_error(inputs[subset], None, "no matching STS.gs file with the gold scores")
        subset_rows, subset_skipped = _pairs(inputs[subset], golds[subset], task)
        rows.extend(subset_rows)
        skipped += subset_skipped
    ignored = sorted(golds[s].name for s in golds.keys() - inputs.keys())
    notes = [f"ignored {', '.join(ignored)} (no input file)"] if ignored else []
    return Converted([Table("test.jsonl.gz", "default", "test", rows)], skipped, notes)


def _pairs(input_path: Path, gold_path: Path, task: AbsTaskSTS) -> tuple[list[Row], int]:
    """The scored pairs of one subset and the number of unscored ones."""
    pairs, gold = read_lines(input_path), read_lines(gold_path)
    if len(gold) != len(pairs):
        raise source_error(
            gold_path, None, f"has {len(gold)} lines but {input_path.name} has {len(pairs)}"
        )
    rows: list[Row] = []
    skipped = 0
    for number, (pair, score) in enumerate(zip(pairs, gold, strict=True), 1):
        columns = pair.split("\t")
        if len(columns) < 2:
            raise source_error(
                input_path, number, "expected 2 tab-separated sentences, found 1 column"
            )
        if not score.strip():
            skipped += 1
            continue
        value = parse_score(score.strip(), task.min_score, task.max_score, gold_path, number)
        row = {"split": "test", "sentence1": columns[0], "sentence2": columns[1], "score": value}
        rows.append(check_sentences(row, input_path, number))
    return rows, skipped
