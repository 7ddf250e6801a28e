"""Result files in the embeddings-benchmark/results layout, written atomically and read back.

Layout: ``<output_dir>/<org__model>/<revision>/[experiments/dim_<d>/]<TaskName>.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mteb import TaskResult

from harness.errors import HarnessError

LOCAL_REVISION = "local"
MANIFEST_NAME = "run_manifest.json"


def model_folder_name(model_name: str) -> str:
    """``org/model`` -> ``org__model`` (the results repo's folder naming)."""
    return model_name.replace("/", "__")


def run_folder(
    output_dir: str | Path, model_name: str, revision: str | None, dim: int | None = None
) -> Path:
    """The folder that holds one model's task JSONs (one per MRL dim when ``dim`` is set)."""
    folder = Path(output_dir) / model_folder_name(model_name) / (revision or LOCAL_REVISION)
    if dim is not None:
        folder = folder / "experiments" / f"dim_{dim}"
    return folder


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers only ever see the old or the complete new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_task_result(result: TaskResult, folder: Path) -> Path:
    """Save a TaskResult as ``<folder>/<TaskName>.json`` atomically (mteb's own JSON format)."""
    path = folder / f"{result.task_name}.json"
    folder.mkdir(parents=True, exist_ok=True)
    # TaskResult.to_disk writes in place, so a crash mid-write would leave a torn JSON:
    # let it write a private temporary file and rename that over the target.
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        result.to_disk(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_task_result(path: Path) -> TaskResult | None:
    """Load one result JSON; ``None`` when the file is unreadable (torn, hand-edited, foreign)."""
    try:
        return TaskResult.from_disk(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class RunFolder:
    """One folder of task JSONs: a model at a revision, optionally one MRL dim."""

    model: str
    revision: str
    dim: int | None
    path: Path

    @property
    def label(self) -> str:
        """Row label used in tables: the model name plus the dim when there is one."""
        return self.model if self.dim is None else f"{self.model} (dim {self.dim})"


def find_run_folders(results_dir: str | Path) -> list[RunFolder]:
    """Every folder under ``results_dir`` that holds task JSONs, in a stable order."""
    root = Path(results_dir)
    if not root.is_dir():
        raise HarnessError(f"results folder {str(root)!r} does not exist")
    folders: dict[Path, RunFolder] = {}
    for json_path in sorted(root.rglob("*.json")):
        if json_path.name == MANIFEST_NAME or json_path.name.startswith("."):
            continue
        folder = json_path.parent
        if folder in folders:
            continue
        rel = folder.relative_to(root).parts
        dim = None
        if len(rel) >= 4 and rel[-2] == "experiments" and rel[-1].startswith("dim_"):
            dim = int(rel[-1].removeprefix("dim_"))
            rel = rel[:-2]
        if len(rel) < 2:
            continue
        model = rel[-2].replace("__", "/")
        folders[folder] = RunFolder(model=model, revision=rel[-1], dim=dim, path=folder)
    return list(folders.values())


def load_scores(results_dir: str | Path) -> pd.DataFrame:
    """Main scores of every task JSON under ``results_dir``.

    Columns: ``model``, ``revision``, ``dim``, ``label``, ``task``, ``task_type``, ``main_score``
    (mteb's 0-1 scale). Unreadable files are skipped.
    """
    rows = []
    for run in find_run_folders(results_dir):
        for json_path in sorted(run.path.glob("*.json")):
            if json_path.name == MANIFEST_NAME:
                continue
            result = read_task_result(json_path)
            if result is None:
                continue
            try:
                task_type = result.task_type
            except (KeyError, ValueError):
                task_type = None
            rows.append(
                {
                    "model": run.model,
                    "revision": run.revision,
                    "dim": run.dim,
                    "label": run.label,
                    "task": result.task_name,
                    "task_type": task_type,
                    "main_score": float(result.main_score),
                }
            )
    columns = ["model", "revision", "dim", "label", "task", "task_type", "main_score"]
    return pd.DataFrame(rows, columns=columns)


def write_manifest(folder: Path, manifest: dict) -> None:
    """Write the run manifest (config, versions, timings) beside the task JSONs."""
    atomic_write_text(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))


def read_manifest(folder: Path) -> dict:
    """The run manifest of ``folder``, or an empty dict when there is none (or it is torn)."""
    try:
        return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
