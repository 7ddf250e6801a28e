"""The task loop: resume, load the model once, score every dim and storage precision, write
results, per-item records and a manifest."""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import logging
import platform
import socket
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import mteb
import torch

from harness.cache import EmbeddingCache
from harness.config import run_variants
from harness.data.mirror import load_task_data
from harness.encode_jobs import encode_tasks
from harness.layout import check_same_model, run_folders
from harness.manifest import manifest_tasks
from harness.models.device import (
    device_kind,
    resolve_autocast,
    resolve_devices,
    resolve_precision,
)
from harness.models.encoder import HarnessEncoder
from harness.models.heads import DimProjector
from harness.models.limits import check_max_length
from harness.models.loading import (
    load_backend,
    plain,
    resolve_model_path,
    weights_fingerprint,
)
from harness.models.quantize import bytes_per_vector, quantized
from harness.predictions import mteb_prediction_folder, save_predictions
from harness.preflight import check_run_folders
from harness.protocol import discard_protocol, write_protocol
from harness.results import (
    version_drift,
    write_manifest,
    write_task_result,
)
from harness.resume import Plan, Variant, plan_run
from harness.schema import ModelConfig, RunConfig
from harness.sharding import shard_tasks
from harness.status import task_markers
from harness.tasks import task_objects
from harness.workers import encode_pool

log = logging.getLogger(__name__)
LIBRARIES = ("mteb", "sentence-transformers", "transformers", "torch", "datasets", "hydra-core",
             "mteb-harness")


@dataclass
class RunSummary:
    """What a run did: tasks evaluated and skipped (per dim and precision), where results went."""

    evaluated: list[tuple[str, Variant]] = field(default_factory=list)
    skipped: list[tuple[str, Variant]] = field(default_factory=list)
    folders: dict[Variant, Path] = field(default_factory=dict)
    texts_encoded: int = 0
    cache_hits: int = 0
    cache_damaged: int = 0
    cache_problems: str | None = None  # damaged records, torn tails, a rewritten identity
    encode_only: bool = False
    encoded_tasks: list[str] = field(default_factory=list)  # encode jobs: inputs stored


@functools.cache
def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that change scores (read once per process)."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str | None:
    """The harness checkout's commit, when it runs from a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def evaluate(cfg: RunConfig) -> RunSummary:
    """Run every task of ``cfg`` that has no result of its protocol yet (all of them with
    ``overwrite=true``); a result of another protocol stops the run before any work."""
    model = cfg.model
    check_run_folders(cfg.output_dir, cfg.cache_dir)
    variants = run_variants(cfg)
    summary = RunSummary(folders=run_folders(cfg),
                         encode_only=bool(cfg.encode_only or cfg.encode_shard))
    weights = check_same_model(list(summary.folders.values()), resolve_model_path(model))
    tasks = task_objects(cfg.tasks, cfg.data_root)
    installed = library_versions()
    for folder in summary.folders.values():
        drift = version_drift(folder, installed)
        if drift:
            log.warning(drift)
    if cfg.shard:
        tasks = shard_tasks(tasks, cfg.shard)
    devices = resolve_devices(cfg.device, cfg.devices)
    device = device_kind(devices[0])
    precision = resolve_precision(cfg.precision, model.dtype, device)
    autocast = resolve_autocast(model.autocast, cfg.precision, precision, device)
    model_dir = resolve_model_path(model)
    check_max_length(model, model_dir)
    identity = cache_identity(model, model_dir, precision, autocast)
    plan = plan_run(cfg, tasks, summary.folders, identity, version("mteb"))
    summary.skipped += plan.skipped
    if not plan.todo:
        return summary

    projector = DimProjector(model.dim_mode, model_dir, model.normalize, revision=model.revision)
    projector.prepare(list(dict.fromkeys(dim for dim, _ in variants)))
    cache = None
    if cfg.cache_dir:
        cache = EmbeddingCache(cfg.cache_dir, identity, cfg.cache_storage)
    # the weights load on the first text that needs encoding: a fully cached run never loads them
    encoder = HarnessEncoder(
        model, lambda: load_backend(model, devices[0], precision, autocast), projector,
        batch_size=cfg.batch_size, max_batch_tokens=cfg.max_batch_tokens,
        show_progress=cfg.show_progress, cache=cache,
        precision_fallback=cfg.precision_fallback,
        workers=encode_pool(cfg, devices, precision, autocast),
    )
    try:
        if summary.encode_only:
            encode_tasks(cfg, tasks, plan.todo, encoder, summary)
        else:
            _run_tasks(cfg, tasks, plan, encoder, summary, device, precision, weights)
    finally:
        encoder.close()
        summary.cache_hits += encoder.store.hits
        if cache is not None:
            summary.cache_damaged = cache.stats.damaged
            summary.cache_problems = cache.stats.problems(cache.folder)
            if summary.cache_problems:
                log.warning(summary.cache_problems)
        summary.texts_encoded = encoder.texts_encoded
    return summary


def cache_identity(model: ModelConfig, model_dir: str, precision: str,
                   autocast: str | None = None) -> dict:
    """Everything about the model that changes a pooled vector (the cache namespace); the
    prompt and a per-task max length enter each entry's key (:func:`harness.cache.text_key`)."""
    identity = {
        "name": model.name, "path": model_dir, "revision": model.revision,
        "weights": weights_fingerprint(model_dir), "backend": model.backend,
        "precision": precision, "pooling": model.pooling, "max_length": model.max_length,
        "append_eos": model.append_eos, "padding_side": model.padding_side,
    }
    # only when set, so the namespaces of recipes without them stay what they were
    extra = {"autocast": autocast, "config_kwargs": plain(model.config_kwargs),
             "forward_kwargs": plain(model.forward_kwargs)}
    return {**identity, **{k: v for k, v in extra.items() if v}}


