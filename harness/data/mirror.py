"""The offline data mirror: ``DATA_ROOT/<hub dataset path>/`` folders that mteb's loaders read.

A folder is written by ``harness data import`` or is a hub snapshot taken on a connected machine:
``snapshot_download(repo_type="dataset", repo_id=path, local_dir=DATA_ROOT/path)``.
Pointing ``task.metadata.dataset["path"]`` at it makes mteb's unchanged ``task.load_data()`` read
it; ``datasets`` ignores the ``revision`` it is given for a local folder.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness._compat import eager_columns, local_folder_cache
from harness.data.fingerprint import folder_fingerprint
from harness.data.importers import formats_for
from harness.data.importers.base import MARKER_NAME
from harness.errors import DataError, HarnessError, UsageError, one_line
from harness.fileio import read_json
from harness.tasks import mteb_task

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

_DATA_SUFFIXES = {".jsonl", ".json", ".gz", ".parquet", ".csv", ".tsv", ".arrow"}


def check_data_root(data_root: str | Path) -> Path:
    """``data_root`` as a Path; UsageError if it is not an existing folder."""
    root = Path(data_root).expanduser()
    if root.exists() and not root.is_dir():
        raise UsageError(f"data root {root} is a file, not a folder")
    if not root.is_dir():
        raise UsageError(f"data root {root} does not exist")
    return root


def local_dataset_dir(task: AbsTask, data_root: str | Path) -> Path:
    """Where the mirror keeps ``task``'s dataset: ``data_root / metadata.dataset["path"]``."""
    return Path(data_root) / task.metadata.dataset["path"]


def use_local_data(task: AbsTask, data_root: str | Path) -> bool:
    """Point ``task`` (this instance only) at its mirror folder if it holds data; else False.

    Raises UsageError if ``data_root`` is missing, or if the folder was imported for a task that
    shares the hub repo at another revision (e.g. Banking77Classification vs its .v2).
    """
    folder = local_dataset_dir(task, check_data_root(data_root))
    if not _holds_data(folder):
        return False
    imported_for = _imported_for(folder)
    revision = task.metadata.dataset["revision"]
    if imported_for is not None and imported_for[1] != revision:
        raise UsageError(
            f"{folder} holds data imported for {imported_for[0]} (dataset revision "
            f"{imported_for[1]}), not the revision {revision} that {task.metadata.name} uses"
        )
    # metadata is a class attribute shared by every instance: give this one its own copy
    task.metadata = task.metadata.model_copy(deep=True)
    task.metadata.dataset["path"] = str(folder.resolve())
    return True


def data_status(task_name: str, data_root: str | Path | None) -> str:
    """Where ``task_name``'s data would come from, for ``harness list tasks``.

    "local" (in the mirror), "other revision (imported for X)", "importable" (not in the mirror
    but ``harness data import`` can write it) or "hub only".
    """
    task = mteb_task(task_name)
    if data_root is not None:
        folder = local_dataset_dir(task, check_data_root(data_root))
        if _holds_data(folder):
            imported_for = _imported_for(folder)
            if imported_for is None or imported_for[1] == task.metadata.dataset["revision"]:
                return "local"
            return f"other revision (imported for {imported_for[0]})"
    return "importable" if formats_for(task) else "hub only"


def missing_data_error(
    task: AbsTask, data_root: str | Path | None, cause: BaseException | None = None
) -> DataError:
    """The one-line error for a task whose data could not be loaded, locally or from the hub.

    Names the task, the mirror folder and how to fill it: the ``harness data import`` command for
    importable tasks, a ``snapshot_download`` call for the others.
    """
    name = task.metadata.name
    repo = type(task).metadata.dataset["path"]  # the hub path, also after use_local_data
    root = str(data_root) if data_root is not None else "DATA_ROOT"
    folder = Path(root) / repo
    reason = f" ({one_line(cause)})" if cause is not None else ""
    if formats_for(task):
        fix = f"harness data import SRC --out {root} --task {name}"
    else:
        fix = (
            f"huggingface_hub.snapshot_download(repo_type='dataset', repo_id='{repo}', "
            f"local_dir='{folder}') on a connected machine (no importer exists for {name})"
        )
    if task.metadata.dataset["path"] != repo:
        return DataError(f"could not load task {name} from {folder}{reason}; rewrite it: {fix}")
    return DataError(
        f"no offline data for task {name}: {folder} is missing and loading from the Hugging Face "
        f"hub failed{reason}; fill it: {fix}"
    )


def _holds_data(folder: Path) -> bool:
    """A dataset card or data files: an import or a hub snapshot (some repos have no card)."""
    if not folder.is_dir():
        return False
    if (folder / "README.md").is_file():
        return True
    return any(
        path.suffix in _DATA_SUFFIXES and not path.name.startswith(".")
        for path in folder.rglob("*")
        if ".cache" not in path.parts
    )


def _imported_for(folder: Path) -> tuple[str, str] | None:
    """(task, dataset revision) from the import marker; None for hub snapshots."""
    try:
        marker = read_json(folder / MARKER_NAME)
        return str(marker["task"]), str(marker["dataset_revision"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class DataIdentity:
    """Which data a task is scored on: ``source`` ``local`` (a mirror folder, ``fingerprint``
    the hash of its files) or ``hub`` (``fingerprint`` the pinned dataset revision)."""

    source: str
    fingerprint: str
    dataset_revision: str


def data_identity(task: AbsTask, data_root: str | None) -> DataIdentity:
    """Where ``task``'s data comes from and its fingerprint, without loading it; points the task
    at its mirror folder when ``data_root`` has one, whose files must then match its
    ``CHECKSUMS.json`` (a DataError naming the first file that does not)."""
    revision = str(task.metadata.dataset.get("revision"))
    if data_root and use_local_data(task, Path(data_root)):
        return DataIdentity("local", folder_fingerprint(Path(task.metadata.dataset["path"])),
                            revision)
    return DataIdentity("hub", f"hub@{revision}", revision)


def load_task_data(task: AbsTask, data_root: str | None,
                   identity: DataIdentity | None = None) -> DataIdentity:
    """Load a task's data from ``data_root`` when it has the task, else from the hub.

    Returns where it came from (:func:`data_identity`, unless given); raises DataError naming
    the task, the folder looked for and the import command when neither works. A local folder
    is built by ``datasets`` in a cache of its fingerprint, so no other copy is ever served.
    """
    identity = identity or data_identity(task, data_root)
    source = identity.source
    cache = local_folder_cache(identity.fingerprint) if source == "local" else nullcontext()
    try:
        with cache:
            task.load_data()
    except HarnessError:
        raise
    except Exception as exc:  # datasets/hub raise many types; all mean "could not load"
        raise missing_data_error(task, Path(data_root) if data_root else None, exc) from exc
    eager_columns(task.dataset)
    return identity
