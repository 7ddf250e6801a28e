"""Result files in the embeddings-benchmark/results layout, written atomically and read back.

Layout: ``<output_dir>/<org__model>/<revision>/[experiments/<variant>/]<TaskName>.json``. The
plain ``<revision>/`` folder holds the model's default dim (the native one, or the recipe's
``default_dim``), as mteb and the results repo keep it. A variant folder is ``dim_<d>`` (another
MRL dim), ``dim_<d>_<q>`` (that dim stored as ``q``: int8, ubinary), ``<q>`` (the default dim
stored as ``q``), or any of these after ``<experiment>__`` for a recipe that sets
``experiment`` (e.g. ``card`` or ``card__dim_256``: another protocol of the same model); any
other experiment folder name is an experiment of its own.

Files are written atomically (:mod:`harness.fileio`); temporaries left by killed processes of
this host are removed by the next write. A file that exists but cannot be read is reported in one
warning line wherever it is read, never skipped in silence.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mteb import TaskResult

from harness.errors import UsageError, one_line
from harness.fileio import atomic_write_text, atomic_write_with, read_json, remove_stale_temps
from harness.models.quantize import NONE as FLOAT32
from harness.models.quantize import QUANTIZATIONS
from harness.paths import check_revision, inside, model_folder_name
from harness.protocol import protocol_label, read_protocol

log = logging.getLogger(__name__)
MANIFEST_NAME = "run_manifest.json"
NOT_RESULTS = (MANIFEST_NAME, "model_meta.json")  # JSONs beside the results (the results repo's)
_STORED = "|".join(q for q in QUANTIZATIONS if q != FLOAT32)
EXPERIMENT_SEP = "__"
_VARIANT = re.compile(rf"dim_(?P<dim>\d+)(?:_(?P<quantize>{_STORED}))?|(?P<alone>{_STORED})")


def variant_name(dim: int | None, quantize: str = FLOAT32,
                 experiment: str | None = None) -> str | None:
    """The ``experiments/`` folder name of a dim, storage precision and experiment (None: the
    plain folder)."""
    parts = ([] if dim is None else [f"dim_{dim}"]) + ([] if quantize == FLOAT32 else [quantize])
    variant = "_".join(parts)
    if experiment:
        return f"{experiment}{EXPERIMENT_SEP}{variant}" if variant else experiment
    return variant or None


def variant_label(dim: int | None, quantize: str = FLOAT32,
                  experiment: str | None = None) -> str:
    """``card, dim 256, int8``, ``dim 256``, ``int8`` or empty (the plain run)."""
    return ", ".join(([experiment] if experiment else []) + ([] if dim is None else [f"dim {dim}"])
                     + ([] if quantize == FLOAT32 else [quantize]))


def run_folder(
    output_dir: str | Path, model_name: str, revision: str | None, dim: int | None = None,
    quantize: str = FLOAT32, experiment: str | None = None,
) -> Path:
    """The folder that holds one model's task JSONs (one per MRL dim, precision and
    experiment; ``dim`` None is the default dim); names go through :mod:`harness.paths`, and a
    folder resolving outside ``output_dir`` is refused."""
    folder = Path(output_dir) / model_folder_name(model_name) / check_revision(revision)
    variant = variant_name(dim, quantize, experiment)
    return inside(output_dir, folder if variant is None else folder / "experiments" / variant,
                  "output_dir")


def main_score(result: TaskResult) -> float:
    """The main score over the task's evaluation splits only (published files often also hold
    train/validation scores, which ``TaskResult.main_score`` would average in)."""
    try:
        eval_splits = [s for s in result.task.metadata.eval_splits if s in result.scores]
    except (KeyError, ValueError):
        eval_splits = []
    return float(result.get_score(splits=eval_splits or None))


def finite_main_score(result: TaskResult) -> float | None:
    """:func:`main_score` when it is a finite number; None for NaN, inf or no main score (such
    a result is not done, and no table shows it)."""
    try:
        score = main_score(result)
    except (KeyError, ValueError, TypeError):
        return None
    return score if math.isfinite(score) else None


def write_task_result(result: TaskResult, folder: Path) -> Path:
    """Save a TaskResult as ``<folder>/<TaskName>.json`` atomically (mteb's own JSON format).

    ``TaskResult.to_disk`` writes in place, so a crash mid-write would leave a torn JSON: it
    writes a private temporary file that is synced and renamed over the target."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)
    return atomic_write_with(folder / f"{result.task_name}.json", result.to_disk)


def read_task_result(path: Path, mteb_version: str | None = None) -> TaskResult | None:
    """Load ``<TaskName>.json``; ``None`` when it is missing or unreadable (torn, hand-edited,
    foreign, another task's), or with ``mteb_version`` when another mteb version wrote it. Every
    file that exists but is not returned is reported in one warning line."""
    try:
        result = TaskResult.from_disk(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        log.warning("ignoring unreadable result file %s (%s)", path, one_line(exc, 160))
        return None
    if not result.scores:
        log.warning("ignoring result file %s: it holds no scores", path)
        return None
    if result.task_name != path.stem:
        log.warning("ignoring result file %s: it holds task %s", path, result.task_name)
        return None
    if mteb_version is not None and result.mteb_version != mteb_version:
        log.warning("ignoring result file %s: written by mteb %s, not the installed %s",
                    path, result.mteb_version, mteb_version)
        return None
    return result


@dataclass(frozen=True)
class RunFolder:
    """One folder of task JSONs: a model at a revision, optionally one MRL dim and a storage
    precision other than float32."""

    model: str
    revision: str
    dim: int | None
    path: Path
    quantize: str = FLOAT32
    experiment: str | None = None

    @property
    def label(self) -> str:
        """Row label used in tables: the model name plus the experiment, dim and precision
        when set."""
        variant = variant_label(self.dim, self.quantize, self.experiment)
        return f"{self.model} ({variant})" if variant else self.model


def find_run_folders(results_dir: str | Path) -> list[RunFolder]:
    """Every folder under ``results_dir`` that holds task JSONs, in a stable order."""
    root = Path(results_dir)
    if not root.is_dir():
        raise UsageError(f"results folder {str(root)!r} does not exist")
    folders: dict[Path, RunFolder] = {}
    for json_path in sorted(root.rglob("*.json")):
        if json_path.name in NOT_RESULTS or json_path.parent in folders:
            continue
        # hidden files and folders (.running/ markers, .hydra/ sweep logs) hold no results
        if any(part.startswith(".") for part in json_path.relative_to(root).parts):
            continue
        run = run_folder_of(root, json_path.parent)
        if run is not None:
            folders[run.path] = run
    return list(folders.values())


def run_folder_of(root: Path, folder: Path) -> RunFolder | None:
    """Model, revision, dim and precision of a results folder from its path under ``root``."""
    rel = folder.relative_to(root).parts
    dim, quantize, experiment = None, FLOAT32, None
    if len(rel) >= 4 and rel[-2] == "experiments":
        name = rel[-1]
        experiment, sep, variant = name.partition(EXPERIMENT_SEP)
        if not sep:
            experiment, variant = (None, name) if _VARIANT.fullmatch(name) else (name, "")
        match = _VARIANT.fullmatch(variant)
        if match:
            dim = int(match["dim"]) if match["dim"] else None
            quantize = match["quantize"] or match["alone"] or FLOAT32
        elif variant:
            experiment = name  # an experiment folder of its own that only looks like one of ours
        rel = rel[:-2]
    if len(rel) < 2:
        return None
    return RunFolder(model=rel[-2].replace("__", "/"), revision=rel[-1], dim=dim, path=folder,
                     quantize=quantize, experiment=experiment or None)


def load_scores(results_dir: str | Path) -> pd.DataFrame:
    """Main scores of every task JSON under ``results_dir``.

    Columns: ``model``, ``revision``, ``dim``, ``quantize``, ``label``, ``task``, ``task_type``,
    ``main_score`` (mteb's 0-1 scale), ``protocol`` (the short id of the protocol that produced
    it, None when none is recorded). Unreadable files and non-finite scores are skipped, each
    with one warning line.
    """
    rows = []
    for run in find_run_folders(results_dir):
        for json_path in sorted(run.path.glob("*.json")):
            if json_path.name in NOT_RESULTS:
                continue
            result = read_task_result(json_path)
            if result is None:
                continue
            try:
                task_type = result.task_type
            except (KeyError, ValueError):
                task_type = None
            try:
                score = main_score(result)
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("ignoring result file %s: no main score (%s)", json_path,
                            one_line(exc, 160))
                continue
            if not math.isfinite(score):
                log.warning("ignoring result file %s: its main score is %s", json_path, score)
                continue
            rows.append(
                {
                    "model": run.model,
                    "revision": run.revision,
                    "dim": run.dim,
                    "quantize": run.quantize,
                    "label": run.label,
                    "task": result.task_name,
                    "task_type": task_type,
                    "main_score": score,
                    "protocol": stored_protocol_id(run.path, result.task_name),
                }
            )
    columns = ["model", "revision", "dim", "quantize", "label", "task", "task_type", "main_score",
               "protocol"]
    return pd.DataFrame(rows, columns=columns)


def stored_protocol_id(folder: Path, task_name: str) -> str | None:
    """The short protocol id stored beside a task's result (:mod:`harness.protocol`)."""
    protocol = read_protocol(folder, task_name)
    return None if protocol is None else protocol.id


def run_protocol(folder: Path) -> str:
    """The protocol id(s) of a run folder's task results, as shown by table and compare."""
    return protocol_label([stored_protocol_id(folder, path.stem) for path in
                           sorted(folder.glob("*.json")) if path.name not in NOT_RESULTS])


def write_manifest(folder: Path, manifest: dict) -> None:
    """Write the run manifest (config, versions, timings) beside the task JSONs."""
    atomic_write_text(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))


def read_manifest(folder: Path) -> dict:
    """The run manifest of ``folder``, or an empty dict when there is none; an unreadable one
    (torn, hand-edited) is reported in one warning line and read as empty."""
    path = folder / MANIFEST_NAME
    try:
        manifest = read_json(path)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as exc:
        log.warning("ignoring unreadable %s (%s)", path, one_line(exc, 160))
        return {}
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tasks", {}), dict):
        log.warning("ignoring %s: not a run manifest", path)
        return {}
    return manifest


def version_drift(folder: Path, installed: dict[str, str]) -> str | None:
    """One line naming the libraries whose versions in ``folder``'s manifest differ from the
    ``installed`` ones (None when they agree or there is no manifest)."""
    recorded = read_manifest(folder).get("versions")
    if not isinstance(recorded, dict):
        return None
    changed = [f"{name} {recorded.get(name, 'absent')} -> {installed.get(name, 'absent')}"
               for name in sorted(set(recorded) | set(installed))
               if str(recorded.get(name)) != str(installed.get(name))]
    if not changed:
        return None
    return (f"{folder / MANIFEST_NAME} was written with other library versions "
            f"({', '.join(changed)}): results of another mteb version are recomputed, the others "
            "are kept (overwrite=true recomputes them)")
