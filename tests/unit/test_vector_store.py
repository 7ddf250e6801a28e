"""Bounded memory: pooled vectors live on disk (the cache, or a temporary per-run store), the
cache index costs a few bytes an entry, reading vectors back holds one chunk at a time, and a
damaged ``.keys`` sidecar never returns a wrong vector."""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import mteb
import numpy as np
import pytest
from support import run_settings

from harness.api import run
from harness.cache import EmbeddingCache
from harness.cache_index import ShardIndex, key_array, key_prefixes, keys_path
from harness.results import load_scores
from harness.vectors import TEMPORARY_PREFIX, VectorStore

IDENTITY = {"name": "test/vectors"}


def _keys(count: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [bytes(row) for row in rng.integers(0, 256, (count, 16), dtype=np.uint8)]


def _fill(folder: Path, keys: list[bytes], dim: int = 8, batch: int = 500) -> np.ndarray:
    vectors = np.random.default_rng(1).standard_normal((len(keys), dim)).astype(np.float32)
    cache = EmbeddingCache(folder, IDENTITY)
    for start in range(0, len(keys), batch):
        cache.put(keys[start:start + batch], vectors[start:start + batch])
    cache.close()
    return vectors


def test_index_is_a_few_bytes_an_entry_and_finds_every_key(tmp_path: Path) -> None:
    keys = _keys(50_000)
    vectors = _fill(tmp_path, keys)
    cache = EmbeddingCache(tmp_path, IDENTITY)
    assert cache.index_bytes() == 0  # opened lazily
    order = np.random.default_rng(2).permutation(len(keys))[:5000]
    found, present = cache.lookup([keys[i] for i in order])
    assert present.all() and np.array_equal(found, vectors[order])
    assert cache.index_bytes() / len(keys) <= 12  # a dict of bytes -> tuple: about 200
    assert not cache.contains(_keys(100, seed=9)).any()


def test_keys_sharing_a_prefix_get_their_own_vectors(tmp_path: Path) -> None:
    twins = [b"\x07" * 8 + bytes([i]) * 8 for i in range(3)]  # one 8-byte prefix, three keys
    vectors = _fill(tmp_path, twins[:2] + _keys(10))
    found, present = EmbeddingCache(tmp_path, IDENTITY).lookup(twins)
    assert present.tolist() == [True, True, False]
    assert np.array_equal(found[:2], vectors[:2])


def test_index_merges_new_rows_in_order_within_a_small_peak() -> None:
    """Rows added between lookups are merged into the sorted index (as a store being written
    and read chunk by chunk): every row stays findable, a repeated key lists its earlier row
    first, and a merge holds about 20 bytes an entry, not a re-sort of everything (44)."""
    keys = key_array(_keys(40_000)).copy()
    keys[30_000:30_100] = keys[:100]  # written again later: rows i and 30_000 + i
    index = ShardIndex()
    probe = np.zeros(1, dtype=np.uint64)
    for start in range(0, 36_000, 4_000):
        index.add(keys[start:start + 4_000])
        index.candidates(probe)  # a lookup settles what was added
    index.add(keys[36_000:])
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index.candidates(probe)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    assert peak / len(keys) < 24
    queries, rows = index.candidates(key_prefixes(keys))
    assert np.array_equal(np.unique(queries), np.arange(len(keys)))
    first = rows[np.unique(queries, return_index=True)[1]]
    assert np.array_equal(first[:100], np.arange(100))
    assert np.array_equal(first[100:30_000], np.arange(100, 30_000))


def test_reading_back_holds_one_chunk_not_the_store(tmp_path: Path) -> None:
    keys = _keys(40_000)
    vectors = _fill(tmp_path, keys, dim=64)  # 10 MB of vectors
    cache = EmbeddingCache(tmp_path, IDENTITY)
    cache.contains(keys[:1])  # open the index before measuring
    tracemalloc.start()
    for start in range(0, len(keys), 2000):  # as mteb reads a corpus: one chunk at a time
        found, _ = cache.lookup(keys[start:start + 2000])
        assert np.array_equal(found, vectors[start:start + 2000])
        del found
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 3 * 2000 * 64 * 4 + (2 << 20)  # a few chunks' worth, not 10 MB


@pytest.mark.parametrize("damage", ["missing", "truncated", "flipped", "garbage"])
def test_damaged_sidecar_never_returns_a_wrong_vector(tmp_path: Path, damage: str) -> None:
    keys = _keys(300)
    vectors = _fill(tmp_path, keys, batch=64)
    (shard,) = tmp_path.rglob("shard-*.bin")
    sidecar = keys_path(shard)
    data = bytearray(sidecar.read_bytes())
    if damage == "missing":
        sidecar.unlink()
    elif damage == "truncated":
        sidecar.write_bytes(bytes(data[:100 * 16 + 5]))
    elif damage == "flipped":
        data[16 * 7 + 3] ^= 0x40  # the 8th key's prefix
        sidecar.write_bytes(bytes(data))
    else:
        sidecar.write_bytes(bytes(np.random.default_rng(3).integers(0, 256, len(data),
                                                                    dtype=np.uint8)))
    found, present = EmbeddingCache(tmp_path, IDENTITY).lookup(keys)
    assert np.array_equal(found[present], vectors[present])
    lost = {"missing": 0, "truncated": 0, "flipped": 1, "garbage": 300}[damage]
    assert int((~present).sum()) == lost  # rows the sidecar lacks are read from the records


def test_temporary_store_is_removed_by_forget_and_close(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    store = VectorStore(None)
    keys = _keys(10)
    store.put(keys, np.ones((10, 4), dtype=np.float32))
    (folder,) = tmp_path.glob(f"{TEMPORARY_PREFIX}*")
    assert store.lookup(keys)[1].all()
    store.forget()
    assert not folder.exists() and not store.lookup(keys)[1].any()
    store.put(keys, np.ones((10, 4), dtype=np.float32))
    store.close()
    assert not list(tmp_path.iterdir())


def test_dims_without_a_cache_encode_once_from_a_temporary_store(
        tiny_data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cache_dir=null and dims=[128,384]: each text encoded once, the second dim read back
    from a temporary store on disk that is gone when the run ends; scores equal one-dim runs."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    evaluate, seen = mteb.evaluate, []

    def spy(*args, **kwargs):
        seen.append(sorted(p.name for p in (tmp_path / "tmp").rglob("shard-*.bin")))
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(mteb, "evaluate", spy)
    truncate = ["tasks.names=[SciFact]", "model.dim_mode=truncate"]
    both = run([*truncate, "dims=[128,384]", *run_settings(tiny_data_root, tmp_path / "both")])
    assert seen[0] == [] and len(seen[1]) == 1  # the second dim found the first's vectors
    assert not list((tmp_path / "tmp").glob(f"{TEMPORARY_PREFIX}*"))
    scores = load_scores(tmp_path / "both").set_index("label")["main_score"]
    for dim in (128, 384):
        one = run([*truncate, f"dims=[{dim}]", *run_settings(tiny_data_root, tmp_path / f"{dim}")])
        assert one.texts_encoded == both.texts_encoded > 0
        single = load_scores(tmp_path / f"{dim}").set_index("label")["main_score"]
        assert np.allclose(scores[single.index], single, atol=1e-6, rtol=0)
