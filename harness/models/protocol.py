"""What a recipe does to one task's texts on one side: the one resolver, shared by the encoder
and ``harness explain``.

A side is ``query``, ``document``, or ``symmetric`` (mteb passes no prompt type: STS,
classification, clustering, pair classification). A recipe's ``prompts`` and ``settings`` are
keyed alike; for each of them the first key present wins, in this order:

1. ``<TaskName>-<side>``   2. ``<TaskName>``   3. ``<TaskType>-<side>``   4. ``<TaskType>``
5. ``<side>``

This is mteb's own order (``mteb.models.abs_encoder.get_prompt_name``) with the symmetric side
made explicit. An empty prompt is a prompt too: it switches a more general key off. Settings
(``normalize``, ``max_length``) resolve one field at a time, so ``Classification: {normalize:
false}`` and ``MSMARCO: {max_length: 256}`` both apply; a field no key sets is the recipe's
model-wide value.

A prompt may contain ``{instruction}``: it is filled from the recipe's ``instructions`` table
(``task -> text``, or ``task -> {query: ..., document: ...}`` where the authors' script differs
by side), else from mteb's ``TaskMetadata.prompt``; a task with neither is an error naming it.
mteb's generic per-class fallback (``AbsTask.abstask_prompt``) is deliberately not used: no
author evaluated with it.

Keys are checked at composition against mteb's task names and task types (an unknown key fails
with "did you mean").
"""

from __future__ import annotations

import difflib
import functools
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from mteb.types import PromptType

from harness.errors import UsageError
from harness.schema import ModelConfig

SIDES = ("query", "document", "symmetric")
INSTRUCTION = "{instruction}"
SETTINGS: dict[str, type] = {"normalize": bool, "max_length": int}
FROM_RECIPE, FROM_MTEB = "recipe instructions", "mteb TaskMetadata.prompt"


def side_of(prompt_type: PromptType | str | None) -> str:
    """Map mteb's prompt type to a side: query, document or symmetric (no prompt type)."""
    if prompt_type is None:
        return "symmetric"
    value = prompt_type.value if isinstance(prompt_type, PromptType) else str(prompt_type)
    return "document" if value in ("document", "passage") else "query"


def lookup_keys(task_name: str, task_type: str, side: str) -> list[str]:
    """The keys of ``prompts`` and ``settings`` in resolution order."""
    return [f"{task_name}-{side}", task_name, f"{task_type}-{side}", task_type, side]


@dataclass(frozen=True)
class TaskProtocol:
    """How one task's texts on one side are encoded: the exact prompt, normalisation and
    truncation, and which recipe key decided each."""

    task: str
    type: str
    side: str
    prompt: str
    prompt_key: str | None
    instruction_source: str | None  # FROM_RECIPE, FROM_MTEB or None (no {instruction})
    normalize: bool
    max_length: int
    setting_keys: dict[str, str | None]  # setting -> deciding key (None: the model-wide value)

    def row(self, text: str) -> dict[str, Any]:
        """The explain / protocol-table row for ``text``."""
        return {"task": self.task, "type": self.type, "side": self.side,
                "input": self.prompt + text, "prompt_key": self.prompt_key,
                "instruction_source": self.instruction_source, "normalize": self.normalize,
                "max_length": self.max_length}


def resolve(model: ModelConfig, task_name: str, task_type: str, side: str,
            task_prompt: object = None) -> TaskProtocol:
    """The protocol of ``task_name`` (of mteb type ``task_type``) on ``side``; ``task_prompt`` is
    the task's ``TaskMetadata.prompt`` (used only where the recipe's instructions have none)."""
    keys = lookup_keys(task_name, task_type, side)
    prompt_key = next((k for k in keys if k in model.prompts), None)
    prompt, source = "", None
    if prompt_key is not None:
        prompt = str(model.prompts[prompt_key])
        if INSTRUCTION in prompt:
            instruction, source = _instruction(model, task_name, side, task_prompt, prompt_key)
            prompt = prompt.replace(INSTRUCTION, instruction)
    values: dict[str, Any] = {"normalize": model.normalize, "max_length": model.max_length}
    decided: dict[str, str | None] = dict.fromkeys(SETTINGS)
    for name in SETTINGS:
        key = next((k for k in keys if name in (model.settings.get(k) or {})), None)
        if key is not None:
            values[name], decided[name] = model.settings[key][name], key
    return TaskProtocol(task_name, task_type, side, prompt, prompt_key, source,
                        bool(values["normalize"]), int(values["max_length"]), decided)


def resolve_for(model: ModelConfig, task_metadata: Any, side: str) -> TaskProtocol:
    """:func:`resolve` for an mteb ``TaskMetadata``."""
    return resolve(model, task_metadata.name, task_metadata.type, side,
                   getattr(task_metadata, "prompt", None))


