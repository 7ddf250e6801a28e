"""Cache damage is reported in one line at the end of a run (count and shard), and an
``identity.json`` that contradicts its namespace is rebuilt instead of stopping every run.

Direct cache handles over random vectors, then a harness run of the tiny BIOSSES over a copy of
the warm tiny-task cache (tests/tiny_tasks.py).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from support import cli, run_settings

from harness.cache import IDENTITY_FILE, SHARD_GLOB, EmbeddingCache

DIM = 8
IDENTITY = {"name": "test/model", "weights": "abc"}


def _filled(folder: Path, count: int) -> tuple[list[bytes], np.ndarray]:
    rng = np.random.default_rng(0)
    keys = [bytes(rng.integers(0, 256, 16, dtype=np.uint8)) for _ in range(count)]
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    cache = EmbeddingCache(folder, IDENTITY)
    cache.put(keys, vectors)
    cache.close()
    return keys, vectors


def test_damaged_records_and_torn_tails_are_one_line_with_count_and_shard(tmp_path: Path) -> None:
    keys, _ = _filled(tmp_path, 6)
    (shard,) = tmp_path.rglob(SHARD_GLOB)
    record = 16 + DIM * 4 + 4
    data = bytearray(shard.read_bytes())
    for row in (1, 4):
        data[row * record + 20] ^= 0x01
    shard.write_bytes(bytes(data) + b"\x00" * 5)  # and a torn tail of 5 bytes
    cache = EmbeddingCache(tmp_path, IDENTITY)
    found = cache.get(keys)
    assert set(found) == {keys[0], keys[2], keys[3], keys[5]}
    line = cache.stats.problems()
    assert line == (f"embedding cache: 2 damaged record(s) skipped and recomputed (2 in "
                    f"{shard.name}); 1 torn shard tail(s) ignored (5 bytes in {shard.name})")
    assert EmbeddingCache(tmp_path / "empty", IDENTITY).stats.problems() is None


@pytest.mark.parametrize("damage", ["dim", "name", "garbage"])
def test_an_identity_that_contradicts_its_shards_is_rebuilt(damage: str, tmp_path: Path) -> None:
    """A flipped bit of the dim (or another model's name, or no JSON at all): nothing is read
    under it, the next write rewrites it, and the entries are found again."""
    keys, vectors = _filled(tmp_path, 6)
    (path,) = tmp_path.rglob(IDENTITY_FILE)
    identity = json.loads(path.read_text())
    if damage == "dim":
        identity["dim"] = DIM ^ 1
    elif damage == "name":
        identity["name"] = "other/model"
    path.write_text("{garbage" if damage == "garbage" else json.dumps(identity))
    cache = EmbeddingCache(tmp_path, IDENTITY)
    assert cache.get(keys) == {}
    assert cache.stats.damaged == 0  # no record blamed for a wrong identity
    cache.put(keys[:1], vectors[:1])
    cache.close()
    line = cache.stats.problems()
    assert line.startswith("embedding cache: ") and str(path) in line and "\n" not in line
    assert "rewritten" in line
    assert json.loads(path.read_text()) == {**IDENTITY, "storage": "fp32", "dim": DIM}
    again = EmbeddingCache(tmp_path, IDENTITY)
    found = again.get(keys)
    assert set(found) == set(keys) and again.stats.problems() is None
    assert np.allclose(np.stack([found[k] for k in keys]), vectors)


def test_a_run_reports_cache_damage_in_one_line(tiny_data_root: Path, tiny_cache: Path,
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(tiny_cache, cache)
    shards = sorted(cache.rglob(SHARD_GLOB), key=lambda p: p.stat().st_size)
    for shard in shards:  # a torn tail on every shard: read, counted, reported
        with shard.open("ab") as handle:
            handle.write(b"\x01\x02\x03")
    with caplog.at_level(logging.WARNING, logger="harness"):
        code, out, err = cli(capsys, "run", "tasks.names=[BIOSSES]",
                             *run_settings(tiny_data_root, tmp_path / "out", cache))
    assert code == 0 and "texts encoded 0" in out, err
    (line,) = [r.getMessage() for r in caplog.records if "embedding cache" in r.getMessage()]
    (used,) = {s.parent for s in shards if str(s.parent) in line}
    torn = sorted(s for s in shards if s.parent == used)
    assert f"{len(torn)} torn shard tail(s) ignored" in line
    assert all(f"3 bytes in {s.name}" in line for s in torn)
