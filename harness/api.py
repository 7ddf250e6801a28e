"""The Python API behind the CLI: what ``harness <command>`` calls, importable by users."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig

from harness.config import CONFIG_DIR, compose_config
from harness.errors import HarnessError, unknown_choice
from harness.report.table import longtext_table, render, summary_table, task_table
from harness.results import load_scores
from harness.runner import RunSummary, evaluate


def run(overrides: list[str] | DictConfig | None = None) -> RunSummary:
    """Evaluate a model on a task list: Hydra overrides (as on the command line) or a config."""
    cfg = overrides if isinstance(overrides, DictConfig) else compose_config(overrides)
    return evaluate(cfg)


def task_list_types(tasks_config: str) -> dict[str, str]:
    """Task -> mteb task type for a task-list config name (e.g. ``mteb_eng_v1``)."""
    from harness.tasks import task_objects

    options = sorted(p.stem for p in (CONFIG_DIR / "tasks").glob("*.yaml"))
    if tasks_config not in options:
        raise unknown_choice("tasks config", tasks_config, options)
    cfg = compose_config([f"tasks={tasks_config}"])
    return {t.metadata.name: t.metadata.type for t in task_objects(cfg.tasks, cfg.data_root)}


def leaderboard(results_dir: str | Path, tasks: str | None = None, fmt: str = "md",
                layout: str = "mteb") -> str:
    """The summary table (average + categories) and the per-task table, rendered; with
    ``layout="longtext"`` the long-text suite in the stella card's layout."""
    scores = load_scores(results_dir)
    if scores.empty:
        raise HarnessError(f"no readable result JSON under {str(results_dir)!r}")
    if layout == "longtext":
        return render(longtext_table(scores), fmt)
    expected = task_list_types(tasks) if tasks else None
    parts = [render(summary_table(scores, expected), fmt), render(task_table(scores, expected),
                                                                  fmt)]
    return "\n\n".join(parts)


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def list_configs(what: str, data_root: str | None = None) -> str:
    """A table of the model recipes or the task lists (with task types and data status)."""
    if what == "models":
        rows = []
        for path in sorted((CONFIG_DIR / "model").glob("*.yaml")):
            recipe = _read_yaml(path)
            rows.append({"recipe": path.stem, "loads": recipe.get("path") or recipe.get("name"),
                         "pooling": recipe.get("pooling", "mean"),
                         "max_length": recipe.get("max_length"),
                         "source": recipe.get("source", "")})
        return pd.DataFrame(rows).to_markdown(index=False)
    from harness.data.mirror import data_status
    from harness.tasks import task_objects

    rows = []
    for path in sorted((CONFIG_DIR / "tasks").glob("*.yaml")):
        cfg = compose_config([f"tasks={path.stem}"] + (
            [f"data_root={data_root}"] if data_root else []))
        for task in task_objects(cfg.tasks, data_root):
            rows.append({"list": path.stem, "task": task.metadata.name,
                         "type": task.metadata.type,
                         "data": data_status(task.metadata.name, data_root)})
    return pd.DataFrame(rows).to_markdown(index=False)


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


def _parse_ratio(text: str) -> tuple[int, int]:
    short, _, long = text.partition(":")
    if not (short.isdigit() and long.isdigit()) or int(long) == 0:
        raise HarnessError(f"--short-long-ratio must look like 1:2, got {text!r}")
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
    if fmt is not None:
        if not name:
            raise HarnessError("--format needs --name (the task name of the set)")
        files = sorted(src.glob("*.json")) if src.is_dir() else [src]
        return [build_longtext(files, fmt, name, out, **options)]
    if not src.is_dir():
        raise HarnessError(f"{str(src)!r} is not a folder; give a data folder or --format")
    names = [name] if name else [n for n, spec in LONGTEXT_SETS.items()
                                 if all((src / s).exists() for s in spec.sources)]
    if not names:
        raise HarnessError(f"no known long-text source under {str(src)!r}; valid sets: "
                           f"{', '.join(LONGTEXT_SETS)}")
    return [build_set(n, src, out, **options) for n in names]
