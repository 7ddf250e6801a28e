"""``harness explain --against mteb``: where a recipe's protocol differs from mteb's own
implementation of the model (``mteb.get_model_meta``), per task and side, without loading
weights: the answer to "why does my score differ from mteb's".

mteb's side is read from its ModelMeta (revision, loader class and keyword arguments: prompts or
instruction template, EOS, max length, dtype) through :mod:`harness._compat`. What mteb leaves to
the model's own sentence-transformers folder (pooling, Normalize module, max_seq_length, the
folder's prompts) is read from that folder when it is at hand (``model.path`` or the hub cache's
snapshot of mteb's revision); otherwise it is reported as unknown, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mteb.abstasks import AbsTask
from mteb.types import PromptType

from harness._compat import (
    mteb_appends_eos,
    mteb_dtype,
    mteb_loader_kind,
    mteb_max_length,
    mteb_prompt,
)
from harness.errors import UsageError
from harness.explain import SAMPLE, composed, protocols
from harness.models.folder import SENTENCE_TRANSFORMERS, FolderProtocol, read_folder
from harness.models.loading import resolve_model_path
from harness.schema import RunConfig

UNKNOWN = "unknown offline"
PROMPT_TYPES = {"query": PromptType.query, "document": PromptType.document, "symmetric": None}


@dataclass(frozen=True)
class Difference:
    """One field of one task and side (or of the model, task None) on both sides."""

    task: str | None
    side: str | None
    field: str
    recipe: Any
    mteb: Any

    @property
    def known(self) -> bool:
        """Whether mteb's value could be determined offline."""
        return self.mteb != UNKNOWN


def model_meta(name: str) -> Any:
    """mteb's ModelMeta of ``name``; a UsageError with mteb's suggestion when it has none."""
    import mteb

    try:
        return mteb.get_model_meta(name)
    except KeyError as exc:
        raise UsageError(f"mteb has no implementation of {name!r}: {exc.args[0]}") from None


def mteb_folder(cfg: RunConfig, meta: Any) -> FolderProtocol | None:
    """The protocol of the model folder mteb would load, when its files are on this machine."""
    local = Path(resolve_model_path(cfg.model))
    if local.is_dir():
        return read_folder(local)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(meta.name, "modules.json", revision=meta.revision)
    return read_folder(Path(cached).parent) if isinstance(cached, str) else None


def _mteb_input(meta: Any, task: AbsTask, side: str, folder: FolderProtocol | None) -> str:
    prompts = folder.prompts if folder is not None else None
    prompt = mteb_prompt(meta, task.metadata, PROMPT_TYPES[side], prompts)
    if prompt is None:
        return UNKNOWN
    return repr(prompt + SAMPLE)


def differences(cfg: RunConfig, tasks: list[AbsTask]) -> tuple[Any, list[Difference]]:
    """mteb's ModelMeta and every field on both sides: model-wide first, then per task and side
    (all rows, equal or not; :func:`against_mteb` shows the differing ones)."""
    model = cfg.model
    meta = model_meta(model.name)
    kind = mteb_loader_kind(meta)
    folder = mteb_folder(cfg, meta) if kind else None
    st_folder = folder if folder is not None and folder.kind == SENTENCE_TRANSFORMERS else None
    eos = mteb_appends_eos(meta)
    rows = [
        Difference(None, None, "revision", model.revision, meta.revision),
        Difference(None, None, "pooling", model.pooling,
                   st_folder.pooling or st_folder.pooling_mode if st_folder else UNKNOWN),
        Difference(None, None, "append_eos", model.append_eos, UNKNOWN if eos is None else eos),
        Difference(None, None, "dtype", model.dtype, mteb_dtype(meta) or UNKNOWN),
    ]
    max_length = mteb_max_length(meta) or (st_folder.max_length if st_folder else None)
    normalize = st_folder.normalize if st_folder else None
    for task, side, found in protocols(model, tasks):
        name = task.metadata.name
        ours = (f"error: {found}" if isinstance(found, UsageError)
                else repr(found.prompt + SAMPLE))
        rows.append(Difference(name, side, "input", ours, _mteb_input(meta, task, side, folder)))
        if isinstance(found, UsageError):
            continue
        rows.append(Difference(name, side, "max_length", found.max_length,
                               UNKNOWN if max_length is None else max_length))
        rows.append(Difference(name, side, "normalize", found.normalize,
                               UNKNOWN if normalize is None else normalize))
    return meta, rows


def _as_text(value: Any) -> str:
    return str(value)


def against_mteb(overrides: list[str], fmt: str = "md") -> str:
    """The differences as markdown (or JSON): model-wide, then per task and side."""
    cfg, tasks = composed(overrides, fmt)
    meta, rows = differences(cfg, tasks)
    differing = [r for r in rows if r.known and r.recipe != r.mteb]
    unknown = sorted({r.field for r in rows if not r.known})
    if fmt == "json":
        return json.dumps({
            "model": cfg.model.name, "mteb_revision": meta.revision,
            "mteb_loader": getattr(meta.loader, "__name__", str(meta.loader)),
            "unknown_offline": unknown,
            "differences": [r.__dict__ for r in differing]}, indent=1, ensure_ascii=False,
            default=str)
    model_rows = [r for r in rows if r.task is None]
    task_rows = [r for r in differing if r.task is not None]
    compared = len({(r.task, r.side) for r in rows if r.task is not None})
    lines = [
        f"## {cfg.model.name}: the recipe against mteb's implementation",
        "",
        f"mteb: ModelMeta {meta.name} @ {meta.revision}, loader "
        f"{getattr(meta.loader, '__name__', meta.loader)}"
        + (f" {json.dumps(_kwargs(meta), default=str)}" if _kwargs(meta) else ""),
        "",
        pd.DataFrame([{"setting": r.field, "recipe": _as_text(r.recipe),
                       "mteb": _as_text(r.mteb),
                       "same": "?" if not r.known else ("yes" if r.recipe == r.mteb else "NO")}
                      for r in model_rows]).to_markdown(index=False),
        "",
        f"## Per task and side: {len({(r.task, r.side) for r in task_rows})} of {compared} "
        f"differ (sample text {SAMPLE!r})",
        "",
    ]
    if task_rows:
        lines.append(pd.DataFrame([{"task": r.task, "side": r.side, "field": r.field,
                                    "recipe": _as_text(r.recipe), "mteb": _as_text(r.mteb)}
                                   for r in task_rows]).to_markdown(index=False))
    else:
        lines.append("No task input, max length or normalisation differs.")
    if unknown:
        lines += ["", f"Not determinable without the model's files ({', '.join(unknown)}): mteb "
                  "takes them from the model's own sentence-transformers folder (dtype: the "
                  "libraries' default); pass model.path=FOLDER (or have mteb's revision in the "
                  "hub cache) to compare them."]
    return "\n".join(lines)


def _kwargs(meta: Any) -> dict[str, Any]:
    from harness._compat import mteb_loader_kwargs

    shown = {}
    for key, value in mteb_loader_kwargs(meta).items():
        if key == "model_prompts":
            shown[key] = f"{len(value)} prompts"
        else:
            shown[key] = getattr(value, "__name__", value) if callable(value) else value
    return shown
