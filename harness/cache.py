"""On-disk embedding cache: pooled vectors keyed by everything that changes them.

Layout: ``<cache_dir>/<namespace>/`` per model identity (path or id, revision, weights
fingerprint, backend, precision, pooling, max_length, EOS/padding and the storage dtype), with a
readable ``identity.json`` and append-only shard files. Each process appends to its own shard,
so concurrent runs never write the same file. A shard is a sequence of fixed-size records::

    key (16 bytes: sha256 of prompt and text) | vector (dim x fp32 or fp16) | crc32 of both

A run killed mid-write leaves at most one partial record at a shard's end, which is ignored; a
record whose checksum does not match (a flipped bit) is reported and recomputed, never used (an
intact copy of the same key, written when it was recomputed, is preferred from then on). Entries a
process writes are found again by the same process (a text shared by two tasks is encoded once).
An unreadable ``identity.json``, or one that contradicts its namespace (another identity, or a
dim under which no record sampled from the shards passes its checksum), is not trusted: nothing
is read under it and the next process that stores a vector rewrites it. Damaged records, torn
tails and a rewritten identity are summed up in one line per run (:meth:`CacheStats.problems`).
The vector stored is the pooled one, before any MRL head, truncation or normalisation, so every
dim of a model is derived from the same entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import UsageError, unknown_choice
from harness.fileio import atomic_write_text, read_json

STORAGE_DTYPES = {"fp32": np.float32, "fp16": np.float16}
KEY_BYTES = 16
IDENTITY_FILE = "identity.json"
SHARD_GLOB = "shard-*.bin"
UNREADABLE = "(unreadable identity.json)"


def text_key(prompt: str, text: str, *settings: object) -> bytes:
    """The cache key of one input: the prompt and the text, kept apart (not concatenated), and
    any per-task setting that changes the pooled vector (a max length other than the model's)."""
    return hashlib.sha256(json.dumps([prompt, text, *settings]).encode("utf-8")
                          ).digest()[:KEY_BYTES]


def namespace_of(identity: dict) -> str:
    """The folder name for a model identity (stable hash of its sorted JSON)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def _record_dtype(dim: int, storage: str) -> np.dtype:
    return np.dtype([("key", f"V{KEY_BYTES}"), ("vec", STORAGE_DTYPES[storage], (dim,)),
                     ("crc", "<u4")])


def _crc(records: np.ndarray) -> np.ndarray:
    raw = records.view(np.uint8).reshape(len(records), -1)[:, :-4]
    return np.fromiter((zlib.crc32(row.tobytes()) for row in raw), dtype="<u4",
                       count=len(records))


def _read_identity(folder: Path) -> dict | None:
    """The namespace's ``identity.json``, or None when it is missing or unreadable."""
    try:
        identity = read_json(folder / IDENTITY_FILE)
    except (OSError, ValueError):
        return None
    return identity if isinstance(identity, dict) else None


def _stored_dim(folder: Path) -> int | None:
    """The vector dim recorded in ``identity.json`` (None: missing, unreadable or invalid)."""
    identity = _read_identity(folder) or {}
    dim = identity.get("dim")
    if isinstance(dim, int) and dim > 0 and identity.get("storage") in STORAGE_DTYPES:
        return dim
    return None


@dataclass
class CacheStats:
    """What a cache handle saw: hits, entries written, damaged records skipped (per shard),
    torn tails, and an ``identity.json`` that had to be rewritten."""

    hits: int = 0
    written: int = 0
    damaged: int = 0
    torn_bytes: int = 0
    damaged_in: dict[str, int] = field(default_factory=dict)  # shard file name -> records
    torn_in: dict[str, int] = field(default_factory=dict)  # shard file name -> bytes
    identity_note: str | None = None

    def problems(self, folder: Path | None = None) -> str | None:
        """One line on everything damaged that was skipped and recomputed (None: nothing),
        naming the namespace ``folder`` when given."""
        parts = []
        if self.damaged_in:
            parts.append(f"{sum(self.damaged_in.values())} damaged record(s) skipped and "
                         f"recomputed ({_per_shard(self.damaged_in, '')})")
        if self.torn_in:
            parts.append(f"{len(self.torn_in)} torn shard tail(s) ignored "
                         f"({_per_shard(self.torn_in, ' bytes')})")
        if self.identity_note:
            parts.append(self.identity_note)
        where = "" if folder is None else f" {folder}"
        return f"embedding cache{where}: " + "; ".join(parts) if parts else None


def _per_shard(counts: dict[str, int], unit: str) -> str:
    return ", ".join(f"{count}{unit} in {name}" for name, count in sorted(counts.items()))


def _identity_problem(folder: Path, identity: dict, storage: str) -> str | None:
    """Why ``identity.json`` cannot be trusted, or None: it names another identity than the
    namespace's, or a dim under which not one record sampled from the shards (first, middle,
    last of each) passes its checksum."""
    stored = _read_identity(folder) or {}
    dim = _stored_dim(folder)
    expected = json.loads(json.dumps(identity, sort_keys=True, default=str))
    if {k: v for k, v in stored.items() if k != "dim"} != expected:
        return f"{folder / IDENTITY_FILE} does not describe namespace {folder.name}"
    if dim is None:
        return None
    record = _record_dtype(dim, storage)
    samples = []
    for path in folder.glob(SHARD_GLOB):
        count = path.stat().st_size // record.itemsize
        if count:
            shard = np.memmap(path, dtype=record, mode="r", shape=(count,))
            samples += [np.asarray(shard[i: i + 1]) for i in {0, count // 2, count - 1}]
    if samples and not any(_crc(one)[0] == one["crc"][0] for one in samples):
        return f"{folder / IDENTITY_FILE} says dim {dim}, which no shard holds"
    return None


class EmbeddingCache:
    """The cache of one model identity; opened lazily once the vector dim is known."""

    def __init__(self, cache_dir: str | Path, identity: dict, storage: str = "fp32"):
        if storage not in STORAGE_DTYPES:
            raise UsageError(f"unknown cache storage {storage!r}; valid choices: fp16, fp32")
        self.identity = {**identity, "storage": storage}
        self.storage = storage
        self.folder = Path(cache_dir).expanduser() / namespace_of(self.identity)
        self.stats = CacheStats()
        self._index: dict[bytes, tuple[int, int]] | None = None
        self._shards: list[np.ndarray] = []
        self._writer = None
        self._own: tuple[int, Path] | None = None  # this process's shard: number and path
        self._own_rows = 0
        self._dim: int | None = None

    # reading ---------------------------------------------------------------------------------
    def _open(self, dim: int | None) -> bool:
        """Index the shards; ``dim`` None means "whatever was stored" (False if nothing was)."""
        if self._index is not None:
            return True
        if dim is None:
            dim = _stored_dim(self.folder)
            if dim is not None:
                problem = _identity_problem(self.folder, self.identity, self.storage)
            elif (self.folder / IDENTITY_FILE).exists():
                problem = f"{self.folder / IDENTITY_FILE} is unreadable or invalid"
            else:
                return False
            if problem is not None:  # read nothing; the next write rewrites identity.json
                self.stats.identity_note = (f"{problem}: its entries were not used, and it is "
                                            "rewritten with the next vector stored")
                return False
        self._dim = dim
        self._index = {}
        record = _record_dtype(dim, self.storage)
        for path in sorted(self.folder.glob(SHARD_GLOB)):
            size = path.stat().st_size
            count, torn = divmod(size, record.itemsize)
            self.stats.torn_bytes += torn
            if torn:
                self.stats.torn_in[path.name] = torn
            if count == 0:
                continue
            shard = np.memmap(path, dtype=record, mode="r", shape=(count,))
            number = len(self._shards)
            self._shards.append(shard)
            for row, key in enumerate(shard["key"]):
                key = bytes(key)
                first = self._index.get(key)
                if first is None or not self._intact(*first):
                    self._index[key] = (number, row)
        return True

    def _record(self, number: int, row: int) -> np.ndarray:
        """One record (as a length-1 array); this process's shard is re-mapped as it grows."""
        if self._own is not None and number == self._own[0] and row >= len(self._shards[number]):
            self._shards[number] = np.memmap(self._own[1], dtype=self._shards[number].dtype,
                                             mode="r", shape=(self._own_rows,))
        return np.asarray(self._shards[number][row: row + 1])

    def _intact(self, number: int, row: int) -> bool:
        """Whether a record's checksum matches; a damaged one is counted."""
        record = self._record(number, row)
        if _crc(record)[0] == record["crc"][0]:
            return True
        self.stats.damaged += 1
        shard = Path(getattr(self._shards[number], "filename", None) or "own shard").name
        self.stats.damaged_in[shard] = self.stats.damaged_in.get(shard, 0) + 1
        return False

    def get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors found for ``keys`` (fp32); damaged records are skipped and counted."""
        if not self._open(None):
            return {}
        assert self._index is not None
        found: dict[bytes, np.ndarray] = {}
        for key in keys:
            where = self._index.get(key)
            if where is None:
                continue
            if not self._intact(*where):
                del self._index[key]
                continue
            found[key] = np.asarray(self._record(*where)["vec"][0], dtype=np.float32)
        self.stats.hits += len(found)
        return found

    # writing ---------------------------------------------------------------------------------
    def put(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Append entries to this process's shard and flush them to the OS."""
        if not keys:
            return
        dim = vectors.shape[1]
        self._open(dim)
        if dim != self._dim:
            raise UsageError(f"cache {self.folder} holds dim {self._dim} vectors, got {dim}")
        records = np.zeros(len(keys), dtype=_record_dtype(dim, self.storage))
        records["key"] = [np.void(k) for k in keys]
        records["vec"] = vectors.astype(STORAGE_DTYPES[self.storage])
        records["crc"] = _crc(records)
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            if _stored_dim(self.folder) != dim or self.stats.identity_note:
                atomic_write_text(self.folder / IDENTITY_FILE,
                                  json.dumps({**self.identity, "dim": dim}, indent=2))
            name = f"shard-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.bin"
            path = self.folder / name
            self._writer = path.open("ab")
            self._own = (len(self._shards), path)
            self._shards.append(np.zeros(0, dtype=records.dtype))
        self._writer.write(records.tobytes())
        self._writer.flush()
        assert self._index is not None and self._own is not None
        for offset, key in enumerate(keys):
            self._index[key] = (self._own[0], self._own_rows + offset)
        self._own_rows += len(keys)
        self.stats.written += len(keys)

    def close(self) -> None:
        """Flush and close this process's shard."""
        if self._writer is not None:
            self._writer.flush()
            os.fsync(self._writer.fileno())
            self._writer.close()
            self._writer = None


@dataclass
class CacheEntry:
    """One namespace of a cache folder, for ``harness cache info``."""

    namespace: str
    model: str
    entries: int
    size_bytes: int
    identity: dict


def cache_entries(cache_dir: str | Path) -> list[CacheEntry]:
    """Every model namespace under ``cache_dir`` with its entry count and size on disk."""
    root = Path(cache_dir).expanduser()
    result = []
    for folder in sorted(p for p in root.glob("*") if (p / IDENTITY_FILE).exists()):
        shards = list(folder.glob(SHARD_GLOB))
        size = sum(p.stat().st_size for p in shards)
        identity = _read_identity(folder)
        if identity is None or _stored_dim(folder) is None:
            # still listed (and clearable), so a damaged namespace is never invisible
            result.append(CacheEntry(folder.name, UNREADABLE, 0, size, {}))
            continue
        record = _record_dtype(int(identity["dim"]), identity["storage"])
        entries = sum(p.stat().st_size // record.itemsize for p in shards)
        result.append(CacheEntry(folder.name, str(identity.get("name", "?")), entries, size,
                                 identity))
    return result


def clear_cache(cache_dir: str | Path, model: str | None = None) -> list[CacheEntry]:
    """Delete every namespace (or only those of ``model``); returns what was removed."""
    entries = cache_entries(cache_dir)
    if model is not None:
        models = {e.model for e in entries}
        if model not in models:
            raise unknown_choice("cached model", model, models)
        entries = [e for e in entries if e.model == model]
    for entry in entries:
        shutil.rmtree(Path(cache_dir).expanduser() / entry.namespace)
    return entries
