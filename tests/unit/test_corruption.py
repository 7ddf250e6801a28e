"""Damaged files on disk are detected, reported in one line and recomputed or ignored, never used.

Cache shards (beyond test_embedding_cache.py's torn last record and single flipped bit), result
JSONs (torn, foreign, empty), run manifests (torn, from another mteb version) and leftover
temporaries. The runs are over the tiny BIOSSES of tests/tiny_tasks.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import MINILM, MINILM_REVISION, cli, run_settings

from harness.cache import IDENTITY_FILE, SHARD_GLOB, UNREADABLE, EmbeddingCache, cache_entries
from harness.fileio import remove_stale_temps
from harness.results import (
    MANIFEST_NAME,
    find_run_folders,
    load_scores,
    read_manifest,
    read_task_result,
    run_folder,
    version_drift,
    write_task_result,
)

MODEL = MINILM
DIM = 8
IDENTITY = {"name": "test/model", "weights": "abc"}


# --- embedding cache -----------------------------------------------------------------------------


def _filled_cache(folder: Path, count: int, seed: int = 0) -> tuple[list[bytes], np.ndarray]:
    rng = np.random.default_rng(seed)
    keys = [bytes(rng.integers(0, 256, 16, dtype=np.uint8)) for _ in range(count)]
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    cache = EmbeddingCache(folder, IDENTITY)
    for start in range(0, count, 4):  # several appends, as the encoder's batches do
        cache.put(keys[start:start + 4], vectors[start:start + 4])
    cache.close()
    return keys, vectors


_damage = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "append", "zero"]),
                             st.floats(0, 1), st.integers(1, 200)), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage=_damage, count=st.integers(1, 12))
def test_damaged_shard_never_returns_a_wrong_vector(tmp_path_factory, damage, count):
    folder = tmp_path_factory.mktemp("cache")
    keys, vectors = _filled_cache(folder, count)
    (shard,) = folder.rglob(SHARD_GLOB)
    data = bytearray(shard.read_bytes())
    for kind, where, size in damage:
        at = int(where * max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[at] ^= 1 << (size % 8)
        elif kind == "truncate":
            del data[at:]
        elif kind == "append":
            data += os.urandom(size)
        elif kind == "zero":
            data[at:at + size] = bytes(len(data[at:at + size]))
    shard.write_bytes(bytes(data))
    cache = EmbeddingCache(folder, IDENTITY)
    found = cache.get(keys)
    for index, key in enumerate(keys):
        if key in found:
            assert np.array_equal(found[key], vectors[index])


def test_own_writes_are_found_by_the_same_process(tmp_path):
    keys, vectors = [b"k" * 16, b"l" * 16], np.ones((2, DIM), dtype=np.float32)
    cache = EmbeddingCache(tmp_path, IDENTITY)
    assert cache.get(keys) == {}
    cache.put(keys[:1], vectors[:1])
    cache.put(keys[1:], vectors[1:] * 2)
    found = cache.get(keys)  # a text of task 1 met again in task 2: no second encode
    assert np.array_equal(found[keys[0]], vectors[0])
    assert np.array_equal(found[keys[1]], vectors[1] * 2)
    assert cache.stats.hits == 2


def test_recomputed_copy_of_a_damaged_record_is_used_from_then_on(tmp_path):
    keys, vectors = _filled_cache(tmp_path, 4)
    (shard,) = tmp_path.rglob(SHARD_GLOB)
    data = bytearray(shard.read_bytes())
    data[20] ^= 0x01  # inside the first record's vector
    shard.write_bytes(bytes(data))
    first = EmbeddingCache(tmp_path, IDENTITY)
    assert keys[0] not in first.get(keys[:1]) and first.stats.damaged == 1
    first.put(keys[:1], vectors[:1])  # what the encoder does: encode again and store
    first.close()
    later = EmbeddingCache(tmp_path, IDENTITY)
    found = later.get(keys)
    assert len(found) == 4 and np.array_equal(found[keys[0]], vectors[0])


@pytest.mark.parametrize("identity", ["", '{"dim": 8', "[]", '{"dim": "eight", "storage": "x"}'])
def test_unreadable_identity_is_listed_and_rewritten(tmp_path, identity):
    keys, vectors = _filled_cache(tmp_path, 4)
    (path,) = tmp_path.rglob(IDENTITY_FILE)
    path.write_text(identity)
    (entry,) = cache_entries(tmp_path)
    assert entry.model == UNREADABLE and entry.size_bytes > 0
    cache = EmbeddingCache(tmp_path, IDENTITY)
    assert cache.get(keys) == {}  # the dim is unknown: nothing can be read
    cache.put(keys[:1], vectors[:1])
    cache.close()
    assert json.loads(path.read_text())["dim"] == DIM
    assert len(EmbeddingCache(tmp_path, IDENTITY).get(keys)) == 4


# --- result JSONs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def biosses_run(tiny_data_root: Path, tiny_cache: Path,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One BIOSSES run: its output folder and its (warm) embedding cache."""
    from harness.api import run

    out = tmp_path_factory.mktemp("out")
    run(["tasks.names=[BIOSSES]", *run_settings(tiny_data_root, out, tiny_cache)])
    return out, tiny_cache


