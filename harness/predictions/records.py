"""Per-item records: what mteb's evaluators produced for each item of a task, kept per run.

``mteb.evaluate(..., prediction_folder=...)`` writes ``<Task>_predictions.json`` (per subset and
split: STS similarities, pair-classification scores, the ranking of each retrieval query, each
classification experiment's predicted labels, clustering assignments). The record adds what
pairs items across runs and what mteb's metric needs: item ids (row numbers, query ids), gold
labels, per-query retrieval measures, clustering's per-experiment v-measures, a digest of the
items' texts and mteb's main score, checked against the record when it is written. Records are
gzipped JSON in ``<run folder>/predictions/<Task>.json.gz``. Retrieval rankings are kept to
the top :data:`TOP_K` documents per query (the per-query measures come from mteb's full ranking).
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mteb import TaskResult
from mteb.abstasks import (
    AbsTaskClassification,
    AbsTaskClustering,
    AbsTaskPairClassification,
    AbsTaskRetrieval,
    AbsTaskSTS,
)
from mteb.abstasks.clustering_legacy import AbsTaskClusteringLegacy
from mteb.abstasks.multilabel_classification import AbsTaskMultilabelClassification

from harness import _compat
from harness.errors import one_line
from harness.fileio import atomic_write_bytes
from harness.predictions.scorers import Scorer, retrieval_key, scorer_for
from harness.predictions.texts import texts_digest

log = logging.getLogger(__name__)
PREDICTIONS_DIR = "predictions"
FORMAT = "harness-predictions/1"
TOP_K = 100  # retrieval documents kept per query


@dataclass(frozen=True)
class SubsetRecord:
    """One split and subset of a task record (``entry`` is its JSON object)."""

    split: str
    subset: str
    entry: dict


@dataclass(frozen=True)
class TaskRecord:
    """A task's per-item record, as read back from ``predictions/<Task>.json.gz``."""

    task: str
    task_type: str
    kind: str
    main_score: str
    subsets: list[SubsetRecord]
    path: Path

    def scorers(self) -> dict[tuple[str, str], Scorer] | None:
        """(split, subset) -> scorer of every subset; None when the kind or main score has no
        per-item statistic or a subset's record did not reproduce mteb's main score."""
        found = {}
        for sub in self.subsets:
            scorer = scorer_for(self.kind, self.task, self.main_score, sub.entry)
            if scorer is None or not sub.entry.get("reproduced", False):
                return None
            found[(sub.split, sub.subset)] = scorer
        return found or None


def kind_of(task: Any) -> str:
    """Which record a task gets: sts, pair, retrieval, classification, clustering or raw."""
    if isinstance(task, AbsTaskSTS):
        return "sts"
    if isinstance(task, AbsTaskPairClassification):
        return "pair"
    if isinstance(task, AbsTaskRetrieval):
        return "retrieval"
    if isinstance(task, AbsTaskMultilabelClassification):
        return "raw"
    if isinstance(task, AbsTaskClassification) and not task.is_cross_validation:
        return "classification"
    if isinstance(task, AbsTaskClustering | AbsTaskClusteringLegacy):
        return "clustering"
    return "raw"


def _sts(task: Any, data: Any, predictions: dict, scores: dict) -> dict:
    return {"ids": list(range(len(data))), "labels": _compat.sts_gold(task, data["score"]),
            "predictions": predictions}


def _pair(task: Any, data: Any, predictions: dict, scores: dict) -> dict:
    data = _compat.single_row_pairs(data)
    return {"ids": list(range(len(data))), "labels": list(data[task.label_column_name]),
            "predictions": predictions}


def _retrieval(task: Any, data: dict, predictions: dict, scores: dict) -> dict:
    per_query = _compat.retrieval_query_scores(task, data["relevant_docs"], predictions)
    key = retrieval_key(task.metadata.main_score)
    ids = [qid for qid, values in per_query.items() if key is not None and key in values]
    top = {qid: dict(sorted(docs.items(), key=lambda d: (d[1], d[0]), reverse=True)[:TOP_K])
           for qid, docs in predictions.items()}
    return {"ids": ids, "values": [per_query[qid][key] for qid in ids] if key else None,
            "measure": key, "predictions": top}


