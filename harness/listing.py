"""``harness list``: the recipes and task lists on the config search path, as tables.

Listing never loads weights or data: recipes are composed (so inherited keys show), task lists
resolved to mteb task names, and a task's data status is read from the mirror folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from harness.config import PACKAGE_SOURCE, compose_dict, config_files
from harness.schema import TasksConfig

MODEL_COLUMNS = ["recipe", "model", "revision", "pooling", "max_length", "from", "source"]
TASK_COLUMNS = ["list", "task", "type", "data"]
LIST_COLUMNS = ["list", "tasks", "types", "description"]


def models_table() -> pd.DataFrame:
    """One row per recipe: what it loads, pooling, max length, which folder it comes from and
    the script or card it follows."""
    rows = []
    for recipe, (origin, _) in config_files("model").items():
        model = compose_dict([f"model={recipe}"]).model
        name = "(no name: the recipe must set it)" if OmegaConf.is_missing(model, "name") \
            else model.name
        rows.append({"recipe": recipe, "model": name, "revision": model.revision or "-",
                     "pooling": model.pooling, "max_length": model.max_length,
                     "from": origin.label if origin.label == PACKAGE_SOURCE else str(origin.path),
                     "source": model.source or "-"})
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def _task_rows(list_name: str, data_root: Path | None) -> list[dict[str, str]]:
    from harness.data.mirror import data_status
    from harness.longtext import is_longtext_task, longtext_dir
    from harness.longtext.build import MANIFEST
    from harness.tasks import task_objects

    tasks = compose_dict([f"tasks={list_name}"]).tasks
    longtext = [n for n in tasks.names if is_longtext_task(n)]
    rows = []
    if len(longtext) < len(tasks.names) or tasks.benchmark:
        rest = TasksConfig(name=tasks.name, benchmark=tasks.benchmark,
                           names=[n for n in tasks.names if n not in longtext])
        for task in task_objects(rest):
            name = task.metadata.name
            rows.append({"list": list_name, "task": name, "type": task.metadata.type,
                         "data": data_status(name, data_root)})
    for name in longtext:
        built = data_root is not None and (longtext_dir(data_root, name) / MANIFEST).is_file()
        rows.append({"list": list_name, "task": name, "type": "Retrieval",
                     "data": "built" if built else "not built (harness longtext build)"})
    return rows


def tasks_table(data_root: str | Path | None = None) -> pd.DataFrame:
    """One row per task of every task list: its type and where its data would come from."""
    from harness.data.mirror import check_data_root

    root = check_data_root(data_root) if data_root is not None else None
    rows = [row for name in config_files("tasks") for row in _task_rows(name, root)]
    return pd.DataFrame(rows, columns=TASK_COLUMNS)


def task_lists_table() -> pd.DataFrame:
    """One row per task list: how many tasks, of which types, and its description."""
    rows = []
    for list_name in config_files("tasks"):
        types = tasks_table_of(list_name)["type"].value_counts(sort=False)
        rows.append({"list": list_name, "tasks": int(types.sum()),
                     "types": ", ".join(f"{kind} {count}" for kind, count in types.items()),
                     "description": compose_dict([f"tasks={list_name}"]).tasks.description})
    return pd.DataFrame(rows, columns=LIST_COLUMNS)


def tasks_table_of(list_name: str) -> pd.DataFrame:
    """The task rows of one task list (no data root)."""
    return pd.DataFrame(_task_rows(list_name, None), columns=TASK_COLUMNS)
