"""The config schema: the dataclasses every composed config becomes, with every default.

A recipe YAML (``configs/model/``), a task list (``configs/tasks/``) and the run settings fill
these; Hydra checks keys and types against them, :func:`harness.config.validate` the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING


@dataclass
class ModelConfig:
    """A model recipe: what to load and exactly how its authors encoded text."""

    name: str = MISSING  # model id as published, e.g. sentence-transformers/all-MiniLM-L6-v2
    aliases: list[str] = field(default_factory=list)  # old names `model=` / model.name accept
    path: str | None = None  # hub id or local folder to load from; None means `name`
    revision: str | None = None  # the revision of the published results (40 hex)
    experiment: str | None = None  # results under <revision>/experiments/<experiment>/
    backend: str = "sentence-transformers"  # harness.models.loading.BACKENDS
    pooling: str = "mean"  # harness.models.pooling.POOLINGS
    normalize: bool = True
    max_length: int = 512
    dtype: str = "fp32"  # the authors' precision, used on CUDA when precision=auto
    autocast: str | None = None  # fp16 | bf16: fp32 weights run under torch.autocast
    prompts: dict[str, str] = field(default_factory=dict)
    # per-task settings keyed like prompts, e.g. {Classification: {normalize: false}}
    settings: dict[str, Any] = field(default_factory=dict)
    # task -> instruction for {instruction}, or {query: ..., document: ...} per side
    instructions: dict[str, Any] = field(default_factory=dict)
    append_eos: bool = False
    padding_side: str = "right"
    trust_remote_code: bool = False
    config_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to the model's config
    forward_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. {is_causal: false}
    dims: list[int] = field(default_factory=list)  # MRL dims the model offers
    default_dim: int | None = None
    dim_mode: str = "none"  # none | head (stella's 2_Dense_{dim}) | truncate
    similarity: str = "cosine"
    source: str = ""  # the script or card whose protocol this recipe follows
    notes: str = ""  # where the recipe deliberately differs from mteb's defaults


@dataclass
class TasksConfig:
    """A task list: explicit names, or a benchmark from mteb's registry (optionally filtered)."""

    name: str = "custom"
    benchmark: str | None = None
    names: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)  # tasks left out (e.g. run elsewhere)
    description: str = ""


@dataclass
class RunConfig:
    """One run: a model, a task list and the run settings."""

    model: ModelConfig = MISSING
    tasks: TasksConfig = MISSING
    data_root: str | None = None  # local mirror of task datasets (harness data import)
    output_dir: str = "results"
    batch_size: int = 32
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (recipe dtype on CUDA, fp32 on CPU) | fp32 | fp16 | bf16
    dims: list[int] | None = None  # MRL dims to score, e.g. [256,512]; None = the default
    quantize: list[str] | None = None  # storage precisions to score per dim: none | int8 | ubinary
    save_predictions: bool = False  # keep per-item outputs in predictions/<Task>.json.gz
    overwrite: bool = False  # rerun tasks that already have a result
    show_progress: bool = True
    cache_dir: str | None = "~/.cache/mteb-harness"  # pooled-vector cache; None = no cache
    cache_storage: str = "fp32"  # fp32 | fp16 (half the size, scores within 1e-4)
    max_batch_tokens: int = 16384  # padded tokens per batch at most
    precision_fallback: bool = False  # on NaN/Inf in fp16/bf16, redo that batch in fp32
    shard: str | None = None  # "i/n": only shard i of n of the task list (cost-balanced)
    encode_only: bool = False  # store the task list's inputs in cache_dir, score nothing
    encode_shard: str | None = None  # "i/n": only shard i of n of the inputs (implies encode_only)
    devices: list[str] | None = None  # one worker per device, e.g. [cuda:0,cuda:1] or [cpu,cpu]
