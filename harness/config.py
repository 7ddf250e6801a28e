"""Where configs are found, and their composition into the typed schema (:mod:`harness.schema`).

The schema's dataclasses state every default once: ``configs/config.yaml`` only picks the default
recipe and task list. A YAML key or an override that is not a field fails at
composition with the valid keys; values with a fixed set of choices are checked against the
registries and tables of the modules that implement them.

Configs are found on a search path: the package's own ``harness/configs/`` and then every folder
named in ``$HARNESS_CONFIG_PATH`` (``os.pathsep``-separated; ``harness --config-dir DIR`` adds
one). Each folder may hold ``model/``, ``tasks/`` and ``hydra/launcher/`` configs; a name defined
in two folders is an error, so a recipe name always means one file.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from harness._compat import hydra_bad_key, hydra_full_key, hydra_message, hydra_missing_option
from harness.errors import UsageError, unknown_choice
from harness.schema import ModelConfig, RunConfig, TasksConfig

CONFIG_PATH_ENV = "HARNESS_CONFIG_PATH"
# recipe mappings whose keys are not schema fields: a new key is added with Hydra's +
OPEN_MAPPINGS = ("prompts", "settings", "instructions", "config_kwargs", "forward_kwargs")
PACKAGE_SOURCE = "package"
GROUPS = ("model", "tasks", "instructions")


def register_configs() -> None:
    """Register the schema so ``configs/config.yaml`` can use it as its first default."""
    ConfigStore.instance().store(name="harness_schema", node=RunConfig)


# the search path --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigSource:
    """One folder of the config search path: ``package`` or a user folder."""

    label: str
    path: Path


def package_config_dir() -> Path:
    """The configs shipped inside the package (``harness/configs``)."""
    return Path(str(resources.files("harness") / "configs"))


def add_config_dir(folder: str | Path) -> None:
    """Put ``folder`` on the search path of this process and its children (``--config-dir``)."""
    existing = os.environ.get(CONFIG_PATH_ENV)
    os.environ[CONFIG_PATH_ENV] = os.pathsep.join(
        [str(Path(folder).expanduser().resolve()), *([existing] if existing else [])])


def config_sources() -> list[ConfigSource]:
    """The search path: the package's configs, then the user folders in ``$HARNESS_CONFIG_PATH``."""
    sources = [ConfigSource(PACKAGE_SOURCE, package_config_dir())]
    for entry in filter(None, os.environ.get(CONFIG_PATH_ENV, "").split(os.pathsep)):
        folder = Path(entry).expanduser().resolve()
        if not folder.is_dir():
            raise UsageError(f"config folder {entry!r} (from {CONFIG_PATH_ENV} or --config-dir) "
                             "is not a folder")
        if "'" in str(folder) or "," in str(folder):
            raise UsageError(f"config folder {str(folder)!r}: quotes and commas are not allowed "
                             "in its path")
        if folder not in {s.path for s in sources}:
            sources.append(ConfigSource(str(folder), folder))
    return sources


def config_files(group: str) -> dict[str, tuple[ConfigSource, Path]]:
    """Option name -> (source, file) of every config of ``group`` on the search path; a name
    defined in two folders is a UsageError naming both."""
    found: dict[str, tuple[ConfigSource, Path]] = {}
    for source in config_sources():
        for path in sorted((source.path / group).glob("*.yaml")):
            if path.stem in found:
                raise UsageError(f"{group} config {path.stem!r} is defined twice: in "
                                 f"{found[path.stem][1]} and {path}; rename one")
            found[path.stem] = (source, path)
    return found


def config_options(group: str) -> list[str]:
    """The option names of ``group`` (e.g. the recipes of ``model``)."""
    return sorted(config_files(group))


def _searchpath_override(sources: list[ConfigSource]) -> list[str]:
    users = [f"'file://{s.path}'" for s in sources if s.label != PACKAGE_SOURCE]
    return [f"hydra.searchpath=[{','.join(users)}]"] if users else []


def hydra_main_args() -> tuple[str, list[str]]:
    """The primary config folder and the search-path override for Hydra's own entry point."""
    sources = config_sources()
    return str(sources[0].path), _searchpath_override(sources)


