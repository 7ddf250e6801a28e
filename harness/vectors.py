"""Where a run's pooled vectors live between encoding and scoring: on disk, never all in memory.

With ``cache_dir`` set the store is the embedding cache itself; with ``cache_dir=null`` it is a
temporary cache folder of the same format (under ``$TMPDIR``), deleted when the task ends or the
run closes. Scoring another MRL dim, or meeting a text again in another split, reads its vector
back (one chunk of mteb's at a time) instead of encoding it again, so a run's peak memory is
that of the chunk being scored, whatever the corpus size.

The store counts cache hits per task: distinct inputs found in the cache that the task had not
already met (encoded, or read for another split or dim), kept as 8-byte key prefixes (none for a
temporary store: it holds nothing the task did not store itself).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.cache import EmbeddingCache
from harness.cache_index import key_array, key_prefixes

TEMPORARY_IDENTITY = {"name": "(temporary vectors of one run)"}
TEMPORARY_PREFIX = "mteb-harness-vectors-"


@dataclass(frozen=True)
class StoreLocation:
    """What another process needs to open the same store: cache root, identity and storage."""

    root: str
    identity: dict
    storage: str

    def open(self) -> EmbeddingCache:
        """A handle of this process on the store (it appends to a shard of its own)."""
        return EmbeddingCache(self.root, self.identity, self.storage)


class KeySet:
    """A growing set of keys, by their 8-byte prefix (8 bytes a key): a sorted array, merged
    with what was added since in batches of geometric size (linear time overall)."""

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._pending: list[np.ndarray] = []
        self._pending_count = 0

    def add(self, prefixes: np.ndarray) -> None:
        """Add keys (their prefixes)."""
        self._pending.append(prefixes)
        self._pending_count += len(prefixes)
        if self._pending_count > max(1 << 16, len(self._sorted) // 2):
            self._settle()

    def contains(self, prefixes: np.ndarray) -> np.ndarray:
        """Which prefixes are in the set (bool mask)."""
        self._settle()
        return self._member(prefixes)

    def _member(self, prefixes: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.zeros(len(prefixes), dtype=bool)
        at = np.minimum(np.searchsorted(self._sorted, prefixes), len(self._sorted) - 1)
        return self._sorted[at] == prefixes

    def _settle(self) -> None:
        if not self._pending:
            return
        new = np.unique(np.concatenate(self._pending))
        self._pending, self._pending_count = [], 0
        new = new[~self._member(new)]
        self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)


class VectorStore:
    """The pooled vectors of a run: ``cache`` when given, else a temporary cache folder."""

    def __init__(self, cache: EmbeddingCache | None):
        self._cache = cache
        self._temporary: EmbeddingCache | None = None
        self._cleanup: weakref.finalize | None = None
        self._met = KeySet()  # inputs the current task has met
        self.hits = 0

    @property
    def cache(self) -> EmbeddingCache:
        """The cache handle vectors go to (the temporary folder is made on first use)."""
        if self._cache is not None:
            return self._cache
        if self._temporary is None:
            folder = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX))
            self._temporary = EmbeddingCache(folder, TEMPORARY_IDENTITY)
            self._cleanup = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        return self._temporary

    def lookup(self, keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, found)``, as :meth:`EmbeddingCache.lookup`."""
        vectors, found = self.cache.lookup(keys)
        self._meet(keys, found)
        return vectors, found

    def contains(self, keys: list[bytes]) -> np.ndarray:
        """Which keys are stored (from the index alone)."""
        present = self.cache.contains(keys)
        self._meet(keys, present)
        return present

    def put(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Store vectors (flushed to the OS at once)."""
        self.cache.put(keys, vectors)
        self.stored_elsewhere(keys)

    def stored_elsewhere(self, keys: list[bytes]) -> None:
        """Keys another process (a device worker) stored for the current task: no hits."""
        if keys and self._cache is not None:
            self._met.add(key_prefixes(key_array(keys)))

    def _meet(self, keys: list[bytes], found: np.ndarray) -> None:
        """Count the found keys the task had not met yet as hits, and remember them (not for
        a temporary store, which holds only what the task stored itself)."""
        if self._cache is None or not found.any():
            return
        prefixes = key_prefixes(key_array(keys))[found]
        new = np.unique(prefixes[~self._met.contains(prefixes)])
        self.hits += len(new)
        self._met.add(new)

    def refresh(self) -> None:
        """See what other processes stored since (device workers)."""
        self.cache.refresh()

    def location(self) -> StoreLocation:
        """Where the store is, for a worker process that writes into it."""
        cache = self.cache
        identity = {k: v for k, v in cache.identity.items() if k != "storage"}
        return StoreLocation(str(cache.folder.parent), identity, cache.storage)

    def forget(self) -> None:
        """End of a task: a temporary store is deleted (the next task starts an empty one)."""
        self._met = KeySet()
        if self._temporary is not None:
            self._temporary.close()
            assert self._cleanup is not None
            self._cleanup()
            self._temporary = self._cleanup = None

    def close(self) -> None:
        """End of the run: close the cache's shard, delete a temporary store."""
        if self._cache is not None:
            self._cache.close()
        self.forget()
