"""The Python API: everything ``harness <command>`` does, importable by users.

The CLI (``harness/cli/``) parses arguments, calls one function here and prints what it returns;
nothing in ``cli/`` reaches past this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.config import add_config_dir, load_config
from harness.errors import (
    DataError,
    HarnessError,
    HarnessRuntimeError,
    ModelLoadError,
    NonFiniteError,
    ResourceError,
    UsageError,
    one_line,
)
from harness.launch import CFG_CHOICES, INFO_CHOICES, SweepRequest, launch, needs_hydra
from harness.logs import quiet_libraries
from harness.schema import RunConfig

if TYPE_CHECKING:
    from harness.runner import RunSummary

EXPLAIN_FORMATS = ("md", "json")  # harness.explain.FORMATS (checked by a test)
EXPLAIN_REFERENCES = ("mteb",)
DEFAULT_RESAMPLES = 1000  # harness.report.stats.DEFAULT_RESAMPLES (checked by a test)
DEFAULT_SEED = 0

__all__ = [
    "CFG_CHOICES",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "EXPLAIN_FORMATS",
    "EXPLAIN_REFERENCES",
    "INFO_CHOICES",
    "DataError",
    "HarnessError",
    "HarnessRuntimeError",
    "ModelLoadError",
    "NonFiniteError",
    "ResourceError",
    "SweepRequest",
    "UsageError",
    "add_config_dir",
    "build_longtext_sets",
    "cache_report",
    "clear_cache",
    "compare",
    "compare_runs",
    "diff",
    "encode",
    "explain",
    "export",
    "import_data",
    "import_formats",
    "launch",
    "leaderboard",
    "list_models",
    "list_task_lists",
    "list_tasks",
    "longtext_folder",
    "longtext_formats",
    "needs_hydra",
    "one_line",
    "parse_duration",
    "quiet_libraries",
    "regress",
    "run",
    "status",
    "table_layouts",
    "task_list_types",
    "variant_label",
    "write_report",
]


def run(overrides: list[str] | RunConfig | None = None) -> RunSummary:
    """Evaluate a model on a task list: Hydra overrides (as on the command line) or a config."""
    from harness.runner import evaluate

    cfg = overrides if isinstance(overrides, RunConfig) else load_config(overrides)
    return evaluate(cfg)


def variant_label(dim: int | None, quantize: str = "none") -> str:
    """How a run's dim and storage precision are named in labels (``dim 256, int8``)."""
    from harness.results import variant_label as label

    return label(dim, quantize)


def explain(overrides: list[str] | None = None, fmt: str = "md",
            against: str | None = None) -> str:
    """``harness explain``: the model settings and the exact input per task and side, as
    markdown or JSON rows (``fmt``); ``against="mteb"``: where they differ from mteb's own
    implementation of the model."""
    if against is None:
        from harness.explain import explain as render_explanation

        return render_explanation(list(overrides or []), fmt=fmt)
    if against not in EXPLAIN_REFERENCES:
        raise UsageError(f"unknown reference {against!r}; valid choices: "
                         f"{', '.join(EXPLAIN_REFERENCES)}")
    from harness.against_mteb import against_mteb

    return against_mteb(list(overrides or []), fmt=fmt)


def task_list_types(tasks_config: str) -> dict[str, str]:
    """Task -> mteb task type for a task-list config name (e.g. ``mteb_eng_v1``)."""
    from harness.tasks import task_list_types as types

    return types(tasks_config)


def table_layouts() -> list[str]:
    """The layouts ``harness table --layout`` accepts."""
    from harness.report.table import LAYOUTS

    return LAYOUTS.names()


def leaderboard(results_dir: str | Path, tasks: str | None = None, fmt: str = "md",
                layout: str = "mteb") -> str:
    """The leaderboard tables of a results folder, rendered (markdown or csv); ``layout``
    ``mteb`` (summary + per task, the model cards' layout) or ``longtext`` (stella's suite)."""
    from harness.report.table import LAYOUTS, render
    from harness.results import load_scores

    build = LAYOUTS[layout]
    scores = load_scores(results_dir)
    if scores.empty:
        raise UsageError(f"no readable result JSON under {str(results_dir)!r}")
    expected = task_list_types(tasks) if tasks else None
    return "\n\n".join(render(table, fmt) for table in build(scores, expected))


