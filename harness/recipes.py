"""Which recipe a command line means, before Hydra composes it.

- ``model=<recipe>`` is a recipe file; ``model=<org/name>`` (a model's current hub name or one of
  its ``aliases``) and ``model.name=<org/name>`` without ``model=`` select that model's recipe
  (the one without an ``experiment``), filed under its current name.
- ``model.path=FOLDER`` (or a hub id) without ``model=`` and with no recipe for its name is a
  model without a recipe: its protocol is read from the model itself
  (:mod:`harness.models.folder`, and mteb's ModelMeta when mteb knows the name), never taken
  from the default recipe.

Recipe names are read from the YAML files (following same-group ``defaults`` parents for what a
child inherits), without composing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ModelLoadError, UsageError, one_line, unknown_choice

FOLDER_RECIPE = "_from_path"  # the ConfigStore option of a model without a recipe


@dataclass(frozen=True)
class RecipeName:
    """A recipe's model name, aliases and experiment, as its file (and parents) state them."""

    recipe: str
    name: str | None
    aliases: tuple[str, ...]
    experiment: str | None


def _own(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read recipe {path}: {one_line(exc)}") from None
    return data if isinstance(data, dict) else {}


def recipe_names(files: dict[str, tuple[Any, Path]]) -> list[RecipeName]:
    """Name, aliases and experiment of every recipe file (``config_files("model")``)."""
    own = {recipe: _own(path) for recipe, (_, path) in files.items()}

    def merged(recipe: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        data = own.get(recipe, {})
        parents = [d for d in data.get("defaults") or [] if isinstance(d, str) and d in own
                   and d not in seen]
        result: dict[str, Any] = {}
        for parent in parents:
            result.update(merged(parent, (*seen, recipe)))
        result.update({k: v for k, v in data.items() if k != "defaults"})
        return result

    found = []
    for recipe in own:
        data = merged(recipe)
        found.append(RecipeName(recipe, data.get("name"), tuple(data.get("aliases") or ()),
                                data.get("experiment")))
    return found


def recipe_for_name(name: str, files: dict[str, tuple[Any, Path]]) -> str | None:
    """The recipe of the model ``name`` (current name or alias, case-insensitive); among
    recipes of one model, the one without an ``experiment``."""
    wanted = name.lower()
    matches = [r for r in recipe_names(files)
               if wanted in {n.lower() for n in (r.name, *r.aliases) if n}]
    plain = [r for r in matches if not r.experiment] or matches
    if len(plain) > 1:
        raise UsageError(f"model {name!r} has several recipes without an experiment: "
                         f"{', '.join(sorted(r.recipe for r in plain))}; choose one with model=")
    return plain[0].recipe if plain else None


def _key(override: str) -> str:
    return override.partition("=")[0].lstrip("+~")


def _value(override: str) -> str:
    return override.partition("=")[2].strip().strip("'\"")


def resolve_model_overrides(overrides: list[str], files: dict[str, tuple[Any, Path]]
                            ) -> list[str]:
    """``overrides`` with a model name or alias replaced by its recipe, and a model folder
    without a recipe registered as one (see the module docstring)."""
    keys = [_key(o) for o in overrides]
    if "model" in keys:
        index = keys.index("model")
        value = _value(overrides[index])
        if value in files or value == FOLDER_RECIPE or "," in value:
            return overrides
        recipe = recipe_for_name(value, files)
        if recipe is None:
            names = [n for r in recipe_names(files) for n in (r.name, *r.aliases) if n]
            raise unknown_choice("model config", value, [*files, *names])
        return [*overrides[:index], f"model={recipe}", *overrides[index + 1:]]
    if "model.name" in keys:
        index = keys.index("model.name")
        recipe = recipe_for_name(_value(overrides[index]), files)
        if recipe is not None:
            return [f"model={recipe}", *overrides[:index], *overrides[index + 1:]]
    if "model.path" in keys:
        settings = {k: _value(o) for k, o in zip(keys, overrides, strict=True)
                    if k.startswith("model.")}
        if "," in settings["model.path"]:
            raise UsageError("a sweep over model.path needs model=RECIPE (each folder without "
                             "a recipe is its own run: harness run model.path=FOLDER)")
        register_folder_recipe(folder_recipe(settings["model.path"], settings))
        return [f"model={FOLDER_RECIPE}", *overrides]
    return overrides


def register_folder_recipe(recipe: dict[str, Any]) -> None:
    """Make ``recipe`` the ``model`` option :data:`FOLDER_RECIPE` of this process."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="model", name=FOLDER_RECIPE, node=recipe)


def local_model_folder(path: str) -> Path:
    """``path`` as a local folder: a folder, or a hub id whose JSON files are fetched (for users
    with network); ModelLoadError when neither."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return folder
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(path, allow_patterns=["*.json"]))
    except Exception as exc:  # hub and network errors come in many types
        raise ModelLoadError(f"model.path={path!r} is neither a folder nor a hub id that can be "
                             f"fetched ({one_line(exc)})") from exc


def folder_recipe(path: str, settings: dict[str, str]) -> dict[str, Any]:
    """The recipe of a model without one: its own protocol, mteb's revision and prompts when
    mteb knows its name; ``settings`` are the command line's ``model.*`` overrides (applied on
    top by Hydra; read here for the name and the pooling of a plain transformers folder)."""
    from harness.models.folder import TRANSFORMERS, read_folder
    from harness.models.pooling import POOLINGS
    from harness.models.revision import snapshot_commit

    folder = local_model_folder(path)
    found = read_folder(folder)
    name = settings.get("model.name") or (path if not Path(path).expanduser().is_dir()
                                          else Path(path).expanduser().resolve().name)
    recipe: dict[str, Any] = {"name": name, "path": path, "revision": snapshot_commit(folder)}
    read = []
    if found.kind == TRANSFORMERS:
        if "model.pooling" not in settings:
            raise UsageError(f"model.path={path!r} is a plain transformers folder (no "
                             "modules.json says how to pool): pass model.pooling="
                             f"{'|'.join(POOLINGS.names())}")
        recipe.update(backend="transformers", normalize=False)
        read.append("a plain transformers folder: no normalisation, no prompts")
    else:
        recipe.update(_sentence_transformers_settings(path, found))
        read.append(f"its sentence-transformers modules ({found.pooling_mode} pooling, "
                    f"{'a' if found.normalize else 'no'} Normalize module"
                    + (f", a Dense {found.dense[0].out_features} head" if found.dense else "")
                    + ")" + (", its prompts" if any(recipe["prompts"].values()) else ""))
    if found.max_length:
        recipe["max_length"] = found.max_length
        read.append(f"max_seq_length {found.max_length}")
    mteb_part = _mteb_settings(name)
    if mteb_part:
        recipe.update({k: v for k, v in mteb_part.items() if k != "notes"})
        read.append(mteb_part["notes"])
    recipe["source"] = f"the model folder {folder}"
    recipe["notes"] = "No recipe: read from " + "; ".join(read) + "."
    return recipe


def _sentence_transformers_settings(path: str, found: Any) -> dict[str, Any]:
    if found.pooling is None:
        raise UsageError(f"model.path={path!r}: pooling mode {found.pooling_mode!r} of its "
                         "Pooling module is not supported; valid: mean, cls, lasttoken")
    if not found.include_prompt and any(found.prompts.values()):
        raise UsageError(f"model.path={path!r}: its Pooling module excludes the prompt tokens "
                         "(include_prompt false), which the harness does not do")
    settings: dict[str, Any] = {"backend": "sentence-transformers", "pooling": found.pooling,
                                "normalize": found.normalize,
                                "prompts": found.recipe_prompts()}
    if found.similarity in ("cosine", "dot"):
        settings["similarity"] = found.similarity
    if len(found.dense) > 1:
        raise UsageError(f"model.path={path!r}: {len(found.dense)} Dense modules; the harness "
                         "applies one")
    if found.dense:
        dim = found.dense[0].out_features
        settings.update(dim_mode="head", dims=[dim], default_dim=dim)
    return settings


def _mteb_settings(name: str) -> dict[str, Any]:
    """Revision and prompts from mteb's ModelMeta of ``name`` (empty when mteb has none)."""
    from harness._compat import mteb_recipe_prompts
    from harness.models.protocol import valid_key

    try:
        import mteb

        meta = mteb.get_model_meta(name)
    except (KeyError, ValueError):
        return {}
    found: dict[str, Any] = {"revision": meta.revision}
    prompts = mteb_recipe_prompts(meta)
    said = f"mteb knows {name}: revision {meta.revision} from its ModelMeta"
    if prompts is not None:
        found["prompts"] = {k: v for k, v in prompts.items() if valid_key(k)}
        said += ", and its prompts"
    found["notes"] = said
    return found
