"""Convert dataset files into the offline mirror layout, by source format (``FORMATS``).

Release formats read one dataset's original files (SemEval STS, STS-B, BIOSSES, Banking77);
generic formats read any task of a type: ``sts`` (sentence1, sentence2, score),
``pair-classification`` (sentence1, sentence2, label), ``classification`` (text, label), all
three from ``<split>.<csv|tsv|jsonl>`` tables, and ``beir`` (retrieval).
``import_dataset(src, out, task)`` writes ``out/<hub dataset path>/`` for one task; without a task,
``src`` is one recognisable release folder or a folder of them (see ``detect_task``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.data.importers import (
    beir,
    biosses,
    csv_classification,
    generic,
    semeval_sts,
    stsbenchmark,
)
from harness.data.importers.base import Converted, ImportSummary
from harness.data.importers.tables import TableOptions
from harness.data.importers.writer import write_mirror
from harness.errors import UsageError, unknown_choice
from harness.registry import Registry

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

__all__ = ["FORMATS", "ImportSummary", "detect_task", "formats_for", "import_dataset"]


@dataclass(frozen=True)
class ImportFormat:
    """One source format: its files, the tasks it serves, how to convert (and recognise) it."""

    layout: str
    convert: Callable[[Path, AbsTask, TableOptions], Converted]
    matches: Callable[[Path, str], bool] | None = None
    """Whether a folder holds this format's files."""
    tasks: tuple[str, ...] = ()
    """The tasks it is the original release of, recognised by their files without --task."""
    named: bool = False
    """Recognising ``tasks`` also needs a folder named after the task: the files do not say."""
    task_type: str | None = None
    """A generic format: any task of this mteb type."""
    options: bool = False
    """It reads ``--column`` and ``--delimiter``."""


def _release(convert: Callable[[Path, AbsTask], Converted]) -> Callable[..., Converted]:
    return lambda src, task, options: convert(src, task)


FORMATS: Registry[ImportFormat] = Registry("import format")
FORMATS.add("semeval-sts", ImportFormat(
    "STS.input.<subset>.txt + STS.gs.<subset>.txt", _release(semeval_sts.convert),
    semeval_sts.matches, tuple(semeval_sts.SUBSETS)))
FORMATS.add("stsbenchmark", ImportFormat(
    "sts-{train,dev,test}.csv", _release(stsbenchmark.convert), stsbenchmark.matches,
    ("STSBenchmark",)))
FORMATS.add("biosses", ImportFormat(
    "biosses.tsv", _release(biosses.convert), biosses.matches, ("BIOSSES",)))
FORMATS.add("banking77", ImportFormat(
    "train.csv + test.csv (text,category) + categories.json", _release(csv_classification.convert),
    csv_classification.matches, ("Banking77Classification",), named=True))
FORMATS.add("beir", ImportFormat(
    "BEIR: corpus.jsonl or corpus-partNN.jsonl, queries.jsonl, qrels/<split>.tsv",
    _release(beir.convert_any), beir.matches, ("SciFact",), named=True, task_type="Retrieval"))
_TABLES = "<split>.<csv|tsv|jsonl> with columns"
FORMATS.add("sts", ImportFormat(
    f"{_TABLES} sentence1, sentence2, score", generic.convert_sts, generic.matches,
    task_type="STS", options=True))
FORMATS.add("pair-classification", ImportFormat(
    f"{_TABLES} sentence1, sentence2, label (0/1)", generic.convert_pairs, generic.matches,
    task_type="PairClassification", options=True))
FORMATS.add("classification", ImportFormat(
    f"{_TABLES} text, label", generic.convert_classification, generic.matches,
    task_type="Classification", options=True))


def formats_for(task: AbsTask) -> list[str]:
    """The formats that can write ``task``'s mirror, its release format first; [] if none."""
    name = task.metadata.name
    release = [fmt for fmt, imp in FORMATS.items() if name in imp.tasks]
    if _refusal(task) is not None:
        return release
    return release + [fmt for fmt, imp in FORMATS.items()
                      if imp.task_type == task.metadata.type and fmt not in release]


def _refusal(task: AbsTask) -> str | None:
    """Why no generic format can write ``task``'s mirror, or None."""
    from mteb import abstasks

    from harness.data.importers.base import own_transform

    meta = task.metadata
    if meta.type not in _generic_types():
        return f"task type {meta.type} has no importer"
    kind = {"STS": abstasks.AbsTaskSTS, "PairClassification": abstasks.AbsTaskPairClassification,
            "Classification": abstasks.AbsTaskClassification,
            "Retrieval": abstasks.AbsTaskRetrieval}[meta.type]
    if not isinstance(task, kind):
        return f"it is not an {kind.__name__} (it derives from {type(task).__mro__[1].__name__})"
    if list(meta.modalities) != ["text"]:
        return f"it is a {'+'.join(meta.modalities)} task and the formats hold text"
    if type(task).load_data not in (abstasks.AbsTask.load_data, kind.load_data):
        return f"it loads its data with code of its own ({type(task).__name__}.load_data)"
    if meta.type == "Retrieval" and own_transform(task):
        return "its dataset_transform reshapes the hub data, which a BEIR folder does not hold"
    return None


def _generic_types() -> list[str]:
    return sorted(imp.task_type for _, imp in FORMATS.items() if imp.task_type)


