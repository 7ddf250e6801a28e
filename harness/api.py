"""The Python API behind the CLI: what ``harness <command>`` calls, importable by users."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from omegaconf import DictConfig

from harness.config import CONFIG_DIR, compose_config
from harness.errors import HarnessError, unknown_choice
from harness.report.table import render, summary_table, task_table
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


def leaderboard(results_dir: str | Path, tasks: str | None = None, fmt: str = "md") -> str:
    """The summary table (average + categories) and the per-task table, rendered."""
    scores = load_scores(results_dir)
    if scores.empty:
        raise HarnessError(f"no readable result JSON under {str(results_dir)!r}")
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
