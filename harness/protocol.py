"""Protocol fingerprints: everything that produced a task's result, kept beside the result.

A protocol is a flat mapping of named settings, built in one place (:func:`task_protocol`):

- every entry of the embedding-cache identity (``harness.runner.cache_identity``: model, path,
  revision, weights fingerprint, backend, precision, pooling, max_length, ... whatever it holds;
  nested entries flattened as ``key.sub``), so a setting added there is part of the protocol;
- the settings applied to the cached pooled vector (``normalize``, ``dim_mode``,
  ``similarity``), the scored ``dim`` and storage precision (``quantize``), the dtype the pooled
  vectors pass through (``cache_storage``: fp16 changes vectors; fp32 also without a cache),
  and the ``mteb`` version;
- the prompt the model received on each side the task encodes (``prompt.query``,
  ``prompt.document``, ``prompt.symmetric``; ``prompt.<Part>.<side>`` for an aggregate's parts);
- the data: ``data`` (the fingerprint of the mirror folder's files, or ``hub@<revision>``) and
  mteb's ``dataset_revision``.

The protocol's ``id`` (8 hex digits) hashes its run-level part (all but the prompts and the data)
with the recipe's whole prompt mapping: every task of one recipe and run settings shares it, and
``harness table`` / ``compare`` show it per run. A task's protocol is stored in
``<run folder>/.protocol/<Task>.json``; a hidden folder, so nothing that reads results sees it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.fileio import atomic_write_text, read_json

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

    from harness.data.mirror import DataIdentity
    from harness.schema import ModelConfig

PROTOCOL_DIR = ".protocol"
POST_CACHE = ("normalize", "dim_mode", "similarity")  # applied after the cached pooled vector
TASK_LEVEL = ("prompt.", "data", "dataset_revision")
ID_CHARS = 8
SHOWN_CHARS = 48


@dataclass(frozen=True)
class Protocol:
    """The settings that produced one task's result, and the short id of their recipe."""

    settings: dict[str, str]
    id: str

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps({"id": self.id, "settings": self.settings}, indent=2, sort_keys=True)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def flatten(mapping: dict, prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``: every leaf as text (strings as they are, the rest
    as JSON)."""
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = _text(value)
    return flat


def _prompts(model: ModelConfig, task: AbsTask) -> dict[str, str]:
    """The exact prompt, normalisation and max length of each side the task encodes, as the
    recipe's one resolver decides them (the error text when the recipe cannot build a prompt:
    the encoder raises it when it gets there)."""
    from harness.errors import UsageError
    from harness.explain import encoded_tasks, task_sides
    from harness.models.protocol import resolve_for

    settings = {}
    for part in encoded_tasks([task]):
        meta = part.metadata
        suffix = "" if meta.name == task.metadata.name else f"{meta.name}."
        for side in task_sides(part):
            try:
                resolved = resolve_for(model, meta, side)
            except UsageError as exc:
                settings[f"prompt.{suffix}{side}"] = f"error: {exc}"
                continue
            settings[f"prompt.{suffix}{side}"] = resolved.prompt
            settings[f"prompt.{suffix}{side}.normalize"] = _text(resolved.normalize)
            settings[f"prompt.{suffix}{side}.max_length"] = _text(resolved.max_length)
    return settings


def is_task_level(key: str) -> bool:
    """Whether a setting belongs to one task (its prompts and data), not to the recipe."""
    return key.startswith(TASK_LEVEL[0]) or key in TASK_LEVEL[1:]


def task_protocol(identity: dict, model: ModelConfig, task: AbsTask, *, dim: int | None,
                  quantize: str, cache_storage: str, mteb_version: str,
                  data: DataIdentity) -> Protocol:
    """The protocol of scoring ``task`` at ``dim`` / ``quantize`` with the model whose cache
    identity is ``identity``; ``cache_storage`` is the dtype pooled vectors pass through (fp32
    without a cache: the same vectors as an fp32 cache)."""
    settings = flatten(identity)
    settings.update({key: _text(getattr(model, key)) for key in POST_CACHE})
    settings.update({"dim": "native" if dim is None else str(dim), "quantize": quantize,
                     "cache_storage": cache_storage, "mteb": mteb_version})
    settings.update(_prompts(model, task))
    settings.update({"data": data.fingerprint, "dataset_revision": data.dataset_revision})
    recipe = {k: v for k, v in settings.items() if not is_task_level(k)}
    recipe.update({key: _text(getattr(model, key))
                   for key in ("prompts", "settings", "instructions")})
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
    return Protocol(settings, digest[:ID_CHARS])


def _shown(value: str | None) -> str:
    if value is None:
        return "(absent)"
    if not value:
        return "''"
    return value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 3] + "..."


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """``setting: old -> new`` for every setting that differs, in name order."""
    return [f"{key}: {_shown(old.get(key))} -> {_shown(new.get(key))}"
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]


def protocol_path(folder: Path, task_name: str) -> Path:
    """Where a task's protocol is stored in its run folder."""
    return folder / PROTOCOL_DIR / f"{task_name}.json"


def write_protocol(folder: Path, task_name: str, protocol: Protocol) -> None:
    """Store ``protocol`` beside the task's result (atomically)."""
    path = protocol_path(folder, task_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, protocol.to_json() + "\n")


def discard_protocol(folder: Path, task_name: str) -> None:
    """Remove a task's stored protocol (before its result is replaced)."""
    protocol_path(folder, task_name).unlink(missing_ok=True)


def read_protocol(folder: Path, task_name: str) -> Protocol | None:
    """The stored protocol of a task; None when there is none or it is unreadable."""
    try:
        stored = read_json(protocol_path(folder, task_name))
        settings, ident = stored["settings"], stored["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(settings, dict) or not isinstance(ident, str):
        return None
    return Protocol({str(k): str(v) for k, v in settings.items()}, ident)


def protocol_label(ids: list[str | None]) -> str:
    """How a run's protocol is shown: its id, ``-`` when none was recorded, and every id with
    its task count when the tasks were made under several."""
    counts: dict[str, int] = {}
    for ident in ids:
        key = ident if isinstance(ident, str) and ident else "-"
        counts[key] = counts.get(key, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{ident} ({n} task{'s' * (n > 1)})" for ident, n in sorted(counts.items()))
