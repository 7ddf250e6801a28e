"""Structured configs (registered with Hydra's ConfigStore) and their composition.

The dataclasses are the schema: a YAML key or an override that is not a field fails at
composition time with the valid keys listed. Values with a fixed set of choices are checked by
``validate`` so the error names the choices in the harness's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import MISSING, DictConfig, OmegaConf

from harness.errors import HarnessError, unknown_choice
from harness.models.prompts import INSTRUCTION

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

BACKENDS = ("sentence-transformers", "transformers")
POOLINGS = ("mean", "cls", "last_token")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
DTYPES = ("fp32", "fp16", "bf16")
DIM_MODES = ("none", "head", "truncate")
PADDING_SIDES = ("right", "left")
SIMILARITIES = ("cosine", "dot")
PROMPT_SIDES = ("query", "document", "symmetric")
CACHE_STORAGES = ("fp32", "fp16")


@dataclass
class ModelConfig:
    """A model recipe: what to load and exactly how its authors encoded text."""

    name: str = MISSING  # model id as published, e.g. sentence-transformers/all-MiniLM-L6-v2
    path: str | None = None  # hub id or local folder to load from; None means `name`
    revision: str | None = None
    backend: str = "sentence-transformers"
    pooling: str = "mean"
    normalize: bool = True
    max_length: int = 512
    dtype: str = "fp32"  # the authors' precision, used on CUDA when precision=auto
    prompts: dict[str, str] = field(default_factory=dict)
    append_eos: bool = False
    padding_side: str = "right"
    trust_remote_code: bool = False
    config_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to the model's config
    dims: list[int] = field(default_factory=list)  # MRL dims the model offers
    default_dim: int | None = None
    dim_mode: str = "none"
    similarity: str = "cosine"
    source: str = ""  # the model card this recipe follows
    notes: str = ""  # where the recipe deliberately differs from mteb's defaults


@dataclass
class TasksConfig:
    """A task list: explicit names, or a benchmark from mteb's registry (optionally filtered)."""

    name: str = "custom"
    benchmark: str | None = None
    names: list[str] = field(default_factory=list)
    description: str = ""


@dataclass
class RunConfig:
    """One run: a model, a task list and the run settings."""

    model: ModelConfig = MISSING
    tasks: TasksConfig = MISSING
    data_root: str | None = None
    output_dir: str = "results"
    batch_size: int = 32
    device: str = "auto"
    precision: str = "auto"
    dims: list[int] | None = None
    overwrite: bool = False
    show_progress: bool = True
    cache_dir: str | None = "~/.cache/mteb-harness"
    cache_storage: str = "fp32"
    max_batch_tokens: int = 16384
    precision_fallback: bool = False
    shard: str | None = None  # "i/n": run only shard i of n of the task list (cost-balanced)


def register_configs() -> None:
    """Register the schema so ``configs/config.yaml`` can use it as its first default."""
    store = ConfigStore.instance()
    store.store(name="harness_schema", node=RunConfig)


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text.split(" full_key:")[0]


def _group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _schema_keys(node: type) -> list[str]:
    return sorted(OmegaConf.structured(node).keys())


