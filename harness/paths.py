"""The one place where names become folder names, and where a path is kept inside its root.

A model name becomes a results folder by the embeddings-benchmark/results rule (``org/name`` ->
``org__name``), a revision by being a commit-like token (7 to 40 hex digits) or ``local``. Both
are checked before anything is written, so no name or revision can reach outside ``output_dir``
(``..``, an absolute path, a separator); :func:`inside` then refuses any path that resolves
outside its root anyway (a symlink inside the root pointing out of it).
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import UsageError

LOCAL_REVISION = "local"
SEPARATOR = "__"
_NAME_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_REVISION = re.compile(r"[0-9a-fA-F]{7,40}")
NAME_RULE = ("a model id as published, 'org/name' or 'name' (letters, digits, '_', '.', '-'; "
             "no '__', no part starting with '.' or '-')")


def check_model_name(name: str) -> str:
    """``name`` if it is a model id that maps to one folder; UsageError naming the rule."""
    parts = str(name).split("/")
    if (not 1 <= len(parts) <= 2 or not all(_NAME_PART.fullmatch(p) for p in parts)
            or any(SEPARATOR in p for p in parts)):
        raise UsageError(f"model.name {str(name)!r} cannot name a results folder: it must be "
                         f"{NAME_RULE}")
    return str(name)


def check_revision(revision: str | None) -> str:
    """The folder name of ``revision``: the commit-like token itself, or ``local`` for None;
    UsageError for anything else (a branch name, a path)."""
    if revision is None or revision == LOCAL_REVISION:
        return LOCAL_REVISION
    if not _REVISION.fullmatch(str(revision)):
        raise UsageError(f"model.revision {str(revision)!r} is not a commit hash: give 7 to 40 "
                         f"hex digits (the model repository's commit) or leave it unset "
                         f"({LOCAL_REVISION!r})")
    return str(revision)


def model_folder_name(name: str) -> str:
    """``org/model`` -> ``org__model`` (the results repo's folder naming), after the checks of
    :func:`check_model_name`."""
    return check_model_name(name).replace("/", SEPARATOR)


def inside(root: str | Path, path: str | Path, what: str) -> Path:
    """``path`` if it resolves inside ``root`` (symlinks followed); UsageError naming ``what``
    (e.g. ``output_dir``) otherwise."""
    base = Path(root).expanduser().resolve()
    target = Path(path).expanduser().resolve()
    if target != base and not target.is_relative_to(base):
        raise UsageError(f"refusing to write {str(path)!r}: it resolves to {target}, outside "
                         f"{what} {base}")
    return Path(path)
