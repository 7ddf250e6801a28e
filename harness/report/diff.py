"""``harness diff A B --task T``: the items whose outcome moved most between two runs.

The outcome of an item is what the task's main score is computed from: an STS pair's
similarity, a pair-classification score, a retrieval query's main measure (e.g. ``ndcg_cut_10``),
the share of mteb's classification experiments that label a test text right. Texts are read
back from the task's data (``data_root`` of run A's manifest unless given) and checked against
the digest the records keep, so a changed mirror cannot put the wrong text beside a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness import _compat
from harness.errors import DataError, UsageError
from harness.predictions import TaskRecord, item_texts, read_record, texts_digest
from harness.report.paired import pair_runs, same_items, side_runs
from harness.results import RunFolder, read_manifest

FORMATS = ("md", "csv")
TEXT_COLUMNS = {"sts": ("sentence1", "sentence2"), "pair": ("sentence1", "sentence2"),
                "retrieval": ("query",), "classification": ("text",)}
SHOWN_CHARS = 100  # text shown per cell in markdown (CSV keeps the whole text)


@dataclass
class ItemDiff:
    """The items of one task that moved most, B - A."""

    task: str
    kind: str
    outcome: str
    a: RunFolder
    b: RunFolder
    table: pd.DataFrame
    items: int

    def render(self, fmt: str = "md") -> str:
        """Markdown (texts shortened) or CSV (texts whole)."""
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; valid choices: {', '.join(FORMATS)}")
        if fmt == "csv":
            return self.table.to_csv(index=False)
        shown = self.table.copy()
        for column in TEXT_COLUMNS[self.kind]:
            shown[column] = shown[column].map(_shorten)
        head = (f"# {self.task}: {len(self.table)} of {self.items} items that moved most\n\n"
                f"Outcome: {self.outcome}; change = B - A. A: {self.a.label} ({self.a.path}); "
                f"B: {self.b.label} ({self.b.path}).\n\n")
        return head + shown.to_markdown(index=False, floatfmt=".4f") + "\n"


def _shorten(text: str) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _records(task: str, a: RunFolder, b: RunFolder) -> tuple[TaskRecord, TaskRecord]:
    found = []
    for side, run in (("A", a), ("B", b)):
        record = read_record(run.path, task)
        if record is None:
            raise UsageError(f"no per-item records of {task} in {side} ({run.path}); rerun it "
                             "with save_predictions=true")
        found.append(record)
    why = same_items(*found)
    if why:
        raise UsageError(f"{task}: {why}")
    if found[0].kind not in TEXT_COLUMNS:
        raise UsageError(f"{task} is a {found[0].task_type} task: its records have no "
                         "per-item outcome (clustering keeps per-experiment scores only)")
    if any(r.scorers() is None for r in found):
        raise UsageError(f"{task}: no per-item outcome for main score {found[0].main_score}")
    return found[0], found[1]


def _load_task(task_name: str, run: RunFolder, data_root: str | None):
    from harness.data.mirror import load_task_data
    from harness.schema import TasksConfig
    from harness.tasks import task_objects

    root = data_root or read_manifest(run.path).get("config", {}).get("data_root")
    task = task_objects(TasksConfig(names=[task_name]), root)[0]
    load_task_data(task, root)
    return task


def _subset_rows(task, record: TaskRecord, other: TaskRecord, index: int) -> pd.DataFrame:
    sub = record.subsets[index]
    key = (sub.split, sub.subset)
    sub_b = next(s for s in other.subsets if (s.split, s.subset) == key)
    scorer_a, scorer_b = record.scorers()[key], other.scorers()[key]
    ids = sub.entry["ids"]
    data = _compat.split_data(task, sub.subset, sub.split)
    if texts_digest(task, record.kind, data, ids) != sub.entry["texts_digest"]:
        raise DataError(f"{record.task} {sub.split}/{sub.subset}: the data read back is not "
                        "what the runs were evaluated on (texts differ); pass the data_root "
                        "the runs used")
    texts = item_texts(task, record.kind, data, ids)
    rows = pd.DataFrame(texts, columns=list(TEXT_COLUMNS[record.kind]))
    rows.insert(0, "id", ids)
    if len(record.subsets) > 1:
        rows.insert(0, "subset", f"{sub.split}/{sub.subset}")
    if "labels" in sub.entry:
        rows["gold"] = sub.entry["labels"]
    a, b = scorer_a.outcomes(), scorer_b.outcomes()
    rows["A"], rows["B"], rows["change"] = a, b, np.asarray(b) - np.asarray(a)
    if record.kind == "retrieval":
        for side, entry in (("A", sub.entry), ("B", sub_b.entry)):
            rows[f"top doc {side}"] = [next(iter(entry["predictions"].get(q, {})), "")
                                       for q in ids]
    return rows


def diff_runs(a: str | Path, b: str | Path, task: str, *, model: str | None = None,
              top: int = 20, data_root: str | None = None) -> ItemDiff:
    """The ``top`` items of ``task`` whose outcome changed most from run A to run B."""
    if top < 1:
        raise UsageError(f"--top must be a positive integer, got {top}")
    pairs = pair_runs(side_runs(a, model), side_runs(b, model))
    if len(pairs) > 1:
        raise UsageError("A and B pair several runs (" + ", ".join(x.label for x, _ in pairs)
                         + "); give one run folder each or --model")
    run_a, run_b = pairs[0]
    first, second = _records(task, run_a, run_b)
    loaded = _load_task(task, run_a, data_root)
    table = pd.concat([_subset_rows(loaded, first, second, i)
                       for i in range(len(first.subsets))], ignore_index=True)
    order = table["change"].abs().sort_values(ascending=False, kind="stable").index
    scorer = next(iter(first.scorers().values()))
    return ItemDiff(task, first.kind, scorer.outcome, run_a, run_b,
                    table.loc[order[:top]].reset_index(drop=True), len(table))
