"""``harness explain``: what a recipe does to each task's texts, without loading weights or data.

For every task of the composed run and every side the task encodes (query and document for
retrieval and reranking, one symmetric side for STS, classification, clustering and pair
classification), it shows the exact string the model sees for a sample text, and which recipe key
chose the prompt, with the normalisation and max length that apply; then the model settings:
backend, pooling, max_length, precision and autocast, config and forward keyword arguments, dims,
normalisation, EOS handling, remote code and the script the recipe follows. ``--format json``
gives the same per task and side as rows (the protocol tables in ``tests/data/protocols/`` are
lists of such rows); ``--against mteb`` compares with mteb's own implementation of the model
(:mod:`harness.against_mteb`).
"""

from __future__ import annotations

import json

import pandas as pd
from mteb.abstasks import AbsTask, AbsTaskRetrieval
from mteb.abstasks.aggregated_task import AbsTaskAggregate

from harness.config import load_config, run_dims
from harness.errors import UsageError
from harness.models.device import resolve_precision
from harness.models.loading import plain
from harness.models.protocol import TaskProtocol, resolve_for, side_of
from harness.schema import ModelConfig, RunConfig
from harness.tasks import task_objects

SAMPLE = "what is the capital of China?"
FORMATS = ("md", "json")


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


def protocols(model: ModelConfig, tasks: list[AbsTask]
              ) -> list[tuple[AbsTask, str, TaskProtocol | UsageError]]:
    """Per encoded task and side: its protocol, or the UsageError that stops the recipe from
    building its prompt (a missing instruction)."""
    found = []
    for task in encoded_tasks(tasks):
        for side in task_sides(task):
            try:
                found.append((task, side, resolve_for(model, task.metadata, side)))
            except UsageError as exc:
                found.append((task, side, exc))
    return found


def model_input(model: ModelConfig, task: AbsTask, side: str, text: str = SAMPLE) -> str:
    """The prompt plus ``text``, exactly as the model receives it (UsageError if the recipe
    cannot build the prompt for this task)."""
    return resolve_for(model, task.metadata, side).prompt + text


def prompt_table(model: ModelConfig, tasks: list[AbsTask]) -> pd.DataFrame:
    """One row per task and side: the deciding recipe key, the rendered model input, and the
    normalisation and max length that apply."""
    rows = []
    for task, side, found in protocols(model, tasks):
        meta = task.metadata
        if isinstance(found, UsageError):
            rows.append({"task": meta.name, "type": meta.type, "side": side, "key": "-",
                         "model input": f"error: {found}", "normalize": "-",
                         "max_length": "-"})
            continue
        shown = repr(found.prompt + SAMPLE) + (" + EOS" if model.append_eos else "")
        rows.append({"task": meta.name, "type": meta.type, "side": side,
                     "key": found.prompt_key or "-", "model input": shown,
                     "normalize": _decided(found.normalize, found.setting_keys["normalize"]),
                     "max_length": _decided(found.max_length, found.setting_keys["max_length"])})
    return pd.DataFrame(rows, columns=["task", "type", "side", "key", "model input", "normalize",
                                       "max_length"])


def _decided(value: object, key: str | None) -> str:
    return f"{value} ({key})" if key else str(value)


def model_fields(cfg: RunConfig) -> dict:
    """The model-wide fields every JSON row carries."""
    model = cfg.model
    return {"model": model.name, "revision": model.revision, "backend": model.backend,
            "pooling": model.pooling, "append_eos": model.append_eos,
            "padding_side": model.padding_side, "dtype": model.dtype, "autocast": model.autocast,
            "config_kwargs": plain(model.config_kwargs),
            "forward_kwargs": plain(model.forward_kwargs), "dims": [
                None if d is None else int(d) for d in run_dims(cfg)],
            "dim_mode": model.dim_mode}


def json_rows(cfg: RunConfig, tasks: list[AbsTask], text: str = SAMPLE) -> list[dict]:
    """One row per task and side (``harness explain --format json``): task, type, side, input
    (the exact string for ``text``; None with an ``error`` when the recipe cannot build it),
    prompt_key, instruction_source, normalize, max_length, then the model-wide fields."""
    rows = []
    for task, side, found in protocols(cfg.model, tasks):
        if isinstance(found, UsageError):
            meta = task.metadata
            row = {"task": meta.name, "type": meta.type, "side": side, "input": None,
                   "error": str(found)}
        else:
            row = found.row(text)
        rows.append({**row, **model_fields(cfg)})
    return rows


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
        ("max_length", f"{model.max_length} tokens" + _overridden(model, "max_length")),
        ("append_eos", eos),
        ("padding_side", model.padding_side),
        ("dtype", f"recipe {model.dtype}; {_precision(cfg)}"),
        ("autocast", f"{model.autocast} over fp32 weights" if model.autocast else "none"),
        ("config_kwargs", json.dumps(plain(model.config_kwargs)) if model.config_kwargs else "-"),
        ("forward_kwargs", json.dumps(plain(model.forward_kwargs))
         if model.forward_kwargs else "-"),
        ("dims", _dims(cfg)),
        ("normalize", str(model.normalize) + (" (after the head)" if model.dim_mode == "head"
                                              else "") + _overridden(model, "normalize")),
        ("similarity", model.similarity),
        ("source", model.source or "-"),
        ("notes", model.notes or "-"),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def _overridden(model: ModelConfig, setting: str) -> str:
    keys = [key for key, values in model.settings.items() if setting in (values or {})]
    return f"; per task: {', '.join(keys)}" if keys else ""


def composed(overrides: list[str], fmt: str) -> tuple[RunConfig, list[AbsTask]]:
    """The run config and its tasks for ``harness explain`` (``fmt`` checked first)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; valid choices: {', '.join(FORMATS)}")
    cfg = load_config(overrides)
    return cfg, task_objects(cfg.tasks, cfg.data_root)


def explain(overrides: list[str], fmt: str = "md") -> str:
    """Markdown (or JSON rows): the model settings, then per task and side the exact model
    input."""
    cfg, tasks = composed(overrides, fmt)
    if fmt == "json":
        return json.dumps(json_rows(cfg, tasks), indent=1, ensure_ascii=False)
    return "\n".join([
        f"## Model {cfg.model.name}",
        "",
        settings_table(cfg).to_markdown(index=False),
        "",
        f"## Inputs for the sample text {SAMPLE!r}",
        "",
        "key: the recipe key that chose the prompt, first present of <Task>-<side>, <Task>, "
        "<Type>-<side>, <Type>, <side>; '-' means no prompt. normalize and max_length name the "
        "settings key that decided them, when one did.",
        "",
        prompt_table(cfg.model, tasks).to_markdown(index=False),
    ])