def list_models() -> str:
    """A markdown table of the model recipes on the config search path."""
    from harness.listing import models_table

    return models_table().to_markdown(index=False)


def list_task_lists() -> str:
    """A markdown table of the task lists: size, task types and description."""
    from harness.listing import task_lists_table

    return task_lists_table().to_markdown(index=False)


def list_tasks(data_root: str | None = None) -> str:
    """A markdown table of the task lists: task, type and where its data would come from."""
    from harness.listing import tasks_table

    return tasks_table(data_root).to_markdown(index=False)


def status(results_dir: str | Path, tasks: str, model: str | None = None,
           stale_after: str = "30m", cache_dir: str | None = None,
           data_root: str | None = None) -> str:
    """``harness status``: per model how many tasks are done/running/dead/failed/missing; with
    ``cache_dir`` (and ``model`` a recipe) also per task how many of its inputs are cached."""
    from harness.status import render_status, status_table

    parts = []
    if cache_dir is None or Path(results_dir).is_dir():
        table = status_table(results_dir, list(task_list_types(tasks)), model=model,
                             stale_after=parse_duration(stale_after))
        parts.append(render_status(table))
    if cache_dir is not None:
        parts.append(_cache_coverage(tasks, model, cache_dir, data_root))
    return "\n\n".join(parts)


def _cache_coverage(tasks: str, model: str | None, cache_dir: str,
                    data_root: str | None) -> str:
    from harness.config import config_options
    from harness.coverage import coverage_table

    recipes = config_options("model")
    if model not in recipes:
        raise UsageError(f"--cache-dir needs --model RECIPE (its prompts make the inputs), got "
                         f"{model!r}; valid recipes: {', '.join(recipes)}")
    cfg = load_config([f"model={model}", f"tasks={tasks}",
                       *([f"data_root={data_root}"] if data_root else [])])
    table = coverage_table(cfg, cache_dir)
    return f"inputs cached in {cache_dir}:\n\n" + table.to_markdown(index=False)


