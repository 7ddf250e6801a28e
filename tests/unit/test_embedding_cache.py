"""The embedding cache and the one-pass MRL sweep on the small BIOSSES: warm runs encode nothing
and score the same, damaged entries are recomputed, another prompt or dtype never reuses a
vector, several MRL dims cost one encode pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from support import run_settings

from harness.api import run
from harness.cache import SHARD_GLOB
from harness.results import load_scores
from harness.testing import make_mrl_model, mrl_overrides

TASKS = "tasks.names=[BIOSSES]"


def _run(data_root: Path, out: Path, cache: Path, *extra: str):
    summary = run([TASKS, *run_settings(data_root, out, cache), *extra])
    return summary, load_scores(out).set_index(["label", "task"])["main_score"]


@pytest.fixture(scope="module")
def cold(tiny_data_root: Path, tmp_path_factory: pytest.TempPathFactory):
    cache = tmp_path_factory.mktemp("cache")
    summary, scores = _run(tiny_data_root, tmp_path_factory.mktemp("cold"), cache)
    return cache, summary, scores


def test_warm_equals_cold_and_encodes_nothing(cold, tiny_data_root: Path, tmp_path: Path) -> None:
    cache, cold_summary, cold_scores = cold
    assert cold_summary.texts_encoded > 0
    summary, scores = _run(tiny_data_root, tmp_path / "warm", cache)
    assert summary.texts_encoded == 0
    assert summary.cache_hits == cold_summary.texts_encoded
    assert np.allclose(scores, cold_scores, atol=1e-6, rtol=0)


def _copy_cache(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return next(dst.rglob(SHARD_GLOB))


def test_truncated_entry_is_recomputed(cold, tiny_data_root: Path, tmp_path: Path) -> None:
    cache, _, cold_scores = cold
    shard = _copy_cache(cache, tmp_path / "cache")
    with shard.open("r+b") as handle:
        handle.truncate(shard.stat().st_size - 10)  # tear the last record
    summary, scores = _run(tiny_data_root, tmp_path / "out", tmp_path / "cache")
    assert summary.texts_encoded == 1
    assert np.allclose(scores, cold_scores, atol=1e-6, rtol=0)


def test_flipped_bit_is_detected_and_recomputed(cold, tiny_data_root: Path,
                                                tmp_path: Path) -> None:
    cache, _, cold_scores = cold
    shard = _copy_cache(cache, tmp_path / "cache")
    data = bytearray(shard.read_bytes())
    data[20] ^= 0x10  # inside the first record's vector (after its 16-byte key)
    shard.write_bytes(bytes(data))
    summary, scores = _run(tiny_data_root, tmp_path / "out", tmp_path / "cache")
    assert summary.cache_damaged == 1 and summary.texts_encoded == 1
    assert np.allclose(scores, cold_scores, atol=1e-6, rtol=0)


@pytest.mark.parametrize("change", ["+model.prompts.symmetric=query: ", "precision=bf16"])
def test_other_prompt_or_dtype_never_reuses(cold, tiny_data_root: Path, tmp_path: Path,
                                            change: str) -> None:
    cache, cold_summary, _ = cold
    summary, _ = _run(tiny_data_root, tmp_path / "out", cache, change)
    assert summary.cache_hits == 0
    assert summary.texts_encoded == cold_summary.texts_encoded


def test_fp16_storage_within_1e4(cold, tiny_data_root: Path, tmp_path: Path) -> None:
    _, _, cold_scores = cold
    cache = tmp_path / "cache16"
    _run(tiny_data_root, tmp_path / "first", cache, "cache_storage=fp16")
    summary, scores = _run(tiny_data_root, tmp_path / "warm", cache, "cache_storage=fp16")
    assert summary.texts_encoded == 0
    assert np.abs(scores.to_numpy() - cold_scores.to_numpy()).max() <= 1e-4
    fp32_size = sum(p.stat().st_size for p in cold[0].rglob(SHARD_GLOB))
    fp16_size = sum(p.stat().st_size for p in cache.rglob(SHARD_GLOB))
    assert fp16_size < 0.55 * fp32_size


def test_dims_sweep_equals_separate_runs(tiny_data_root: Path, tmp_path: Path) -> None:
    dims = [32, 64]
    model = mrl_overrides(make_mrl_model(tmp_path / "mrl", dims), dims)
    sweep, sweep_scores = _run(tiny_data_root, tmp_path / "sweep", tmp_path / "c1", *model,
                               f"dims=[{','.join(map(str, dims))}]")
    # the default dim (32) is the plain revision folder, the other one an experiment
    assert [f.parent.name for f in sweep.folders.values()] == ["harness-test__minilm-mrl",
                                                              "experiments"]
    single_encoded = None
    for dim in dims:
        summary, scores = _run(tiny_data_root, tmp_path / f"single{dim}", tmp_path / f"c{dim}",
                               *model, f"dims=[{dim}]")
        single_encoded = summary.texts_encoded
        label = "harness-test/minilm-mrl" + ("" if dim == dims[0] else f" (dim {dim})")
        assert np.allclose(sweep_scores[label], scores[label], atol=1e-6, rtol=0)
    assert sweep.texts_encoded == single_encoded  # one encode pass for both dims
