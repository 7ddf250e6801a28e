"""What a local dataset folder holds, by content: per-file sha256, the folder's fingerprint, and
the ``CHECKSUMS.json`` that ``harness data import`` writes beside the data.

The fingerprint of a folder is the sha256 of the sorted (relative path, file sha256) list of its
data files: every file except hidden ones (``.harness-import.json``, huggingface_hub's
``.cache/``) and ``CHECKSUMS.json`` itself. It names the rows mteb will load, whatever the
folder's path: the same files anywhere give the same fingerprint, one changed byte another.

Hashing reads every byte once; the digest of a file is then remembered per (path, size,
mtime_ns, ctime_ns, inode), in this process and in a small JSON per folder under the
``datasets`` cache, so a later run over an unchanged mirror does not read the data again (the
ctime, which no user call can set back, changes with any write).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import suppress
from pathlib import Path

from harness._compat import datasets_cache_dir
from harness.errors import DataError
from harness.fileio import atomic_write_text, read_json

CHECKSUMS_NAME = "CHECKSUMS.json"
MEMO_DIR = ("harness-local", "file-hashes")
FINGERPRINT_CHARS = 20
_CHUNK = 1 << 20
_MEMO: dict[tuple, str] = {}


def data_files(folder: Path) -> list[Path]:
    """The data files of ``folder`` (recursive), sorted by relative path: hidden files and
    folders and ``CHECKSUMS.json`` excluded."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or rel.as_posix() == CHECKSUMS_NAME:
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _stamp(path: Path) -> tuple:
    info = path.stat()
    return (str(path.resolve()), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _memo_path(folder: Path) -> Path:
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return datasets_cache_dir().joinpath(*MEMO_DIR, f"{key}.json")


def _read_memo(folder: Path) -> dict[str, list]:
    try:
        memo = read_json(_memo_path(folder))
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def file_digests(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every data file of ``folder``."""
    disk = _read_memo(folder)
    digests, changed = {}, False
    for path in data_files(folder):
        rel = path.relative_to(folder).as_posix()
        stamp = _stamp(path)
        known = _MEMO.get(stamp)
        if known is None and disk.get(rel, [None])[:-1] == list(stamp):
            known = disk[rel][-1]
        if known is None:
            known = _sha256(path)
            changed = True
        _MEMO[stamp] = known
        disk[rel] = [*stamp, known]
        digests[rel] = known
    if changed:
        memo = {rel: value for rel, value in disk.items() if rel in digests}
        with suppress(OSError):  # a read-only cache only costs the next run a re-read
            atomic_write_text(_memo_path(folder), json.dumps(memo))
    return digests


def fingerprint(digests: dict[str, str]) -> str:
    """The folder's fingerprint from its :func:`file_digests`: ``sha256:`` and 20 hex digits."""
    listing = json.dumps(sorted(digests.items()), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()[:FINGERPRINT_CHARS]


def write_checksums(folder: Path) -> Path:
    """Write ``folder/CHECKSUMS.json``: the sha256 and size of each data file."""
    files = {path.relative_to(folder).as_posix(): {"sha256": _sha256(path),
                                                   "size": path.stat().st_size}
             for path in data_files(folder)}
    path = folder / CHECKSUMS_NAME
    path.write_text(json.dumps({"algorithm": "sha256", "files": files}, indent=2) + "\n",
                    encoding="utf-8")
    return path


def verify_checksums(folder: Path, digests: dict[str, str]) -> None:
    """When ``folder`` has a ``CHECKSUMS.json``, every data file must match it; a DataError of
    one line names the first file that is missing, changed or not listed."""
    path = folder / CHECKSUMS_NAME
    if not path.exists():
        return
    fix = "import the data again (harness data import SRC --out DATA_ROOT)"
    try:
        listed = read_json(path)["files"]
        expected = {str(rel): str(entry["sha256"]) for rel, entry in listed.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise DataError(f"{path} is unreadable; {fix}") from None
    for rel, digest in expected.items():
        if rel not in digests:
            raise DataError(f"{folder / rel} is missing (listed in {path}); {fix}")
        if digests[rel] != digest:
            raise DataError(f"{folder / rel} does not match its sha256 in {path} (truncated or "
                            f"edited since it was imported); {fix}")
    extra = sorted(set(digests) - set(expected))
    if extra:
        raise DataError(f"{folder / extra[0]} is not listed in {path} (added after the import); "
                        f"remove it or {fix}")


def folder_fingerprint(folder: Path) -> str:
    """The fingerprint of ``folder``'s data files, after checking them against its
    ``CHECKSUMS.json`` when it has one."""
    digests = file_digests(folder)
    verify_checksums(folder, digests)
    return fingerprint(digests)