def _run_tasks(cfg: RunConfig, tasks: list, plan: Plan, encoder: HarnessEncoder,
               summary: RunSummary, device: str, precision: str, weights: str) -> None:
    base_manifest = {**_base_manifest(cfg, device, precision), "weights": weights}
    todo = plan.todo
    for task in tasks:
        name = task.metadata.name
        if name not in todo:
            continue
        started = time.perf_counter()
        with task_markers([summary.folders[d] for d in todo[name]], name):
            source = load_task_data(task, cfg.data_root, plan.data[name])
            for variant in todo[name]:
                dim, quantize = variant
                folder = summary.folders[variant]
                protocol = plan.protocols[name][variant]
                discard_protocol(folder, name)  # the old result's, until the new one is written
                encoder.dim = dim
                before = encoder.texts_encoded
                dim_started = time.perf_counter()
                with (quantized(encoder, quantize) as scored,
                      mteb_prediction_folder(cfg.save_predictions) as predictions):
                    result = mteb.evaluate(
                        scored, task, cache=None, overwrite_strategy="always", raise_error=True,
                        encode_kwargs={"batch_size": cfg.batch_size}, show_progress_bar=False,
                        prediction_folder=predictions,
                    ).task_results[0]
                    # the record first: a task counts as done once its result is written
                    saved = None if predictions is None else save_predictions(
                        task, result, predictions, folder)
                    write_task_result(result, folder)
                    write_protocol(folder, name, protocol)
                record_task(folder, base_manifest, name, {
                    "data": source.source,
                    "data_fingerprint": source.fingerprint,
                    "dataset_revision": source.dataset_revision,
                    "protocol": protocol.id,
                    "wall_time_s": round(time.perf_counter() - dim_started, 3),
                    "texts_encoded": encoder.texts_encoded - before,
                    "main_score": float(result.main_score),
                    "quantize": quantize,
                    "embedding_dim": encoder.output_dim,
                    "bytes_per_vector": None if encoder.output_dim is None
                    else bytes_per_vector(encoder.output_dim, quantize),
                    "predictions": saved,
                    "host": socket.gethostname(),
                    "shard": cfg.shard,
                })
                summary.evaluated.append((name, variant))
        log.info("%s done in %.1fs", name, time.perf_counter() - started)
        encoder.forget()


def record_task(folder: Path, base: dict, task_name: str, entry: dict) -> None:
    """Add one task to ``folder``'s manifest: under an exclusive lock, re-read the manifest and
    merge, so jobs of the same model and dim that finish tasks at once keep each other's."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".run_manifest.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tasks = manifest_tasks(folder)
        write_manifest(folder, {**base, "tasks": {**tasks, task_name: entry}})


def _base_manifest(cfg: RunConfig, device: str, precision: str) -> dict:
    """The run-wide part of a manifest: the last job to finish a task writes its own."""
    return {
        "config": dataclasses.asdict(cfg),
        "versions": library_versions(),
        "git_commit": git_commit(),
        "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else platform.processor()
        or platform.machine(),
        "precision": precision,
    }
