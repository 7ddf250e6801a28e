"""Which model revision a run's results are filed under.

A hub id loads the recipe's pinned revision, so its results go to that revision's folder. A local
folder is that revision only when it can be shown to be: its weights file hashes to the bytes of
a revision listed in :data:`VERIFIED_WEIGHTS` (the embedded MiniLM), or it is a Hugging Face cache
snapshot (``.../snapshots/<commit>/``). Any other folder is ``local``: nothing says which
revision it holds, even when the recipe pins one.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

LOCAL = "local"
_COMMIT = re.compile(r"[0-9a-f]{40}")

# (model name, revision) -> (weights file, sha256 of that revision's file on the hub)
VERIFIED_WEIGHTS: dict[tuple[str, str], tuple[str, str]] = {
    ("sentence-transformers/all-MiniLM-L6-v2", "8b3219a92973c328a8e22fadcfa821b5dc75636a"):
        ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
}


@functools.cache
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file (computed once per process for an unchanged file)."""
    path = Path(path).resolve()
    info = path.stat()
    return _sha256(path, info.st_size, info.st_mtime_ns)


def snapshot_commit(folder: str | Path) -> str | None:
    """The commit of a Hugging Face cache snapshot folder (``.../snapshots/<commit>``)."""
    path = Path(folder).resolve()
    return path.name if path.parent.name == "snapshots" and _COMMIT.fullmatch(path.name) else None


def results_revision(name: str, revision: str | None, model_dir: str) -> tuple[str, str]:
    """The revision folder for results of ``name`` loaded from ``model_dir`` (a hub id or a
    local folder) with the recipe's ``revision``, and why (one phrase for ``harness explain``)."""
    folder = Path(model_dir)
    if not folder.is_dir():
        if revision:
            return revision, f"the pinned revision, loaded from the hub as {model_dir}"
        return LOCAL, f"no pinned revision: the hub's current {model_dir}"
    commit = snapshot_commit(folder)
    if commit:
        return commit, f"the folder is the hub cache's snapshot {commit}"
    known = VERIFIED_WEIGHTS.get((name, revision or ""))
    if known is None:
        why = "a local folder" + (f" (the recipe pins {revision}, which a folder cannot show)"
                                  if revision else " with no pinned revision")
        return LOCAL, why
    weights, expected = known
    path = folder / weights
    if path.is_file() and file_sha256(path) == expected:
        return str(revision), f"{weights} is byte-identical to revision {revision} (sha256)"
    return LOCAL, f"{weights} differs from revision {revision}'s (sha256), so it is not that model"
