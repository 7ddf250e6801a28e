"""The model's position limit against the recipe's ``max_length``, checked before weights load.

The limit is ``max_position_embeddings`` of the transformer's ``config.json``: read from a local
model folder (its root, or the folder of a sentence-transformers model's first module), or from
the hub cache for a hub id (no download). When neither has it, the loaded model's config is
checked once the weights have loaded (:func:`check_loaded_limit`), and says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import ModelLoadError, UsageError
from harness.schema import ModelConfig

LIMIT_KEY = "max_position_embeddings"


def _config_file(model_dir: str, revision: str | None) -> Path | None:
    """The transformer's ``config.json``: local (root or the first module's folder) or the
    copy in the hub cache; None when there is none at hand."""
    folder = Path(model_dir)
    if folder.is_dir():
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            first = folder / str(modules[0].get("path", ""))
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            first = folder
        found = [p for p in (first / "config.json", folder / "config.json") if p.is_file()]
        return found[0] if found else None
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model_dir, "config.json", revision=revision)
    except Exception:  # an id that is no repo name: the load reports it
        return None
    return Path(cached) if isinstance(cached, str) else None


def position_limit(model_dir: str, revision: str | None = None) -> int | None:
    """``max_position_embeddings`` of the model's config, or None when it is not at hand."""
    path = _config_file(model_dir, revision)
    if path is None:
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get(LIMIT_KEY)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def _message(model: ModelConfig, limit: int) -> str:
    return (f"model.max_length={model.max_length} is above the {limit} positions of model "
            f"{model.name!r} ({LIMIT_KEY} in its config.json); set model.max_length={limit} "
            "or lower")


def check_max_length(model: ModelConfig, model_dir: str) -> None:
    """A UsageError (before any weights load) when ``max_length`` exceeds the model's limit."""
    limit = position_limit(model_dir, model.revision)
    if limit is not None and model.max_length > limit:
        raise UsageError(_message(model, limit))


def check_loaded_limit(model: ModelConfig, config: Any) -> None:
    """The same check on a loaded model's config (a hub model whose config was not at hand
    before loading): a ModelLoadError (exit 1) saying it was found at load."""
    limit = getattr(config, LIMIT_KEY, None)
    if isinstance(limit, int) and limit > 0 and model.max_length > limit:
        raise ModelLoadError(_message(model, limit) + " (found when the weights loaded; results "
                             "written before are kept)")