_NO_LAYOUT = "no known dataset layout"


def import_dataset(src: Path, out: Path, task: str | None = None, fmt: str | None = None,
                   columns: Sequence[str] = (), delimiter: str | None = None
                   ) -> list[ImportSummary]:
    """Import ``src`` into the mirror under ``out``; one summary per source folder looked at.

    With ``task``, ``src`` holds that task's data in ``fmt`` (by default its release format when
    the files are that, else the generic format of its type); ``columns`` (``NEW=OLD``) and
    ``delimiter`` apply to the table formats. Without it, ``src`` is one recognisable release
    folder or a folder of them; unrecognised subfolders are reported as skipped.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise UsageError(f"source folder {src} does not exist or is not a folder")
    options = TableOptions.parse(columns, delimiter)
    if task is not None:
        task_obj = _importable_task(task)
        chosen = _format(src, task_obj, fmt)
        if options and not FORMATS[chosen].options:
            tables = ", ".join(name for name, imp in FORMATS.items() if imp.options)
            raise UsageError(f"--column and --delimiter apply to the table formats ({tables}), "
                             f"not to {chosen}")
        return [_import_one(src, out, task_obj, chosen, options)]
    if fmt is not None or options:
        raise UsageError("--format, --column and --delimiter need --task (the mteb task that "
                         "SRC holds)")
    own, why_not = detect_task(src)
    if own is not None:
        return [_import_detected(src, out, own)]
    summaries = []
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name, why = detect_task(folder)
        summaries.append(
            _import_detected(folder, out, name)
            if name is not None
            else ImportSummary(source=folder, task=None, folder=None, notes=(why,))
        )
    if not any(summary.task for summary in summaries):
        if why_not != _NO_LAYOUT:
            raise UsageError(f"{src}: {why_not}")
        raise UsageError(f"no importable dataset folder in {src} (known layouts: {_layouts()})")
    return summaries


def _importable_task(name: str) -> AbsTask:
    """mteb's task ``name`` if some format can write it; UsageError naming why not."""
    import mteb

    try:
        task = mteb.get_task(name)
    except (KeyError, ValueError):
        names = [t.metadata.name for t in mteb.get_tasks(exclude_superseded=False)
                 if formats_for(t)]
        raise unknown_choice("importable task", name, names) from None
    if not formats_for(task):
        raise UsageError(f"no importer for {name}: {_refusal(task)} (importers exist for "
                         f"{', '.join(_generic_types())} tasks)")
    return task


def _format(src: Path, task: AbsTask, fmt: str | None) -> str:
    """``fmt`` if it serves ``task``; else the first format serving it whose files ``src``
    holds (release formats first), else its release format (whose errors name its files)."""
    served = formats_for(task)
    if fmt is not None:
        FORMATS.check(fmt)
        if fmt not in served:
            raise UsageError(f"format {fmt} does not serve {task.metadata.name} (a "
                             f"{task.metadata.type} task); formats for it: {', '.join(served)}")
        return fmt
    name = task.metadata.name
    fitting = [f for f in served if FORMATS[f].matches and FORMATS[f].matches(src, name)]
    release = [f for f in served if name in FORMATS[f].tasks]
    return (fitting or release or served)[0]


def detect_task(folder: Path) -> tuple[str | None, str]:
    """The task whose release layout ``folder`` holds, or None and why not.

    Layouts specific to one dataset (SemEval subset files, sts-test.csv, biosses.tsv) identify it
    by their files. Generic layouts (BEIR, text/category CSVs) must also be in a folder named after
    the task or its hub dataset (``scifact``, ``banking77``).
    """
    fits = [name for fmt, imp in FORMATS.items() if imp.matches for name in imp.tasks
            if imp.matches(folder, name)]
    named = [n for n in fits if not FORMATS[_release_of(n)].named or _named_after(folder, n)]
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


def _release_of(task_name: str) -> str:
    """The format of a task's original release."""
    return next(fmt for fmt, imp in FORMATS.items() if task_name in imp.tasks)


def _layouts() -> str:
    """Each known release layout with the tasks it serves."""
    return "; ".join(f"{imp.layout} ({', '.join(imp.tasks)})" for _, imp in FORMATS.items()
                     if imp.tasks)


def _named_after(folder: Path, task_name: str) -> bool:
    import mteb

    def norm(name: str) -> str:
        return re.sub(r"[^a-z0-9]", "", name.lower())

    hub_name = mteb.get_task(task_name).metadata.dataset["path"].rsplit("/", 1)[-1]
    return norm(folder.name) in {norm(task_name), norm(hub_name)}


def _import_detected(src: Path, out: Path, task_name: str) -> ImportSummary:
    import mteb

    return _import_one(src, out, mteb.get_task(task_name), _release_of(task_name),
                       TableOptions())


def _import_one(src: Path, out: Path, task: AbsTask, fmt: str,
                options: TableOptions) -> ImportSummary:
    task_name = task.metadata.name
    converted = FORMATS[fmt].convert(src, task, options)
    empty = [table.path for table in converted.tables if not table.count]
    if empty:
        raise UsageError(f"{src}: no rows for {', '.join(empty)}; nothing imported")
    dataset = task.metadata.dataset
    marker = {
        "task": task_name,
        "dataset_revision": dataset["revision"],
        "source": str(src.resolve()),
        "rows": {table.name: table.count for table in converted.tables},
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
