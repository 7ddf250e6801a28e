"""The in-memory index of one cache shard file, and positioned reads of its records.

A shard's index holds the first 8 bytes of each record's key as a sorted ``uint64`` array and the
record's row beside it (12 bytes an entry, against about 200 for a Python dict of 16-byte keys
and tuples): a lookup is a binary search (``np.searchsorted``) per shard. A prefix match is only a
candidate: the caller compares the full key stored in the record itself, so two keys that share
a prefix never return each other's vector.

Keys are read from the shard's ``.keys`` sidecar (16 bytes a record, written beside every
append), so opening a cache reads 16 bytes per entry instead of every record's page; rows the
sidecar lacks (a shard written before sidecars existed, or a writer killed between the two
appends) are read from the records.

Records are read with ``os.preadv`` into a fresh buffer rather than through a long-lived memory
map: pages of a map stay counted in the process's resident memory for as long as it is mapped,
so reading a whole corpus back through one would grow resident memory with the corpus.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

KEY_BYTES = 16
KEYS_SUFFIX = ".keys"


def key_array(keys: list[bytes]) -> np.ndarray:
    """``keys`` (16 bytes each) as an ``(n, 16)`` uint8 array."""
    return np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)


def key_prefixes(keys: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each row of an ``(n, 16)`` uint8 key array, as uint64."""
    return np.ascontiguousarray(keys[:, :8]).view("<u8").ravel()


def keys_path(shard: Path) -> Path:
    """The ``.keys`` sidecar of a shard file."""
    return shard.with_suffix(KEYS_SUFFIX)


class ShardIndex:
    """Sorted key prefixes and rows of one shard; rows are added in order as the shard grows."""

    def __init__(self) -> None:
        self._prefix = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.uint32)
        self._pending: list[np.ndarray] = []  # prefixes of rows added since the last sort
        self.size = 0  # rows indexed

    def add(self, keys: np.ndarray) -> None:
        """Index the next ``len(keys)`` rows of the shard (``keys``: ``(n, 16)`` uint8)."""
        if len(keys):
            self._pending.append(key_prefixes(keys))
            self.size += len(keys)

    def _settle(self) -> None:
        """Merge the pending rows into the sorted arrays. Sorting only the new rows and
        inserting them keeps the peak at about 20 bytes an entry (re-sorting everything held
        44) and rows ascending among equal prefixes."""
        if not self._pending:
            return
        prefix = np.concatenate(self._pending)
        rows = np.arange(len(self._rows), self.size, dtype=np.uint32)
        self._pending = []
        order = np.argsort(prefix, kind="stable")
        prefix, rows = prefix[order], rows[order]
        at = np.searchsorted(self._prefix, prefix, side="right")
        self._prefix = np.insert(self._prefix, at, prefix)
        self._rows = np.insert(self._rows, at, rows)

    def candidates(self, prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(query position, row)`` of every indexed row whose prefix equals a queried one."""
        self._settle()
        left = np.searchsorted(self._prefix, prefixes, side="left")
        counts = np.searchsorted(self._prefix, prefixes, side="right") - left
        queries = np.repeat(np.arange(len(prefixes)), counts)
        starts = np.repeat(left - (np.cumsum(counts) - counts), counts)
        return queries, self._rows[starts + np.arange(len(queries))]

    @property
    def nbytes(self) -> int:
        """Memory held by the index."""
        pending = sum(len(p) for p in self._pending)
        return self._prefix.nbytes + self._rows.nbytes + pending * (8 + 4)


def read_keys(shard: Path, record: np.dtype, start: int, stop: int) -> np.ndarray:
    """Keys of rows ``start..stop`` of ``shard``: from its sidecar as far as it goes, the rest
    from the records."""
    sidecar = keys_path(shard)
    stored = sidecar.stat().st_size // KEY_BYTES if sidecar.exists() else 0
    have = max(0, min(stop, stored) - start)
    parts = []
    if have:
        parts.append(np.fromfile(sidecar, dtype=np.uint8, count=have * KEY_BYTES,
                                 offset=start * KEY_BYTES).reshape(have, KEY_BYTES))
    if start + have < stop:
        mapped = np.memmap(shard, dtype=record, mode="r", offset=(start + have) * record.itemsize,
                           shape=(stop - start - have,))
        parts.append(np.array(mapped["key"]).view(np.uint8).reshape(-1, KEY_BYTES))
        del mapped
    return np.concatenate(parts) if parts else np.empty((0, KEY_BYTES), dtype=np.uint8)


def read_rows(shard: Path, record: np.dtype, rows: np.ndarray) -> np.ndarray:
    """Records ``rows`` (ascending, distinct) of ``shard``; one read per run of consecutive rows.
    Rows past the file's end (it shrank) come back zeroed, which no checksum accepts."""
    out = np.zeros(len(rows), dtype=record)
    if not len(rows):
        return out
    buffer = out.view(np.uint8)
    size = record.itemsize
    starts = np.flatnonzero(np.diff(rows.astype(np.int64), prepend=-2) != 1)
    ends = np.append(starts[1:], len(rows))
    fd = os.open(shard, os.O_RDONLY)
    try:
        for begin, end in zip(starts.tolist(), ends.tolist(), strict=True):
            os.preadv(fd, [memoryview(buffer[begin * size:end * size])], int(rows[begin]) * size)
    finally:
        os.close(fd)
    return out
