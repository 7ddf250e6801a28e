"""The task entries of a run manifest, rebuilt from the result files when the manifest is
damaged (torn, hand-edited, not a manifest), so a new task never drops the others' entries."""

from __future__ import annotations

import logging
from pathlib import Path

from harness.protocol import read_protocol
from harness.results import (
    MANIFEST_NAME,
    NOT_RESULTS,
    finite_main_score,
    read_manifest,
    read_task_result,
)

log = logging.getLogger(__name__)


def rebuilt_entry(folder: Path, task_name: str) -> dict | None:
    """A manifest entry from ``<folder>/<task_name>.json`` and its stored protocol (None when
    the result is unreadable)."""
    result = read_task_result(folder / f"{task_name}.json")
    if result is None:
        return None
    protocol = read_protocol(folder, task_name)
    return {
        "main_score": finite_main_score(result),
        "mteb_version": result.mteb_version,
        "dataset_revision": result.dataset_revision,
        "wall_time_s": result.evaluation_time,
        "protocol": None if protocol is None else protocol.id,
        "data_fingerprint": None if protocol is None else protocol.settings.get("data"),
        "rebuilt": True,
    }


def manifest_tasks(folder: Path) -> dict[str, dict]:
    """The ``tasks`` of ``folder``'s manifest; when the file exists but is no manifest, the
    entries rebuilt from the result JSONs present (with one warning line)."""
    path = folder / MANIFEST_NAME
    manifest = read_manifest(folder)
    if manifest or not path.exists():
        return dict(manifest.get("tasks", {}))
    tasks = {}
    for json_path in sorted(folder.glob("*.json")):
        if json_path.name not in NOT_RESULTS:
            entry = rebuilt_entry(folder, json_path.stem)
            if entry is not None:
                tasks[json_path.stem] = entry
    log.warning("rebuilding %s from the %d result files in %s", path, len(tasks), folder)
    return tasks