def _instruction(model: ModelConfig, task_name: str, side: str, task_prompt: object,
                 prompt_key: str) -> tuple[str, str]:
    entry = model.instructions.get(task_name)
    if isinstance(entry, Mapping):
        entry = entry.get(side, entry.get("query") if side == "symmetric" else None)
    if entry is not None:
        return str(entry), FROM_RECIPE
    found = mteb_instruction(task_prompt, side)
    if found is not None:
        return found, FROM_MTEB
    raise UsageError(
        f"prompt {model.prompts[prompt_key]!r} (key {prompt_key!r}) needs the task's "
        f"instruction, but the recipe's instructions have none for task {task_name!r} and mteb's "
        f"metadata for task {task_name!r} has none (TaskMetadata.prompt is empty); add it to "
        f"the recipe's instructions or pass ++model.instructions.{task_name}='...'")


def mteb_instruction(task_prompt: object, side: str) -> str | None:
    """The task's own instruction from mteb metadata (a string, or a dict keyed by side)."""
    if isinstance(task_prompt, str):
        return task_prompt or None
    if isinstance(task_prompt, Mapping):
        value = task_prompt.get(side) or task_prompt.get("query")
        return str(value) if value else None
    return None


# key validation ---------------------------------------------------------------------------------


def task_types() -> tuple[str, ...]:
    """mteb's task types (``TaskMetadata.type``)."""
    from mteb.abstasks.task_metadata import TaskType

    return get_args(TaskType)


@functools.cache
def task_names() -> frozenset[str]:
    """Every task name a key may use: mteb's registry (beta, private and superseded included)
    and the harness's long-text tasks."""
    import mteb

    from harness.longtext.sets import LONGTEXT_SETS

    quiet = logging.getLogger("mteb")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # only names: no "task is in beta" line per task
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tasks = mteb.get_tasks(exclude_superseded=False, exclude_private=False,
                                   exclude_beta=False)
    finally:
        quiet.setLevel(level)
    return frozenset([*(t.metadata.name for t in tasks), *LONGTEXT_SETS])


def _is_scope(name: str) -> bool:
    return name in task_types() or name in task_names()


def valid_key(key: str) -> bool:
    """Whether ``key`` is a side, a task type or name, or ``<type or name>-<side>``."""
    if key in SIDES or key in task_types():
        return True
    base, _, side = key.rpartition("-")
    return (side in SIDES and _is_scope(base)) or key in task_names()


def _closest(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return found[0] if found else None


def suggest_key(key: str) -> str | None:
    """The valid key closest to a misspelt one (``Retreival-query`` -> ``Retrieval-query``)."""
    base, dash, side = key.rpartition("-")
    if dash and base:
        scope = base if _is_scope(base) else _closest(base, (*task_types(), *task_names()))
        side_fix = side if side in SIDES else _closest(side, SIDES)
        if scope and side_fix:
            return f"{scope}-{side_fix}"
    return _closest(key, (*SIDES, *task_types(), *task_names()))


def _unknown(what: str, key: str, valid: str, suggestion: str | None) -> UsageError:
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    return UsageError(f"unknown {what} {key!r}{hint}; {valid}")


KEY_FORMS = ("a key is a side (query, document, symmetric), an mteb task type (Retrieval, STS, "
             "...), an mteb task name, or <type or task>-<side>")


def check_recipe_keys(model: ModelConfig) -> None:
    """Every key of ``prompts``, ``settings`` and ``instructions`` names something mteb knows,
    and every settings entry holds known settings of the right type (UsageError otherwise)."""
    for field in ("prompts", "settings"):
        for key in getattr(model, field):
            if not valid_key(str(key)):
                raise _unknown(f"model.{field} key", str(key), KEY_FORMS, suggest_key(str(key)))
    for key, values in model.settings.items():
        _check_settings(f"model.settings.{key}", values)
    for task, entry in model.instructions.items():
        if str(task) not in task_names():
            raise _unknown("model.instructions task", str(task), "keys are mteb task names",
                           _closest(str(task), task_names()))
        _check_instruction(f"model.instructions.{task}", entry)


def _check_settings(where: str, values: object) -> None:
    if not isinstance(values, Mapping):
        raise UsageError(f"{where} must map settings to values, e.g. {{normalize: false}}; "
                         f"got {values!r}")
    for name, value in values.items():
        if name not in SETTINGS:
            raise _unknown(f"setting in {where}", str(name),
                           f"valid settings: {', '.join(SETTINGS)}", _closest(str(name), SETTINGS))
        kind = SETTINGS[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UsageError(f"{where}.{name} must be a {kind.__name__}, got {value!r}")
        if name == "max_length" and value < 2:
            raise UsageError(f"{where}.max_length must be at least 2, got {value}")


def _check_instruction(where: str, entry: object) -> None:
    if isinstance(entry, str):
        return
    if isinstance(entry, Mapping) and entry:
        for side, text in entry.items():
            if side not in SIDES:
                raise _unknown(f"side in {where}", str(side), f"valid sides: {', '.join(SIDES)}",
                               _closest(str(side), SIDES))
            if not isinstance(text, str):
                raise UsageError(f"{where}.{side} must be a string, got {text!r}")
        return
    raise UsageError(f"{where} must be a string or {{query: ..., document: ...}}; got {entry!r}")