def _classification(task: Any, data: Any, predictions: list, scores: dict) -> dict:
    labels = list(data[task.label_column_name])
    return {"ids": list(range(len(labels))), "labels": labels, "predictions": predictions}


def _clustering(task: Any, data: Any, predictions: Any, scores: dict) -> dict:
    v_measures = scores.get("v_measures")
    if isinstance(v_measures, dict):  # per hierarchy level (mteb's fast clustering)
        v_measures = [v for level in v_measures.values() for v in level]
    return {"experiments": v_measures, "predictions": predictions}


_BUILDERS = {"sts": _sts, "pair": _pair, "retrieval": _retrieval,
             "classification": _classification, "clustering": _clustering}


def build_record(task: Any, result: TaskResult, predictions: dict) -> dict:
    """The record of one evaluated task from mteb's predictions file (``predictions``) and the
    task's loaded data; every subset is scored from the record and checked against
    ``result``'s main score (``reproduced``)."""
    kind = kind_of(task)
    meta = task.metadata
    subsets = []
    for split, rows in result.scores.items():
        for scores in rows:
            subset = scores["hf_subset"]
            raw = predictions.get(subset, {}).get(split)
            entry: dict[str, Any] = {"split": split, "subset": subset,
                                     "main_score": float(scores["main_score"])}
            if kind in _BUILDERS and raw is not None:
                data = _compat.split_data(task, subset, split)
                entry.update(_BUILDERS[kind](task, data, raw, scores))
                if "ids" in entry:
                    entry["texts_digest"] = texts_digest(task, kind, data, entry["ids"])
                scorer = scorer_for(kind, meta.name, meta.main_score, entry)
                entry["reproduced"] = scorer is not None and scorer.reproduces(
                    entry["main_score"])
                if scorer is not None and not entry["reproduced"]:
                    log.warning("%s %s/%s: the per-item record gives %s, mteb's main score is "
                                "%s; no significance test for this task", meta.name, split,
                                subset, scorer.score(), entry["main_score"])
            else:
                entry["predictions"] = raw
            subsets.append(entry)
    return {"format": FORMAT, "task": meta.name, "task_type": meta.type, "kind": kind,
            "main_score": meta.main_score, "mteb_version": result.mteb_version,
            "model": predictions.get("mteb_model_meta"), "subsets": subsets}


@contextmanager
def mteb_prediction_folder(enabled: bool) -> Iterator[Path | None]:
    """A fresh folder for mteb's ``prediction_folder`` (None when predictions are not kept);
    mteb merges into an existing file, so every evaluation gets its own."""
    if not enabled:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="harness-predictions-") as folder:
        yield Path(folder)


def record_path(run_folder: Path, task_name: str) -> Path:
    """Where a run folder keeps the record of ``task_name``."""
    return run_folder / PREDICTIONS_DIR / f"{task_name}.json.gz"


def save_predictions(task: Any, result: TaskResult, mteb_folder: Path, run_folder: Path) -> str:
    """Write ``run_folder/predictions/<Task>.json.gz`` from mteb's predictions file in
    ``mteb_folder``; returns its path relative to ``run_folder`` (for the manifest)."""
    source = mteb_folder / f"{task.metadata.name}_predictions.json"
    predictions = json.loads(source.read_text(encoding="utf-8"))
    record = build_record(task, result, predictions)
    path = record_path(run_folder, task.metadata.name)
    data = json.dumps(record, separators=(",", ":")).encode("utf-8")
    atomic_write_bytes(path, gzip.compress(data, mtime=0))
    return path.relative_to(run_folder).as_posix()


def read_record(folder: Path, task_name: str) -> TaskRecord | None:
    """The record of ``task_name`` in a run folder; None when there is none. An unreadable
    one is reported in one warning line and read as none."""
    path = record_path(folder, task_name)
    try:
        raw = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, not {FORMAT!r}")
        return TaskRecord(raw["task"], raw["task_type"], raw["kind"], raw["main_score"],
                          [SubsetRecord(s["split"], s["subset"], s) for s in raw["subsets"]],
                          path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
            zlib.error) as exc:
        log.warning("ignoring unreadable predictions file %s (%s)", path, one_line(exc, 160))
        return None