def compose_config(overrides: list[str] | None = None) -> DictConfig:
    """Compose ``configs/config.yaml`` with Hydra overrides; user mistakes become HarnessError."""
    from hydra.errors import (
        ConfigCompositionException,
        MissingConfigException,
        OverrideParseException,
    )
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    overrides = list(overrides or [])
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
            cfg = compose(config_name="config", overrides=overrides)
        OmegaConf.to_container(cfg, resolve=True)  # a bad ${...} fails here, not mid-run
    except OverrideParseException as exc:
        raise _unparsable_override(overrides, exc) from None
    except MissingConfigException as exc:
        group = next(
            (g for g in ("model", "tasks") if f"'{g}'" in str(exc) or f"{g}/" in str(exc)), None
        )
        if group:
            bad = _override_value(overrides, group)
            raise unknown_choice(f"{group} config", bad, _group_options(group)) from None
        raise _missing_hydra_option(exc) from None
    except (ConfigCompositionException, OmegaConfBaseException, ValueError) as exc:
        key = getattr(exc, "full_key", None)
        if key:  # e.g. an interpolation that does not resolve
            raise HarnessError(f"{key}: {_one_line(exc)}") from None
        raise HarnessError(_explain_composition_error(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    validate(cfg)
    return cfg


def _unparsable_override(overrides: list[str], exc: Exception) -> HarnessError:
    """The override Hydra's grammar rejects (braces, brackets, quotes), and how to quote it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser, bad = OverridesParser.create(), "?"
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except OverrideParseException:
            bad = override
            break
    return HarnessError(
        f"cannot parse override {bad!r} ({_one_line(exc).split(' See https')[0]}); quote a value "
        "with special characters, e.g. ++model.prompts.query='query: {instruction} '")


def _missing_hydra_option(exc: Exception) -> HarnessError:
    """``hydra/launcher=slurmm`` and the like: the bad name and the options Hydra listed."""
    text = str(exc)
    match = re.search(r"Could not find '([\w/]+)/([^'/]+)'", text)
    listed = re.search(r"Available options in '[^']+':\n((?:\t.*\n?)+)", text)
    if match and listed:
        return unknown_choice(f"{match.group(1)} config", match.group(2),
                              listed.group(1).split())
    return HarnessError(_one_line(exc))


def _override_value(overrides: list[str], group: str) -> str:
    for item in overrides:
        key, _, value = item.partition("=")
        if key.lstrip("+~") == group:
            return value
    return "?"


def _explain_composition_error(exc: Exception) -> str:
    message = _one_line(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        message = _one_line(cause)
    match = re.search(r"Key '([^']+)' (?:is )?not in (?:struct|'(\w+)')", message)
    if not match:
        match = re.search(r"Could not override '([^']+)'", message)
    if match:
        dotted = match.group(1)
        full = re.search(r"full_key: ([\w.]+)", str(cause or exc))
        dotted = full.group(1) if full else dotted
        if dotted.startswith(("model.prompts.", "model.config_kwargs.")):
            return (f"{dotted} is not in the recipe; add a new entry with "
                    f"'+{dotted}=VALUE' (Hydra's + adds a key)")
        parent = dotted.rsplit(".", 1)[0] if "." in dotted else ""
        if parent.split(".")[0] == "hydra":
            return (f"unknown config key {dotted!r}; "
                    "'harness run [hydra/launcher=NAME] --cfg hydra' lists the valid ones")
        schema = {"model": ModelConfig, "tasks": TasksConfig}.get(parent, RunConfig)
        keys = [_prefix(parent, k) for k in _schema_keys(schema)]
        return str(unknown_choice("config key", dotted, keys))
    full = re.search(r"full_key: ([\w.]+)", str(cause or exc))
    return f"{full.group(1)}: {message}" if full else message


def _prefix(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _check_choice(kind: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise unknown_choice(kind, value, choices)


def _check_keys(cfg: DictConfig) -> None:
    """Keys added with Hydra's ``+`` must still be settings of the schema."""
    for parent, node, schema in (("", cfg, RunConfig), ("model", cfg.model, ModelConfig),
                                 ("tasks", cfg.tasks, TasksConfig)):
        valid = _schema_keys(schema)
        for key in node:
            if key not in valid:
                raise unknown_choice("config key", _prefix(parent, str(key)),
                                     [_prefix(parent, k) for k in valid])


def _check_prompts(prompts: DictConfig) -> None:
    """A prompt may hold the placeholder ``{instruction}`` and no other brace."""
    for key, template in prompts.items():
        rest = str(template).replace(INSTRUCTION, "")
        if "{" in rest or "}" in rest:
            field = re.search(r"\{[^{}]*\}", rest)
            what = f"placeholder {field.group(0)}" if field else "an unbalanced brace"
            raise HarnessError(
                f"model.prompts.{key}: {what} in prompt {str(template)!r}; the only placeholder "
                f"is {INSTRUCTION} (the task's instruction from mteb)")


def validate(cfg: DictConfig) -> None:
    """Check values that have a fixed set of choices or a valid range."""
    _check_keys(cfg)
    model = cfg.model
    _check_choice("backend", model.backend, BACKENDS)
    _check_choice("pooling", model.pooling, POOLINGS)
    _check_choice("dtype", model.dtype, DTYPES)
    _check_choice("dim_mode", model.dim_mode, DIM_MODES)
    _check_choice("padding_side", model.padding_side, PADDING_SIDES)
    _check_choice("similarity", model.similarity, SIMILARITIES)
    _check_choice("device", cfg.device, DEVICES)
    _check_choice("precision", cfg.precision, PRECISIONS)
    _check_choice("cache_storage", cfg.cache_storage, CACHE_STORAGES)
    if cfg.max_batch_tokens < 1:
        raise HarnessError(
            f"max_batch_tokens must be a positive integer, got {cfg.max_batch_tokens}")
    if cfg.batch_size < 1:
        raise HarnessError(f"batch_size must be a positive integer, got {cfg.batch_size}")
    if cfg.shard is not None:
        from harness.sharding import parse_shard

        parse_shard(cfg.shard)
    if model.max_length < 2:
        raise HarnessError(f"model.max_length must be at least 2, got {model.max_length}")
    _check_prompts(model.prompts)
    if cfg.dims:
        offered = list(model.dims)
        negative = [d for d in cfg.dims if d < 1]
        if negative:
            raise HarnessError(f"dims must be positive integers, got {negative[0]}")
        if model.dim_mode == "none":
            raise HarnessError(
                f"dims={list(cfg.dims)} but model {model.name!r} has no MRL dims "
                "(set model.dim_mode=truncate to truncate its vectors)"
            )
        bad = [d for d in cfg.dims if (offered and d not in offered) or d < 1]
        if bad:
            raise unknown_choice("dim", bad[0], [str(d) for d in offered])
    if cfg.data_root is not None and not Path(cfg.data_root).is_dir():
        raise HarnessError(
            f"data_root {cfg.data_root!r} does not exist; create it with "
            f"'harness data import SRC --out {cfg.data_root}'"
        )


def run_dims(cfg: DictConfig) -> list[int | None]:
    """The dims this run scores: ``dims=`` if given, else the model's default (None = native)."""
    if cfg.dims:
        return list(cfg.dims)
    if cfg.model.dim_mode != "none" and cfg.model.default_dim is not None:
        return [int(cfg.model.default_dim)]
    return [None]
