"""Write converted tables as a hub-style dataset folder, atomically and only inside ``--out``."""

from __future__ import annotations

import gzip
import json
import shutil
import uuid
from pathlib import Path, PurePath

import yaml

from harness.data.fingerprint import CHECKSUMS_NAME, write_checksums
from harness.data.importers.base import MARKER_NAME, Converted, Row, Table
from harness.errors import UsageError


def safe_join(root: Path, relative: str) -> Path:
    """``root / relative`` resolved; refuses absolute paths, ``..`` and symlinks leaving root."""
    base = root.resolve()
    target = (base / relative).resolve()
    if PurePath(relative).is_absolute() or target == base or not target.is_relative_to(base):
        raise UsageError(f"refusing to write {relative!r}: it resolves outside --out {base}")
    return target


def write_mirror(
    converted: Converted, out: Path, repo_path: str, marker: dict[str, object]
) -> Path:
    """Write ``out/<repo_path>/`` (data files, dataset card, import marker, ``CHECKSUMS.json``);
    return the folder.

    Everything is written into a hidden sibling folder first and renamed into place at the end, so
    an interrupted import never leaves a folder that looks complete.
    """
    target = safe_join(out, repo_path)
    staging = target.parent / f".{target.name}.importing-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise UsageError(f"cannot write into --out {out}: {exc.strerror or exc}") from None
    try:
        for table in converted.tables:
            _write_rows(safe_join(staging, table.path), table.rows)
        (staging / "README.md").write_text(_card(converted.tables, repo_path, marker), "utf-8")
        (staging / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n", "utf-8")
        write_checksums(staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_rows(path: Path, rows: list[Row]) -> None:
    """JSON lines, gzip-compressed (reproducibly) when the name ends in ``.gz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
    if path.suffix == ".gz":
        with path.open("wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as packed:
            packed.write(data)
    else:
        path.write_bytes(data)


def _card(tables: list[Table], repo_path: str, marker: dict[str, object]) -> str:
    """A dataset card whose YAML ``configs`` name each data file, as on the hub."""
    configs: dict[str, list[dict[str, str]]] = {}
    for table in tables:
        configs.setdefault(table.config, []).append({"split": table.split, "path": table.path})
    front = yaml.safe_dump(
        {"configs": [{"config_name": c, "data_files": files} for c, files in configs.items()]},
        sort_keys=False,
    )
    return (
        f"---\n{front}---\n# {repo_path} (offline mirror)\n\n"
        f"Written by `harness data import` for the mteb task {marker['task']} "
        f"(dataset revision {marker['dataset_revision']}); `{CHECKSUMS_NAME}` holds the sha256 "
        "of each file.\n"
    )


def _swap_in(staging: Path, target: Path) -> None:
    """Move the finished staging folder to ``target``, replacing an older import."""
    if not target.exists():
        staging.rename(target)
        return
    old = target.parent / f".{target.name}.replaced-{uuid.uuid4().hex[:8]}"
    target.rename(old)
    staging.rename(target)
    shutil.rmtree(old)
