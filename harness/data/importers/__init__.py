"""Convert datasets in their original release formats into the offline mirror layout.

``import_dataset(src, out, task)`` writes ``out/<hub dataset path>/`` for one task; without a task,
``src`` is either one recognisable dataset folder or a folder of dataset folders, each recognised
by its files (see ``detect_task``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data.importers import beir, biosses, csv_classification, semeval_sts, stsbenchmark
from harness.data.importers.base import Converted, ImportSummary
from harness.data.importers.writer import write_mirror
from harness.errors import UsageError, unknown_choice

__all__ = ["ImportSummary", "detect_task", "import_dataset", "importable_tasks"]


@dataclass(frozen=True)
class _Importer:
    """One source format: how to recognise it and how to convert it."""

    layout: str
    matches: Callable[[Path, str], bool]
    convert: Callable[[Path, Any], Converted]
    generic: bool = False
    """The files do not tell which dataset it is: detection also needs the folder's name."""


_SEMEVAL = _Importer(
    "STS.input.<subset>.txt + STS.gs.<subset>.txt", semeval_sts.matches, semeval_sts.convert
)
_IMPORTERS: dict[str, _Importer] = {
    **{name: _SEMEVAL for name in semeval_sts.SUBSETS},
    "STSBenchmark": _Importer(
        "sts-{train,dev,test}.csv", stsbenchmark.matches, stsbenchmark.convert
    ),
    "BIOSSES": _Importer("biosses.tsv", biosses.matches, biosses.convert),
    "SciFact": _Importer(
        "BEIR: corpus.jsonl or corpus-partNN.jsonl, queries.jsonl, qrels/<split>.tsv",
        beir.matches,
        beir.convert,
        generic=True,
    ),
    "Banking77Classification": _Importer(
        "train.csv + test.csv (text,category) + categories.json",
        csv_classification.matches,
        csv_classification.convert,
        generic=True,
    ),
}


_NO_LAYOUT = "no known dataset layout"


def importable_tasks() -> list[str]:
    """The mteb task names that ``import_dataset`` can write."""
    return sorted(_IMPORTERS)


def import_dataset(src: Path, out: Path, task: str | None = None) -> list[ImportSummary]:
    """Import ``src`` into the mirror under ``out``; one summary per source folder looked at.

    With ``task``, ``src`` is that task's dataset folder. Without it, ``src`` is one recognisable
    dataset folder or a folder of them; unrecognised subfolders are reported as skipped.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise UsageError(f"source folder {src} does not exist or is not a folder")
    if task is not None:
        if task not in _IMPORTERS:
            raise unknown_choice("importable task", task, _IMPORTERS)
        return [_import_one(src, out, task)]
    own, why_not = detect_task(src)
    if own is not None:
        return [_import_one(src, out, own)]
    summaries = []
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name, why = detect_task(folder)
        summaries.append(
            _import_one(folder, out, name)
            if name is not None
            else ImportSummary(source=folder, task=None, folder=None, notes=(why,))
        )
    if not any(summary.task for summary in summaries):
        if why_not != _NO_LAYOUT:
            raise UsageError(f"{src}: {why_not}")
        raise UsageError(f"no importable dataset folder in {src} (known layouts: {_layouts()})")
    return summaries


def detect_task(folder: Path) -> tuple[str | None, str]:
    """The task whose source layout ``folder`` holds, or None and why not.

    Layouts specific to one dataset (SemEval subset files, sts-test.csv, biosses.tsv) identify it
    by their files. Generic layouts (BEIR, text/category CSVs) must also be in a folder named after
    the task or its hub dataset (``scifact``, ``banking77``).
    """
    fits = [name for name, imp in _IMPORTERS.items() if imp.matches(folder, name)]
    named = [n for n in fits if not _IMPORTERS[n].generic or _named_after(folder, n)]
    if len(named) == 1:
        return named[0], ""
    if named:
        return None, f"ambiguous: could be {', '.join(named)}; use --task"
    if fits:
        return (
            None,
            f"the layout fits {', '.join(fits)} but the folder name does not say which; use --task",
        )
    return None, _NO_LAYOUT


def _layouts() -> str:
    """Each known source layout with the tasks it serves."""
    tasks: dict[str, list[str]] = {}
    for name, imp in _IMPORTERS.items():
        tasks.setdefault(imp.layout, []).append(name)
    return "; ".join(f"{layout} ({', '.join(names)})" for layout, names in tasks.items())


def _named_after(folder: Path, task_name: str) -> bool:
    import mteb

    def norm(name: str) -> str:
        return re.sub(r"[^a-z0-9]", "", name.lower())

    hub_name = mteb.get_task(task_name).metadata.dataset["path"].rsplit("/", 1)[-1]
    return norm(folder.name) in {norm(task_name), norm(hub_name)}


def _import_one(src: Path, out: Path, task_name: str) -> ImportSummary:
    import mteb

    task = mteb.get_task(task_name)
    converted = _IMPORTERS[task_name].convert(src, task)
    empty = [table.path for table in converted.tables if not table.rows]
    if empty:
        raise UsageError(f"{src}: no rows for {', '.join(empty)}; nothing imported")
    dataset = task.metadata.dataset
    marker = {
        "task": task_name,
        "dataset_revision": dataset["revision"],
        "source": str(src.resolve()),
        "rows": {table.name: len(table.rows) for table in converted.tables},
    }
    folder = write_mirror(converted, out, dataset["path"], marker)
    return ImportSummary(
        source=src,
        task=task_name,
        folder=folder,
        rows=dict(marker["rows"]),
        skipped_rows=converted.skipped_rows,
        notes=tuple(converted.notes),
    )
