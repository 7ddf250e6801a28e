"""Published scores in the embeddings-benchmark/results layout: a local folder or the hub.

Layout: ``<folder>/<org__model>/<revision>/<TaskName>.json``; ``revision`` is a model commit
(runs by the mteb maintainers) or ``external`` (scores imported from the authors, in pre-1.11
formats). Files are read with mteb's ``TaskResult.from_disk``, which converts historic formats.
"""

from __future__ import annotations

import socket
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import mteb
from packaging.version import InvalidVersion, Version

from harness.errors import DataError, UsageError
from harness.fileio import read_json

EXTERNAL = "external"
HUB_HOST = ("github.com", 443)


@dataclass(frozen=True)
class PublishedTask:
    """The published result file chosen for one task of one model."""

    task: str
    revision: str
    path: Path


def published_models(folder: str | Path) -> dict[str, Path]:
    """``org/model`` -> its folder, for every model folder holding ``<revision>/<Task>.json``."""
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"reference folder {str(root)!r} does not exist")
    if (root / "results").is_dir() and not any(root.glob("*/*/*.json")):
        root = root / "results"  # a clone of the results repository itself
    return {d.name.replace("__", "/"): d for d in sorted(root.iterdir())
            if d.is_dir() and any(d.glob("*/*.json"))}


def _mteb_version(path: Path) -> Version:
    try:
        return Version(str(read_json(path).get("mteb_version")))
    except (OSError, ValueError, AttributeError, InvalidVersion):
        return Version("0")


def published_tasks(model_dir: Path, prefer_revision: str | None = None
                    ) -> dict[str, PublishedTask]:
    """Task -> file to read; when revisions overlap: ``prefer_revision``, then maintainer runs
    (newest mteb version first), ``external`` last."""
    paths: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(model_dir.glob("*/*.json")):
        if path.name != "model_meta.json" and not path.name.startswith("."):
            paths[path.stem].append(path)

    def rank(path: Path) -> tuple[bool, bool, Version]:
        revision = path.parent.name
        return revision == prefer_revision, revision != EXTERNAL, _mteb_version(path)

    chosen = {task: (max(found, key=rank) if len(found) > 1 else found[0])
              for task, found in paths.items()}
    return {task: PublishedTask(task, path.parent.name, path) for task, path in chosen.items()}


def download_hub_results() -> Path:
    """Clone or update the mteb results repository (``mteb.ResultCache``); its results folder."""
    try:
        socket.create_connection(HUB_HOST, timeout=10).close()
    except OSError as error:
        raise DataError(
            f"cannot reach {HUB_HOST[0]} to download the mteb results repository "
            f"({error.strerror or error}); pass a local results folder as the reference instead"
        ) from None
    cache = mteb.ResultCache()
    try:
        cache.download_from_remote()
    except (subprocess.CalledProcessError, OSError, ValueError) as error:
        message = " ".join(str(error).split())
        raise DataError(f"downloading the mteb results repository failed: {message}") from error
    return cache.remote_results_path