def _rerun(capsys, data_root: Path, out: Path, cache: Path) -> tuple[int, str, str]:
    """``harness run`` of BIOSSES again, in-process (code, stdout, stderr)."""
    return cli(capsys, "run", "tasks.names=[BIOSSES]", *run_settings(data_root, out, cache))


def _copy(out: Path, tmp_path: Path) -> tuple[Path, Path]:
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return copy, run_folder(copy, MODEL, MINILM_REVISION)


def test_truncated_result_is_reported_and_recomputed(biosses_run, tiny_data_root, tmp_path,
                                                      capsys, caplog):
    out, cache = biosses_run
    copy, folder = _copy(out, tmp_path)
    path = folder / "BIOSSES.json"
    score = read_task_result(path).main_score
    path.write_text(path.read_text()[:300])
    with caplog.at_level(logging.WARNING, logger="harness"):
        code, stdout, err = _rerun(capsys, tiny_data_root, copy, cache)
    assert code == 0, err[-2000:]
    assert "evaluated 1, already done 0, texts encoded 0" in stdout
    mentions = [r.getMessage() for r in caplog.records if "BIOSSES.json" in r.getMessage()]
    assert len(mentions) == 1 and "unreadable" in mentions[0], caplog.text[-2000:]
    assert read_task_result(path).main_score == score


def test_table_reports_an_unreadable_result_in_one_line(biosses_run, tmp_path, capsys, caplog):
    good = run_folder(biosses_run[0], MODEL, MINILM_REVISION) / "BIOSSES.json"
    for model, text in (("org__good", good.read_text()), ("org__torn", good.read_text()[:200])):
        (tmp_path / model / "local").mkdir(parents=True)
        (tmp_path / model / "local" / "BIOSSES.json").write_text(text)
    with caplog.at_level(logging.WARNING):
        code, stdout, err = cli(capsys, "table", str(tmp_path))
    assert code == 0, err
    assert "org/good" in stdout and "org/torn" not in stdout
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "\n" not in warnings[0]
    assert str(tmp_path / "org__torn" / "local" / "BIOSSES.json") in warnings[0]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.floats(0, 1), noise=st.binary(max_size=40), flip=st.integers(0, 10**6))
def test_damaged_result_json_is_ignored_or_valid(biosses_run, tmp_path_factory, cut, noise, flip):
    text = (run_folder(biosses_run[0], MODEL, MINILM_REVISION) / "BIOSSES.json").read_bytes()
    data = bytearray(text[: int(cut * len(text))] + noise)
    if data:
        data[flip % len(data)] ^= 0x20
    folder = tmp_path_factory.mktemp("results") / "org__m" / "local"
    folder.mkdir(parents=True)
    (folder / "BIOSSES.json").write_bytes(bytes(data))
    result = read_task_result(folder / "BIOSSES.json")
    assert result is None or result.scores
    scores = load_scores(folder.parents[1])
    assert scores["main_score"].notna().all()


@pytest.mark.parametrize("content", [b"[]", b'"x"', b"1e999", b"{}", b"[" * 50_000, b"\xff{"])
def test_result_json_of_any_shape_is_ignored_with_one_warning(tmp_path, caplog, content):
    path = tmp_path / "BIOSSES.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="harness.results"):
        assert read_task_result(path) is None
    assert len(caplog.records) == 1 and str(path) in caplog.records[0].getMessage()


