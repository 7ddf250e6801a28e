"""On-disk embedding cache: pooled vectors keyed by everything that changes them.

Layout: ``<cache_dir>/<namespace>/`` per model identity (path or id, revision, weights
fingerprint, backend, precision, pooling, max_length, EOS/padding and the storage dtype), with a
readable ``identity.json`` and append-only shard files. Each process appends to its own shard,
so concurrent runs never write the same file. A shard is a sequence of fixed-size records::

    key (16 bytes: sha256 of prompt and text) | vector (dim x fp32 or fp16) | crc32 of both

with a ``.keys`` sidecar of its records' keys, from which the index is built
(:mod:`harness.cache_index`: sorted key prefixes per shard, 12 bytes an entry, binary search).

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

from harness.cache_index import (
    KEY_BYTES,
    ShardIndex,
    key_array,
    key_prefixes,
    keys_path,
    read_keys,
    read_rows,
)
from harness.errors import UsageError, unknown_choice
from harness.fileio import atomic_write_text, read_json

STORAGE_DTYPES = {"fp32": np.float32, "fp16": np.float16}
READ_BLOCK_BYTES = 16 << 20  # records read at once by a lookup
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


@dataclass
class _Shard:
    """One shard file as this handle knows it: its index and the rows found damaged."""

    path: Path
    index: ShardIndex = field(default_factory=ShardIndex)
    damaged: set[int] = field(default_factory=set)


class EmbeddingCache:
    """The cache of one model identity; opened lazily once the vector dim is known."""

    def __init__(self, cache_dir: str | Path, identity: dict, storage: str = "fp32"):
        if storage not in STORAGE_DTYPES:
            raise UsageError(f"unknown cache storage {storage!r}; valid choices: fp16, fp32")
        self.identity = {**identity, "storage": storage}
        self.storage = storage
        self.folder = Path(cache_dir).expanduser() / namespace_of(self.identity)
        self.stats = CacheStats()
        self._shards: list[_Shard] | None = None  # in lookup order; this process's own last
        self._writer = None
        self._keys_writer = None
        self._own: _Shard | None = None
        self._dim: int | None = None

    # reading ---------------------------------------------------------------------------------
    def _open(self, dim: int | None) -> bool:
        """Index the shards; ``dim`` None means "whatever was stored" (False if nothing was)."""
        if self._shards is not None:
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
        self._shards = []
        self._scan()
        return True

    def _scan(self) -> None:
        """Index shard files new since the last scan, and rows other writers appended since."""
        assert self._shards is not None and self._dim is not None
        record = _record_dtype(self._dim, self.storage)
        known = {shard.path: shard for shard in self._shards}
        for path in sorted(self.folder.glob(SHARD_GLOB)):
            shard = known.get(path)
            if shard is self._own and shard is not None:
                continue
            count, torn = divmod(path.stat().st_size, record.itemsize)
            if shard is None:
                self.stats.torn_bytes += torn
                if torn:
                    self.stats.torn_in[path.name] = torn
                shard = _Shard(path)
                self._shards.append(shard)
            if count > shard.index.size:
                shard.index.add(read_keys(path, record, shard.index.size, count))

    def refresh(self) -> None:
        """See what other processes (e.g. this run's device workers) have stored since."""
        if self._shards is not None:
            self._scan()

    def lookup(self, keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, found)`` for ``keys``: an ``(n, dim)`` fp32 array (zero rows where not
        found) and a bool mask. Of several copies of a key the first intact one is used (shards
        in order, rows in order); damaged records are skipped and counted once."""
        n = len(keys)
        if not self._open(None):
            return np.zeros((n, 0), dtype=np.float32), np.zeros(n, dtype=bool)
        assert self._shards is not None and self._dim is not None
        slot: dict[bytes, int] = {}
        for key in keys:
            slot.setdefault(key, len(slot))
        distinct = list(slot)
        query = key_array(distinct)
        prefixes = key_prefixes(query)
        vectors = np.zeros((len(distinct), self._dim), dtype=np.float32)
        found = np.zeros(len(distinct), dtype=bool)
        record = _record_dtype(self._dim, self.storage)
        block = max(1, READ_BLOCK_BYTES // record.itemsize)
        for shard in self._shards:
            todo = np.flatnonzero(~found)
            if not len(todo):
                break
            positions, rows = shard.index.candidates(prefixes[todo])
            if shard.damaged:
                usable = ~np.isin(rows, np.fromiter(shard.damaged, dtype=np.int64))
                positions, rows = positions[usable], rows[usable]
            order = np.argsort(rows, kind="stable")
            positions, rows = todo[positions[order]], rows[order]
            for start in range(0, len(rows), block):
                self._read(shard, record, positions[start:start + block],
                           rows[start:start + block], query, vectors, found)
        self.stats.hits += int(found.sum())
        if len(distinct) == n:
            return vectors, found
        inverse = np.fromiter((slot[key] for key in keys), dtype=np.int64, count=n)
        return vectors[inverse], found[inverse]

    def _read(self, shard: _Shard, record: np.dtype, positions: np.ndarray, rows: np.ndarray,
              query: np.ndarray, vectors: np.ndarray, found: np.ndarray) -> None:
        """Read candidate ``rows`` (ascending) and fill ``vectors``/``found`` at ``positions``
        from each one that is intact and holds the queried key."""
        unique_rows = np.unique(rows)  # two queried keys may share a prefix, so a row
        records = read_rows(shard.path, record, unique_rows)[np.searchsorted(unique_rows, rows)]
        intact = _crc(records) == records["crc"]
        if not intact.all():
            bad = {int(row) for row in rows[~intact]} - shard.damaged
            shard.damaged |= bad
            self.stats.damaged += len(bad)
            name = shard.path.name
            self.stats.damaged_in[name] = self.stats.damaged_in.get(name, 0) + len(bad)
        stored = np.ascontiguousarray(records["key"]).view(np.uint8).reshape(-1, KEY_BYTES)
        good = intact & (stored == query[positions]).all(axis=1) & ~found[positions]
        chosen, at = np.unique(positions[good], return_index=True)  # lowest row per key
        vectors[chosen] = records["vec"][np.flatnonzero(good)[at]]
        found[chosen] = True

    def get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors found for ``keys`` (fp32); damaged records are skipped and counted."""
        vectors, found = self.lookup(keys)
        return {key: vectors[i] for i, key in enumerate(keys) if found[i]}

    def contains(self, keys: list[bytes] | np.ndarray) -> np.ndarray:
        """Which ``keys`` (or rows of an ``(n, 16)`` uint8 array) are indexed, from the index
        alone: no record is read, so a damaged record counts as present until a lookup finds it
        damaged."""
        present = np.zeros(len(keys), dtype=bool)
        if not len(keys) or not self._open(None):
            return present
        assert self._shards is not None
        prefixes = key_prefixes(keys if isinstance(keys, np.ndarray) else key_array(keys))
        for shard in self._shards:
            positions, rows = shard.index.candidates(prefixes)
            if shard.damaged:
                positions = positions[~np.isin(rows, list(shard.damaged))]
            present[positions] = True
        return present

    # writing ---------------------------------------------------------------------------------
    def put(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Append entries to this process's shard (and their keys to its sidecar) and flush
        them to the OS."""
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
        assert self._shards is not None
        if self._own is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            if _stored_dim(self.folder) != dim or self.stats.identity_note:
                atomic_write_text(self.folder / IDENTITY_FILE,
                                  json.dumps({**self.identity, "dim": dim}, indent=2))
            name = f"shard-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.bin"
            self._own = _Shard(self.folder / name)
            self._shards.append(self._own)
            self._writer = self._own.path.open("ab")
            self._keys_writer = keys_path(self._own.path).open("ab")
        assert self._writer is not None and self._keys_writer is not None
        self._writer.write(records.tobytes())
        self._writer.flush()
        self._keys_writer.write(b"".join(keys))
        self._keys_writer.flush()
        self._own.index.add(key_array(keys))
        self.stats.written += len(keys)

    def index_bytes(self) -> int:
        """Memory held by the index of every shard (0 before the cache is opened)."""
        return sum(shard.index.nbytes for shard in self._shards or [])

    def close(self) -> None:
        """Flush and close this process's shard and its sidecar."""
        for attr in ("_writer", "_keys_writer"):
            handle = getattr(self, attr)
            if handle is not None:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                setattr(self, attr, None)


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
