"""``harness explain``: what a recipe does to each task's texts, without loading weights or data.

For every task of the composed run and every side the task encodes (query and document for
retrieval and reranking, one symmetric side for STS, classification, clustering and pair
classification), it shows the exact string the model sees for a sample text, and which recipe key
chose the prompt; then the model settings: backend, pooling, max_length, precision, dims,
normalisation, EOS handling, remote code and the card the recipe follows.
"""

from __future__ import annotations

import pandas as pd
from mteb.abstasks import AbsTask, AbsTaskRetrieval
from mteb.abstasks.aggregated_task import AbsTaskAggregate

from harness.config import load_config, run_dims
from harness.errors import UsageError
from harness.models.device import resolve_precision
from harness.models.prompts import matched_key, resolve_prompt, side_of
from harness.schema import ModelConfig, RunConfig
from harness.tasks import task_objects

SAMPLE = "what is the capital of China?"


def task_sides(task: AbsTask) -> list[str]:
    """The sides mteb encodes for a task: query and document for retrieval-like tasks, else the
    sides of its two inputs (both symmetric unless the task sets input prompt types)."""
    if isinstance(task, AbsTaskRetrieval):
        return ["query", "document"]
    inputs = (getattr(task, "input1_prompt_type", None), getattr(task, "input2_prompt_type", None))
    return list(dict.fromkeys(side_of(prompt_type) for prompt_type in inputs))


def encoded_tasks(tasks: list[AbsTask]) -> list[AbsTask]:
    """The tasks whose texts are encoded: an aggregate task (CQADupstackRetrieval) by its parts."""
    return [part for task in tasks
            for part in (task.tasks if isinstance(task, AbsTaskAggregate) else [task])]


def model_input(model: ModelConfig, task: AbsTask, side: str, text: str = SAMPLE) -> str:
    """The prompt plus ``text``, exactly as the model receives it (UsageError if the recipe
    cannot build the prompt for this task)."""
    meta = task.metadata
    return resolve_prompt(model.prompts, meta.name, meta.type, side, meta.prompt) + text


def prompt_table(model: ModelConfig, tasks: list[AbsTask]) -> pd.DataFrame:
    """One row per task and side: the deciding recipe key and the rendered model input."""
    rows = []
    for task in encoded_tasks(tasks):
        meta = task.metadata
        for side in task_sides(task):
            try:
                shown = repr(model_input(model, task, side))
                if model.append_eos:
                    shown += " + EOS"
            except UsageError as exc:
                shown = f"error: {exc}"
            rows.append({"task": meta.name, "type": meta.type, "side": side,
                         "key": matched_key(model.prompts, meta.name, meta.type, side) or "-",
                         "model input": shown})
    return pd.DataFrame(rows, columns=["task", "type", "side", "key", "model input"])


def _precision(cfg: RunConfig) -> str:
    shown = []
    for device in ("cuda", "cpu"):
        try:
            shown.append(f"{device}: {resolve_precision(cfg.precision, cfg.model.dtype, device)}")
        except UsageError:
            shown.append(f"{device}: not supported")
    return f"precision={cfg.precision} -> " + ", ".join(shown)


def _dims(cfg: RunConfig) -> str:
    model = cfg.model
    scored = ["native" if d is None else str(d) for d in run_dims(cfg)]
    text = f"scored: {', '.join(scored)}"
    if model.dim_mode != "none":
        how = "2_Dense_{dim} Linear head" if model.dim_mode == "head" else "truncation"
        text += f"; by {how}; offered: {list(model.dims) or 'any'}"
    return text


def settings_table(cfg: RunConfig) -> pd.DataFrame:
    """The model settings that shape every vector."""
    model = cfg.model
    eos = ("yes: truncate to max_length-1 tokens, then append EOS" if model.append_eos else "no")
    rows = [
        ("model", model.name),
        ("loads from", (model.path or model.name)
         + (f" @ {model.revision}" if model.revision else "")),
        ("backend", model.backend),
        ("trust_remote_code", str(model.trust_remote_code)),
        ("pooling", model.pooling),
        ("max_length", f"{model.max_length} tokens"),
        ("append_eos", eos),
        ("padding_side", model.padding_side),
        ("dtype", f"recipe {model.dtype}; {_precision(cfg)}"),
        ("dims", _dims(cfg)),
        ("normalize", str(model.normalize) + (" (after the head)" if model.dim_mode == "head"
                                              else "")),
        ("similarity", model.similarity),
        ("source", model.source or "-"),
        ("notes", model.notes or "-"),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def explain(overrides: list[str]) -> str:
    """Markdown: the model settings, then per task and side the exact model input."""
    cfg = load_config(overrides)
    tasks = task_objects(cfg.tasks, cfg.data_root)
    return "\n".join([
        f"## Model {cfg.model.name}",
        "",
        settings_table(cfg).to_markdown(index=False),
        "",
        f"## Inputs for the sample text {SAMPLE!r}",
        "",
        "key: the recipe key that chose the prompt, first present of <Task>-<side>, <Task>, "
        "<Type>-<side>, <Type>, <side>; '-' means no prompt.",
        "",
        prompt_table(cfg.model, tasks).to_markdown(index=False),
    ])
