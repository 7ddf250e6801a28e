"""Checks made before any work: the folders a command will write into can be written.

A folder that does not exist yet is fine when its nearest existing parent is a writable folder
(it is created when the first file is written); nothing is created here.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import UsageError


def check_writable_dir(path: str | Path, what: str) -> Path:
    """``path`` (``~`` expanded) if it is, or can be created as, a writable folder; a one-line
    UsageError naming ``what`` (``output_dir``, ``--out``) otherwise."""
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {str(path)!r} is a file, not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{what} {str(path)!r} cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "it is" if existing == folder else f"{existing} is"
        raise UsageError(f"{what} {str(path)!r} is not writable ({where} read-only); give "
                         f"another {what}")
    return folder


def check_run_folders(output_dir: str, cache_dir: str | None) -> None:
    """``output_dir`` and ``cache_dir`` (when set) are writable folders, before weights load."""
    check_writable_dir(output_dir, "output_dir")
    if cache_dir:
        check_writable_dir(cache_dir, "cache_dir")
