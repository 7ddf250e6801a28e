"""The protocol a model folder states about itself, read from its JSON files (no weights).

A sentence-transformers folder lists its modules in ``modules.json``: the Transformer (its
``max_seq_length`` in ``sentence_bert_config.json``, else the tokenizer's ``model_max_length``
capped at the config's ``max_position_embeddings``, as sentence-transformers reads it), the
Pooling mode (``1_Pooling/config.json``, old and new key styles), Dense heads and whether a
Normalize module follows; ``config_sentence_transformers.json`` holds its prompts,
``default_prompt_name`` and similarity. A plain transformers folder states none of this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.models.protocol import SIDES, valid_key

SENTENCE_TRANSFORMERS, TRANSFORMERS = "sentence-transformers", "transformers"
# sentence-transformers pooling modes -> the harness's POOLINGS
POOLING_MODES = {"mean": "mean", "mean_tokens": "mean", "cls": "cls", "cls_token": "cls",
                 "lasttoken": "last_token"}
DOCUMENT_ALIASES = ("document", "passage", "corpus")  # encode_document's prompt names, in order
HUGE = 10**9  # transformers' "no limit" model_max_length is about 1e30


@dataclass(frozen=True)
class DenseHead:
    """A Dense module after pooling: its folder and sizes (the harness supports Linear ones)."""

    path: str
    in_features: int
    out_features: int
    activation: str


@dataclass
class FolderProtocol:
    """What a folder says about how to encode with it; ``None`` where it says nothing."""

    kind: str  # SENTENCE_TRANSFORMERS or TRANSFORMERS
    pooling_mode: str | None = None  # as the folder names it
    normalize: bool | None = None
    max_length: int | None = None
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None
    similarity: str | None = None
    dense: list[DenseHead] = field(default_factory=list)
    include_prompt: bool = True
    ignored_prompts: list[str] = field(default_factory=list)  # keys mteb would ignore too

    @property
    def pooling(self) -> str | None:
        """The harness pooling of the folder's mode (None: no Pooling module, or unsupported)."""
        return POOLING_MODES.get(self.pooling_mode or "")

    def recipe_prompts(self) -> dict[str, str]:
        """The folder's prompts as recipe keys, so the resolver picks what
        ``mteb.evaluate(SentenceTransformer(folder))`` feeds the model: mteb-valid keys as they
        are, ``passage``/``corpus`` for documents when there is no ``document`` key, and the
        ``default_prompt_name`` prompt for every side no key covers."""
        prompts = {k: v for k, v in self.prompts.items() if k not in self.ignored_prompts}
        for alias in DOCUMENT_ALIASES[1:]:
            if "document" not in prompts and alias in self.prompts:
                prompts["document"] = self.prompts[alias]
        default = self.prompts.get(self.default_prompt_name or "")
        if default:
            for side in SIDES:
                prompts.setdefault(side, default)
        return prompts


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not readable JSON ({exc})") from None
    return value if isinstance(value, dict) else {}


def _max_length(folder: Path, module_path: str) -> int | None:
    """sentence-transformers' max_seq_length of the Transformer module at ``module_path``."""
    module = folder / module_path
    stated = _json(module / "sentence_bert_config.json").get("max_seq_length")
    if isinstance(stated, int):
        return stated
    positions = _json(module / "config.json").get("max_position_embeddings")
    tokenizer = _json(module / "tokenizer_config.json").get("model_max_length")
    limits = [v for v in (tokenizer, positions) if isinstance(v, int) and 0 < v < HUGE]
    return min(limits) if limits else None


def _pooling_mode(config: dict[str, Any]) -> str:
    if isinstance(config.get("pooling_mode"), str):
        return config["pooling_mode"]
    chosen = [key.removeprefix("pooling_mode_") for key, on in config.items()
              if key.startswith("pooling_mode_") and on is True]
    return "+".join(chosen) or "none"


def read_folder(folder: str | Path) -> FolderProtocol:
    """The protocol of a local model folder (UsageError naming the file it cannot read)."""
    folder = Path(folder)
    modules = folder / "modules.json"
    if not modules.is_file():
        return FolderProtocol(TRANSFORMERS, max_length=_max_length(folder, ""))
    try:
        entries = json.loads(modules.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{modules}: not readable JSON ({exc})") from None
    found = FolderProtocol(SENTENCE_TRANSFORMERS)
    for entry in entries:
        kind = str(entry.get("type", "")).rsplit(".", 1)[-1]
        path = str(entry.get("path", ""))
        if kind == "Transformer":
            found.max_length = _max_length(folder, path)
        elif kind == "Pooling":
            config = _json(folder / path / "config.json")
            found.pooling_mode = _pooling_mode(config)
            found.include_prompt = bool(config.get("include_prompt", True))
        elif kind == "Dense":
            config = _json(folder / path / "config.json")
            found.dense.append(DenseHead(path, int(config.get("in_features", 0)),
                                         int(config.get("out_features", 0)),
                                         str(config.get("activation_function", ""))))
        elif kind == "Normalize":
            found.normalize = True
        else:
            raise UsageError(f"{modules}: module {kind!r} ({path or 'the folder root'}) is not "
                             "supported; the harness runs Transformer, Pooling, Dense (Linear) "
                             "and Normalize modules")
    found.normalize = bool(found.normalize)
    settings = _json(folder / "config_sentence_transformers.json")
    found.prompts = {str(k): str(v) for k, v in (settings.get("prompts") or {}).items()
                     if v is not None}
    found.default_prompt_name = settings.get("default_prompt_name")
    found.similarity = settings.get("similarity_fn_name")
    found.ignored_prompts = [k for k in found.prompts if not valid_key(k)]
    return found
