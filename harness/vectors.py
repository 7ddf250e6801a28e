"""Where a run's pooled vectors live between encoding and scoring: on disk, never all in memory.

With ``cache_dir`` set the store is the embedding cache itself; with ``cache_dir=null`` it is a
temporary cache folder of the same format (under ``$TMPDIR``), deleted when the task ends or the
run closes. Scoring another MRL dim, or meeting a text again in another split, reads its vector
back (one chunk of mteb's at a time) instead of encoding it again, so a run's peak memory is
that of the chunk being scored, whatever the corpus size.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.cache import EmbeddingCache

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


class VectorStore:
    """The pooled vectors of a run: ``cache`` when given, else a temporary cache folder."""

    def __init__(self, cache: EmbeddingCache | None):
        self._cache = cache
        self._temporary: EmbeddingCache | None = None
        self._cleanup: weakref.finalize | None = None

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

    def lookup(self, keys: list[bytes], count_hits: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, found)``, as :meth:`EmbeddingCache.lookup`."""
        return self.cache.lookup(keys, count_hits=count_hits)

    def contains(self, keys: list[bytes]) -> np.ndarray:
        """Which keys are stored (from the index alone)."""
        return self.cache.contains(keys)

    def put(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Store vectors (flushed to the OS at once)."""
        self.cache.put(keys, vectors)

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
