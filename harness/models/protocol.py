"""Which prompt a text gets: one resolution order for every backend and for ``harness explain``.

A recipe's ``prompts`` maps keys to prompt strings. For a task and a side (``query``,
``document``, or ``symmetric`` when mteb passes no prompt type, as for STS, classification and
clustering), the first key present wins, in this order:

1. ``<TaskName>-<side>``   2. ``<TaskName>``   3. ``<TaskType>-<side>``   4. ``<TaskType>``
5. ``<side>``

This is mteb's own order (``mteb.models.abs_encoder.get_prompt_name``) with the symmetric side
made explicit, so a recipe can give symmetric tasks a prompt without giving one to documents.
An empty string is a prompt too: it switches a more general key off for one task or type.

A prompt may contain ``{instruction}``: it is filled with the task's own instruction from mteb's
task metadata (``TaskMetadata.prompt``, the instructions mteb took from the e5/gte authors'
scripts), as in e5-mistral's ``Instruct: {instruction}\\nQuery: ``. mteb's generic per-class
fallback (``AbsTask.abstask_prompt``) is deliberately not used: no author evaluated with it, so
recipes name such instructions (STS, Summarization) explicitly and anything else is an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from mteb.types import PromptType

from harness.errors import UsageError

SIDES = ("query", "document", "symmetric")
INSTRUCTION = "{instruction}"


def side_of(prompt_type: PromptType | str | None) -> str:
    """Map mteb's prompt type to a side: query, document or symmetric (no prompt type)."""
    if prompt_type is None:
        return "symmetric"
    value = prompt_type.value if isinstance(prompt_type, PromptType) else str(prompt_type)
    return "document" if value in ("document", "passage") else "query"


def prompt_keys(task_name: str, task_type: str, side: str) -> list[str]:
    """The lookup keys in resolution order."""
    return [f"{task_name}-{side}", task_name, f"{task_type}-{side}", task_type, side]


def matched_key(prompts: Mapping[str, str], task_name: str, task_type: str,
                side: str) -> str | None:
    """The recipe key that decides this task and side's prompt (None: no prompt)."""
    return next((k for k in prompt_keys(task_name, task_type, side) if k in prompts), None)


def task_instruction(task_prompt: object, side: str) -> str | None:
    """The task's own instruction from mteb metadata (a string, or a dict keyed by side)."""
    if isinstance(task_prompt, str):
        return task_prompt or None
    if isinstance(task_prompt, Mapping):
        value = task_prompt.get(side) or task_prompt.get("query")
        return str(value) if value else None
    return None


def resolve_prompt(
    prompts: Mapping[str, str],
    task_name: str,
    task_type: str,
    side: str,
    task_prompt: object = None,
) -> str:
    """The exact prompt string prepended to every text of this task and side ('' for none)."""
    key = matched_key(prompts, task_name, task_type, side)
    if key is None:
        return ""
    template = str(prompts[key])
    if INSTRUCTION not in template:
        return template
    instruction = task_instruction(task_prompt, side)
    if instruction is None:
        raise UsageError(
            f"prompt {template!r} (key {key!r}) needs the task's instruction, but mteb's "
            f"metadata for task {task_name!r} has none (TaskMetadata.prompt is empty); give the "
            f"authors' prompt with ++model.prompts.{task_name}-{side}='...' or in the recipe"
        )
    return template.replace(INSTRUCTION, instruction)