def test_result_without_scores_is_not_a_result(biosses_run, tmp_path, caplog):
    folder = run_folder(biosses_run[0], MODEL, MINILM_REVISION)
    data = json.loads((folder / "BIOSSES.json").read_text())
    path = tmp_path / "BIOSSES.json"
    path.write_text(json.dumps({**data, "scores": {}}))
    with caplog.at_level(logging.WARNING, logger="harness.results"):
        assert read_task_result(path) is None
    assert "holds no scores" in caplog.text


def test_result_of_another_task_is_not_used(biosses_run, tmp_path, caplog):
    path = tmp_path / "STS12.json"
    folder = run_folder(biosses_run[0], MODEL, MINILM_REVISION)
    path.write_text((folder / "BIOSSES.json").read_text())
    with caplog.at_level(logging.WARNING, logger="harness.results"):
        assert read_task_result(path) is None
    assert "it holds task BIOSSES" in caplog.text


def test_odd_results_tree_is_not_a_crash(biosses_run, tmp_path):
    good = (run_folder(biosses_run[0], MODEL, MINILM_REVISION) / "BIOSSES.json").read_text()
    for folder in ("org__m/local/experiments/dim_abc", "org__m/local/experiments/dim_64"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "BIOSSES.json").write_text(good)
    dims = sorted(str(run.dim) for run in find_run_folders(tmp_path))
    assert dims == ["64", "None"]  # dim_abc is not a dim folder: read as a revision


# --- manifests ----------------------------------------------------------------------------------


def test_torn_or_foreign_manifest_is_ignored_with_one_warning(tmp_path, caplog):
    for content in ('{"tasks": {"A"', "[1, 2]", '{"tasks": []}'):
        (tmp_path / MANIFEST_NAME).write_text(content)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="harness.results"):
            assert read_manifest(tmp_path) == {}
        assert len(caplog.records) == 1 and MANIFEST_NAME in caplog.text
    assert read_manifest(tmp_path / "nowhere") == {}


def test_version_drift_names_every_difference_in_one_line(tmp_path):
    installed = {"mteb": version("mteb"), "torch": "2.13.0", "datasets": "5.2.0"}
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(
        {"versions": {**installed, "mteb": "2.0.0", "torch": "2.1.0"}, "tasks": {}}))
    line = version_drift(tmp_path, installed)
    assert line is not None and "\n" not in line
    assert f"mteb 2.0.0 -> {version('mteb')}" in line and "torch 2.1.0 -> 2.13.0" in line
    assert "datasets" not in line
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"versions": installed, "tasks": {}}))
    assert version_drift(tmp_path, installed) is None


def test_result_from_another_mteb_version_is_reported_and_recomputed(
        biosses_run, tiny_data_root, tmp_path, capsys, caplog):
    """Needs the runner wiring: ``read_task_result(path, mteb_version=...)`` in ``_is_done`` and
    a ``version_drift`` warning per results folder (see the reliability report)."""
    out, cache = biosses_run
    copy, folder = _copy(out, tmp_path)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["versions"]["mteb"] = "2.0.0"
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    result = json.loads((folder / "BIOSSES.json").read_text())
    (folder / "BIOSSES.json").write_text(json.dumps({**result, "mteb_version": "2.0.0"}))
    with caplog.at_level(logging.WARNING, logger="harness"):
        code, stdout, err = _rerun(capsys, tiny_data_root, copy, cache)
    assert code == 0, err[-2000:]
    assert "evaluated 1, already done 0, texts encoded 0" in stdout
    assert any(f"mteb 2.0.0 -> {version('mteb')}" in r.getMessage() for r in caplog.records)
    assert read_task_result(folder / "BIOSSES.json").mteb_version == version("mteb")


# --- temporaries left by killed writers --------------------------------------------------------


def test_temporaries_of_dead_writers_are_removed(biosses_run, tmp_path):
    result = read_task_result(run_folder(biosses_run[0], MODEL, MINILM_REVISION) / "BIOSSES.json")
    host, dead = socket.gethostname(), 2**22 + 12345  # above the default pid_max
    stale = tmp_path / f".BIOSSES.json.{dead}@{host}.x1y2z3.tmp"
    alive = tmp_path / f".STS12.json.{os.getpid()}@{host}.a1b2c3.tmp"
    elsewhere = tmp_path / f".STS13.json.{dead}@not-{host}.a1b2c3.tmp"
    for path in (stale, alive, elsewhere):
        path.write_text("{")
    write_task_result(result, tmp_path)
    assert not stale.exists() and alive.exists() and elsewhere.exists()
    assert remove_stale_temps(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "BIOSSES.json"]