# composition ------------------------------------------------------------------------------------


def compose_dict(overrides: list[str] | None = None) -> DictConfig:
    """Compose ``config.yaml`` with Hydra overrides (as on the command line) and check its keys;
    every mistake is a one-line UsageError."""
    from hydra.errors import (
        ConfigCompositionException,
        MissingConfigException,
        OverrideParseException,
    )
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    sources = config_sources()
    for group in GROUPS:
        config_files(group)  # a name clash on the search path fails here, before Hydra picks one
    overrides = model_overrides(list(overrides or []))
    cache_key = _composition_key(overrides, sources)
    GlobalHydra.instance().clear()
    try:
        if cache_key in _COMPOSED:
            cfg = copy.deepcopy(_COMPOSED[cache_key])
        else:
            with initialize_config_dir(config_dir=str(sources[0].path), version_base=None):
                cfg = compose(config_name="config",
                              overrides=overrides + _searchpath_override(sources))
        OmegaConf.to_container(cfg, resolve=True)  # a bad ${...} fails here, not mid-run
    except OverrideParseException as exc:
        raise _unparsable_override(overrides, exc) from None
    except yaml.YAMLError as exc:
        raise yaml_syntax_error(exc) from None
    except MissingConfigException as exc:
        group = next((g for g in GROUPS if f"'{g}'" in str(exc) or f"{g}/" in str(exc)), None)
        if group:
            raise unknown_choice(f"{group} config", _override_value(overrides, group),
                                 config_options(group)) from None
        missing = hydra_missing_option(exc)
        if missing:
            raise unknown_choice(f"{missing[0]} config", missing[1], missing[2]) from None
        raise UsageError(hydra_message(exc)) from None
    except (ConfigCompositionException, OmegaConfBaseException, ValueError) as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, yaml.YAMLError):
            raise yaml_syntax_error(cause) from None
        key = getattr(exc, "full_key", None)
        if key:  # e.g. an interpolation that does not resolve
            raise UsageError(f"{key}: {hydra_message(exc)}") from None
        raise UsageError(_explain_composition_error(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    _check_keys(cfg)
    if cache_key is not None:
        _COMPOSED.setdefault(cache_key, copy.deepcopy(cfg))
    return cfg


# Hydra composition costs 0.2-0.5 s; `harness list models` composes every recipe and API callers
# compose the same overrides repeatedly, so one process keeps each result that passed its checks.
# The key holds the content of every YAML file on the search path, so an edited recipe is seen;
# a model folder's recipe is read from the folder each time, so it is never kept.
_COMPOSED: dict[tuple, DictConfig] = {}


def _composition_key(overrides: list[str], sources: list[ConfigSource]) -> tuple | None:
    from harness.recipes import FOLDER_RECIPE

    if f"model={FOLDER_RECIPE}" in overrides:
        return None
    digest = hashlib.sha256()
    for source in sources:
        for path in sorted(source.path.rglob("*.yaml")):
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return tuple(overrides), tuple(str(s.path) for s in sources), digest.hexdigest()


def model_overrides(overrides: list[str]) -> list[str]:
    """``overrides`` with model names, aliases and model folders without a recipe resolved
    (:mod:`harness.recipes`)."""
    from harness.recipes import resolve_model_overrides

    return resolve_model_overrides(overrides, config_files("model"))


def yaml_syntax_error(exc: yaml.YAMLError) -> UsageError:
    """A YAML syntax error as one line: ``file:line: what``."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    if mark is None:
        return UsageError(f"YAML syntax error: {problem}")
    where = f"{mark.name}:{mark.line + 1}:{mark.column + 1}"
    return UsageError(f"{where}: YAML syntax error: {problem}"
                      + (f" ({context})" if context else ""))


def recipe_choice(overrides: list[str] | None) -> str:
    """The model recipe a run composes: the last ``model=`` override, else config.yaml's default."""
    chosen = [item.partition("=")[2] for item in overrides or []
              if item.partition("=")[0].lstrip("+~") == "model"]
    if chosen:
        return chosen[-1]
    defaults = OmegaConf.load(package_config_dir() / "config.yaml").get("defaults", [])
    return next((str(d["model"]) for d in defaults if isinstance(d, DictConfig) and "model" in d),
                "?")


def load_config(overrides: list[str] | None = None) -> RunConfig:
    """Compose, check and convert to the typed :class:`RunConfig` passed down everywhere."""
    return to_run_config(compose_dict(overrides), recipe_choice(overrides))


def to_run_config(cfg: DictConfig, recipe: str | None = None) -> RunConfig:
    """A composed config as the typed dataclasses, its values validated; ``recipe`` names the
    model recipe in the error for a key it must set."""
    from omegaconf.errors import MissingMandatoryValue

    try:
        typed = OmegaConf.to_object(cfg)
    except MissingMandatoryValue as exc:
        key = hydra_full_key(exc) or "a key"
        found = config_files("model").get(recipe or "")
        where = f"recipe {recipe!r} ({found[1]})" if found and key.startswith("model.") \
            else "the config"
        raise UsageError(f"{where} does not set {key.removeprefix('model.')!r} ({key}): every "
                         "recipe must set it (e.g. the model id as published, name: org/model)"
                         ) from None
    assert isinstance(typed, RunConfig)
    validate(typed)
    return typed


def _unparsable_override(overrides: list[str], exc: Exception) -> UsageError:
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
    return UsageError(
        f"cannot parse override {bad!r} ({hydra_message(exc)}); quote a value "
        "with special characters, e.g. ++model.prompts.query='query: {instruction} '")


def _override_value(overrides: list[str], group: str) -> str:
    for item in overrides:
        key, _, value = item.partition("=")
        if key.lstrip("+~") == group:
            return value
    return "?"


def _explain_composition_error(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    message = hydra_message(cause if cause is not None else exc)
    dotted = hydra_bad_key(message)
    if dotted:
        dotted = hydra_full_key(cause or exc) or dotted
        if dotted.startswith(tuple(f"model.{m}." for m in OPEN_MAPPINGS)):
            return (f"{dotted} is not in the recipe; add a new entry with "
                    f"'+{dotted}=VALUE' (Hydra's + adds a key)")
        parent = dotted.rsplit(".", 1)[0] if "." in dotted else ""
        if parent.split(".")[0] == "hydra":
            return (f"unknown config key {dotted!r}; "
                    "'harness run [hydra/launcher=NAME] --cfg hydra' lists the valid ones")
        schema = {"model": ModelConfig, "tasks": TasksConfig}.get(parent, RunConfig)
        keys = [_prefix(parent, k) for k in _schema_keys(schema)]
        return str(unknown_choice("config key", dotted, keys))
    full = hydra_full_key(cause or exc)
    return f"{full}: {message}" if full else message


def _schema_keys(node: type) -> list[str]:
    return sorted(OmegaConf.structured(node).keys())


def _prefix(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _check_keys(cfg: DictConfig) -> None:
    """Keys added with Hydra's ``+`` must still be settings of the schema."""
    for parent, node, schema in (("", cfg, RunConfig), ("model", cfg.model, ModelConfig),
                                 ("tasks", cfg.tasks, TasksConfig)):
        valid = _schema_keys(schema)
        for key in node:
            if key not in valid:
                raise unknown_choice("config key", _prefix(parent, str(key)),
                                     [_prefix(parent, k) for k in valid])


# validation -------------------------------------------------------------------------------------


def _check_choice(kind: str, value: str, choices: Any) -> None:
    if value not in choices:
        raise unknown_choice(kind, value, choices)


def _check_prompts(prompts: dict[str, str]) -> None:
    """A prompt may hold the placeholder ``{instruction}`` and no other brace."""
    from harness.models.protocol import INSTRUCTION

    for key, template in prompts.items():
        rest = str(template).replace(INSTRUCTION, "")
        if "{" in rest or "}" in rest:
            found = re.search(r"\{[^{}]*\}", rest)
            what = f"placeholder {found.group(0)}" if found else "an unbalanced brace"
            raise UsageError(
                f"model.prompts.{key}: {what} in prompt {str(template)!r}; the only placeholder "
                f"is {INSTRUCTION} (the task's instruction from mteb)")


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value}")


def validate(cfg: RunConfig) -> None:
    """Check values that have a fixed set of choices or a valid range."""
    from harness.cache import STORAGE_DTYPES
    from harness.models.device import AUTOCASTS, PRECISIONS, TORCH_DTYPES
    from harness.models.encoder import SIMILARITIES
    from harness.models.heads import DIM_MODES
    from harness.models.loading import BACKENDS, PADDING_SIDES
    from harness.models.pooling import POOLINGS
    from harness.models.protocol import check_recipe_keys
    from harness.models.quantize import QUANTIZATIONS
    from harness.paths import check_model_name, check_revision

    model = cfg.model
    check_model_name(model.name)
    check_revision(model.revision)
    BACKENDS.check(model.backend)
    POOLINGS.check(model.pooling)
    _check_choice("dtype", model.dtype, TORCH_DTYPES)
    _check_choice("dim_mode", model.dim_mode, DIM_MODES)
    _check_choice("padding_side", model.padding_side, PADDING_SIDES)
    _check_choice("similarity", model.similarity, SIMILARITIES)
    _check_choice("precision", cfg.precision, PRECISIONS)
    _check_choice("cache_storage", cfg.cache_storage, STORAGE_DTYPES)
    for quantize in cfg.quantize or []:
        _check_choice("quantize", quantize, QUANTIZATIONS)
    _check_positive("max_batch_tokens", cfg.max_batch_tokens)
    _check_positive("batch_size", cfg.batch_size)
    if cfg.shard is not None:
        from harness.sharding import parse_shard

        parse_shard(cfg.shard)
    _check_encoding(cfg)
    if model.max_length < 2:
        raise UsageError(f"model.max_length must be at least 2, got {model.max_length}")
    _check_prompts(model.prompts)
    if model.autocast is not None:
        _check_choice("autocast", model.autocast, AUTOCASTS)
    check_recipe_keys(model)
    if cfg.dims:
        negative = [d for d in cfg.dims if d < 1]
        if negative:
            raise UsageError(f"dims must be positive integers, got {negative[0]}")
        if model.dim_mode == "none":
            raise UsageError(
                f"dims={list(cfg.dims)} but model {model.name!r} has no MRL dims "
                "(set model.dim_mode=truncate to truncate its vectors)")
        bad = [d for d in cfg.dims if model.dims and d not in model.dims]
        if bad:
            raise unknown_choice("dim", bad[0], [str(d) for d in model.dims])
    if cfg.data_root is not None and not Path(cfg.data_root).expanduser().is_dir():
        if Path(cfg.data_root).expanduser().exists():
            raise UsageError(f"data_root {cfg.data_root!r} is a file, not a folder; give the "
                             "folder 'harness data import' wrote")
        raise UsageError(
            f"data_root {cfg.data_root!r} does not exist; create it with "
            f"'harness data import SRC --out {cfg.data_root}'")


def _check_encoding(cfg: RunConfig) -> None:
    """Encode jobs need a cache to fill; devices must be valid names of one kind."""
    from harness.models.device import check_devices
    from harness.sharding import parse_shard

    if cfg.encode_shard is not None:
        parse_shard(cfg.encode_shard, "encode_shard")
    if (cfg.encode_only or cfg.encode_shard) and not cfg.cache_dir:
        raise UsageError("encode_only/encode_shard store vectors for later runs in cache_dir, "
                         "but cache_dir is null; set cache_dir=DIR")
    check_devices(cfg.device, cfg.devices)


def run_variants(cfg: RunConfig) -> list[tuple[int | None, str]]:
    """Every (dim, storage precision) this run scores: each dim of :func:`run_dims` with each
    ``quantize=`` precision (float32 only by default)."""
    from harness.models.quantize import NONE

    return [(dim, q) for dim in run_dims(cfg) for q in dict.fromkeys(cfg.quantize or [NONE])]


def run_dims(cfg: RunConfig) -> list[int | None]:
    """The dims this run scores: ``dims=`` if given, else the model's default (None = native)."""
    if cfg.dims:
        return list(cfg.dims)
    if cfg.model.dim_mode != "none" and cfg.model.default_dim is not None:
        return [int(cfg.model.default_dim)]
    return [None]