def encode(overrides: list[str] | None = None) -> RunSummary:
    """``harness encode``: store the task list's inputs (shard ``encode_shard=i/n`` of them) in
    ``cache_dir``, score nothing."""
    return run(["encode_only=true", *(overrides or [])])


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h`` or ``1d`` -> seconds."""
    from harness.status import parse_duration as parse

    return parse(text)


def import_data(src: str | Path, out: str | Path, task: str | None = None,
                fmt: str | None = None, columns: list[str] | tuple[str, ...] = (),
                delimiter: str | None = None) -> list:
    """``harness data import``: dataset files into the offline mirror; one summary each.

    ``fmt`` is one of :func:`import_formats` (default: from the files and the task's type);
    ``columns`` are ``NEW=OLD`` renames and ``delimiter`` the separator of CSV/TSV tables."""
    from harness.data.importers import import_dataset

    return import_dataset(Path(src), Path(out), task=task, fmt=fmt, columns=columns,
                          delimiter=delimiter)


def import_formats() -> dict[str, str]:
    """The source formats ``harness data import --format`` reads: name -> what it serves."""
    from harness.data.importers import FORMATS

    return {name: f"any {imp.task_type} task" if imp.task_type else ", ".join(imp.tasks)
            for name, imp in FORMATS.items()}


def cache_report(cache_dir: str) -> str:
    """``harness cache info``: one row per model namespace."""
    from harness.cache import cache_entries

    entries = cache_entries(cache_dir)
    if not entries:
        return f"cache {cache_dir} is empty"
    rows = [{"model": e.model, "namespace": e.namespace, "entries": e.entries,
             "size_mb": round(e.size_bytes / 2**20, 2), "storage": e.identity.get("storage"),
             "precision": e.identity.get("precision"), "dim": e.identity.get("dim")}
            for e in entries]
    return pd.DataFrame(rows).to_markdown(index=False)


def clear_cache(cache_dir: str, model: str | None = None) -> str:
    """``harness cache clear``: delete every namespace (or one model's); what was removed."""
    from harness.cache import clear_cache as clear

    removed = clear(cache_dir, model=model)
    return (f"removed {len(removed)} cache namespace(s), "
            f"{sum(e.entries for e in removed)} entries")


def longtext_formats() -> list[str]:
    """The source formats ``harness longtext build --format`` reads."""
    from harness.longtext.source import FORMATS

    return list(FORMATS)


def longtext_folder(data_root: str | Path, name: str) -> Path:
    """Where the long-text set ``name`` is built under ``data_root``."""
    from harness.longtext import longtext_dir

    return longtext_dir(Path(data_root), name)


def _parse_ratio(text: str) -> tuple[int, int]:
    short, _, long = text.partition(":")
    if not (short.isdigit() and long.isdigit()) or int(long) == 0:
        raise UsageError(f"--short-long-ratio must look like 1:2, got {text!r}")
    return int(short), int(long)


def build_longtext_sets(src: Path, out: Path, *, fmt: str | None = None, name: str | None = None,
                        position_unit: str = "char", threshold: int = 512, ratio: str = "1:2",
                        seed: int = 0) -> list:
    """Build one long-text set from its files (``fmt`` and ``name``), or every known set whose
    sources are in the data folder ``src`` (only ``name`` when given)."""
    from harness.longtext import LONGTEXT_SETS, build_longtext, build_set

    options = {"position_unit": position_unit, "threshold": threshold,
               "short_long_ratio": _parse_ratio(ratio), "seed": seed}
    if position_unit == "token":
        from harness.longtext.positions import load_default_tokenizer

        options["tokenizer"] = load_default_tokenizer()
    src, out = Path(src), Path(out)
    if fmt is not None:
        if not name:
            raise UsageError("--format needs --name (the task name of the set)")
        files = sorted(src.glob("*.json")) if src.is_dir() else [src]
        return [build_longtext(files, fmt, name, out, **options)]
    if not src.is_dir():
        raise UsageError(f"{str(src)!r} is not a folder; give a data folder or --format")
    names = [name] if name else [n for n, spec in LONGTEXT_SETS.items()
                                 if all((src / s).exists() for s in spec.sources)]
    if not names:
        raise UsageError(f"no known long-text source under {str(src)!r}; valid sets: "
                         f"{', '.join(LONGTEXT_SETS)}")
    return [build_set(n, src, out, **options) for n in names]


def compare(results_dir: str | Path, reference: str, model: str | None = None,
            tolerance: float = 0.001):
    """Our scores against published ones (a results-repo folder, ``hub`` or ``cards``)."""
    from harness.report.compare import compare as run_compare

    return run_compare(results_dir, reference, model=model, tolerance=tolerance)


def compare_runs(a: str | Path, b: str | Path, *, model: str | None = None,
                 significance: bool = False, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED):
    """``harness compare A B``: run B against run A per task, category and on average, with a
    paired bootstrap (delta, 95 % interval, p) when ``significance``."""
    from harness.report.paired import compare_runs as run_compare

    return run_compare(a, b, model=model, significance=significance, n_resamples=n_resamples,
                       seed=seed)


def regress(results_dir: str | Path, baseline: str | Path, tolerance: float = 0.005, *,
            mode: str = "tolerance", alpha: float = 0.05, n_resamples: int = DEFAULT_RESAMPLES,
            seed: int = DEFAULT_SEED):
    """The CI gate: main scores against a baseline folder (``report.ok`` False on a drop);
    ``mode`` ``both`` or ``significant`` adds the paired bootstrap."""
    from harness.report.regress import regress as run_regress

    return run_regress(results_dir, baseline, tolerance=tolerance, mode=mode, alpha=alpha,
                       n_resamples=n_resamples, seed=seed)


def diff(a: str | Path, b: str | Path, task: str, *, model: str | None = None, top: int = 20,
         data_root: str | None = None, fmt: str = "md") -> str:
    """``harness diff``: the items of ``task`` that moved most from run A to run B, rendered
    as markdown or CSV, with their texts."""
    from harness.report.diff import diff_runs

    return diff_runs(a, b, task, model=model, top=top, data_root=data_root).render(fmt)


def export(results_dir: str | Path, model: str, out: str | Path) -> str:
    """``harness export``: write ``model``'s runs as a results-repo submission in ``out``,
    read it back with mteb's loaders, and say what was written."""
    from harness.export import export as run_export

    return run_export(results_dir, model, out).summary()


def write_report(results_dir: str | Path, out: str | Path, **options):
    """``harness report``: report.html, report.md and PNGs in ``out``."""
    from harness.report.html import write_report as write

    return write(results_dir, out, **options)
