"""Encode jobs: fill the shared embedding cache with a task list's inputs, score nothing.

``encode_only=true`` (``harness encode``) encodes every distinct (prompt, text) input that the
tasks' evaluation would encode into ``cache_dir``; ``encode_shard=i/n`` (which implies it) only
those of shard ``i`` of ``n``. A key belongs to shard ``int(key[8:16]) % n``: the same inputs in
every job and every rerun, whichever order the tasks come in, so ``n`` jobs on ``n`` GPUs split a
task's corpus between them, and a rerun after a failure encodes only the keys of its shard the
cache does not hold yet. A normal run afterwards scores every task with no text encoded.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from harness.cache_index import key_array
from harness.data.mirror import load_task_data
from harness.inputs import visit_task_inputs
from harness.sharding import parse_shard

if TYPE_CHECKING:
    from harness.models.encoder import HarnessEncoder
    from harness.runner import RunSummary
    from harness.schema import RunConfig

log = logging.getLogger(__name__)


def shard_mask(keys: list[bytes], shard: tuple[int, int] | None) -> np.ndarray:
    """Which ``keys`` are in encode shard ``(i, n)`` (all of them for None). Bytes 8-16 decide,
    not the first 8 the cache index sorts by."""
    if shard is None:
        return np.ones(len(keys), dtype=bool)
    index, count = shard
    if not keys:
        return np.zeros(0, dtype=bool)
    return np.ascontiguousarray(key_array(keys)[:, 8:]).view("<u8").ravel() % count == index


def encode_tasks(cfg: RunConfig, tasks: list, todo: dict, encoder: HarnessEncoder,
                 summary: RunSummary) -> None:
    """Store the inputs of every task in ``todo`` (of this encode shard) that the cache lacks;
    the store counts those it already held as hits."""
    shard = parse_shard(cfg.encode_shard, "encode_shard") if cfg.encode_shard else None

    def store(prompt: str, texts: list[str], desc: str, max_length: int) -> None:
        keys = encoder.entry_keys(prompt, texts, max_length)
        mine = np.flatnonzero(shard_mask(keys, shard)).tolist()
        keys, texts = [keys[i] for i in mine], [texts[i] for i in mine]
        present = encoder.store.contains(keys)
        missing = np.flatnonzero(~present).tolist()
        encoder.encode_to_store(prompt, [keys[i] for i in missing], [texts[i] for i in missing],
                                desc, max_length)

    for task in tasks:
        name = task.metadata.name
        if name not in todo:
            continue
        started, before = time.perf_counter(), encoder.texts_encoded
        load_task_data(task, cfg.data_root)
        visit_task_inputs(task, encoder, store, cfg.batch_size)
        summary.encoded_tasks.append(name)
        encoder.forget()
        log.info("%s: %d texts encoded in %.1fs", name, encoder.texts_encoded - before,
                 time.perf_counter() - started)
