"""``harness status --cache-dir``: per task, how many of its distinct inputs the cache holds.

The inputs are those a scoring run of the recipe would encode (mteb's evaluation on placeholder
vectors, :mod:`harness.inputs`: each task's data is loaded, no weights are). They are counted in
every namespace of the cache that belongs to the recipe's model at any precision and storage,
since a login node without a GPU resolves ``precision=auto`` otherwise than the GPU nodes that
filled the cache did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.cache import IDENTITY_FILE, STORAGE_DTYPES, EmbeddingCache
from harness.cache_index import key_array
from harness.data.mirror import load_task_data
from harness.errors import DataError, UsageError, one_line
from harness.inputs import visit_task_inputs
from harness.models.device import TORCH_DTYPES
from harness.models.encoder import HarnessEncoder
from harness.models.heads import DimProjector
from harness.models.loading import Backend, resolve_model_path
from harness.runner import cache_identity
from harness.schema import RunConfig
from harness.tasks import task_objects


def model_caches(cfg: RunConfig, cache_dir: str | Path) -> dict[str, EmbeddingCache]:
    """``"bf16, fp32 storage"`` -> the cache namespace of the recipe's model at that precision
    and storage, for those that exist under ``cache_dir``."""
    model_dir = resolve_model_path(cfg.model)
    found = {}
    for precision in TORCH_DTYPES:
        identity = cache_identity(cfg.model, model_dir, precision)
        for storage in STORAGE_DTYPES:
            cache = EmbeddingCache(cache_dir, identity, storage)
            if (cache.folder / IDENTITY_FILE).exists():
                found[f"{precision}, {storage} storage"] = cache
    return found


def _no_weights() -> Backend:
    raise AssertionError("counting cached inputs loads no model")


def task_inputs(cfg: RunConfig, task) -> np.ndarray:
    """The distinct input keys of ``task`` under the recipe, as an ``(n, 16)`` uint8 array."""
    encoder = HarnessEncoder(cfg.model, _no_weights, DimProjector("none", None, False),
                             show_progress=False)
    parts = []

    def collect(prompt: str, texts: list[str], desc: str, max_length: int) -> None:
        parts.append(key_array(encoder.entry_keys(prompt, texts, max_length)))

    load_task_data(task, cfg.data_root)
    visit_task_inputs(task, encoder, collect, cfg.batch_size)
    keys = np.concatenate(parts) if parts else np.empty((0, 16), dtype=np.uint8)
    return np.unique(keys.view("V16").ravel()).view(np.uint8).reshape(-1, 16)


def coverage_table(cfg: RunConfig, cache_dir: str | Path) -> pd.DataFrame:
    """One row per task: Task, Inputs, and per cache namespace of the model, Cached (...)."""
    if not Path(cache_dir).expanduser().is_dir():
        raise UsageError(f"cache folder {str(cache_dir)!r} does not exist")
    caches = model_caches(cfg, cache_dir)
    rows = []
    columns = [f"Cached ({label})" for label in caches] or ["Cached"]
    for task in task_objects(cfg.tasks, cfg.data_root):
        row: dict = {"Task": task.metadata.name}
        try:
            keys = task_inputs(cfg, task)
        except DataError as exc:  # one task's data missing: the others are still counted
            rows.append({**row, "Inputs": "-", **dict.fromkeys(columns, "-"),
                         "Error": one_line(exc, 120)})
            continue
        row["Inputs"] = len(keys)
        for label, cache in caches.items():
            row[f"Cached ({label})"] = int(cache.contains(keys).sum())
        rows.append({**row, **({} if caches else {"Cached": 0})})
    return pd.DataFrame(rows).fillna("")
