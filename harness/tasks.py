"""Task lists: names or an mteb benchmark, resolved to mteb task objects with offline data."""

from __future__ import annotations

import warnings
from pathlib import Path

import mteb
from mteb.abstasks import AbsTask

from harness.config import config_files, load_config
from harness.errors import UsageError, unknown_choice
from harness.schema import TasksConfig


def _benchmark(name: str) -> mteb.Benchmark:
    try:
        return mteb.get_benchmark(name)
    except (KeyError, ValueError):
        names = [b.name for b in mteb.get_benchmarks()]
        raise unknown_choice("benchmark", name, names) from None


def mteb_task(name: str) -> AbsTask:
    """mteb's task ``name``; an unknown name is a one-line error listing the valid names."""
    try:
        return mteb.get_task(name)
    except (KeyError, ValueError):
        with warnings.catch_warnings():  # only names are listed: no "task is in beta" per task
            warnings.simplefilter("ignore", UserWarning)
            every_task = mteb.get_tasks(exclude_superseded=False, exclude_private=False,
                                        exclude_beta=False)  # all that get_task accepts
        raise unknown_choice("task", name, [t.metadata.name for t in every_task]) from None


def task_objects(tasks: TasksConfig, data_root: str | None = None) -> list[AbsTask]:
    """The mteb tasks of a task-list config (benchmark tasks keep the benchmark's subsets),
    without those in ``tasks.exclude``."""
    chosen = _listed_tasks(tasks, data_root)
    if not tasks.exclude:
        return chosen
    listed = {t.metadata.name for t in chosen}
    unknown = [name for name in tasks.exclude if name not in listed]
    if unknown:
        raise unknown_choice(f"task to exclude from {tasks.name!r}", unknown[0], listed)
    return [t for t in chosen if t.metadata.name not in set(tasks.exclude)]


def _listed_tasks(tasks: TasksConfig, data_root: str | None) -> list[AbsTask]:
    from harness.longtext import is_longtext_task, longtext_task

    names = list(tasks.names)
    if tasks.benchmark:
        bench_tasks = list(_benchmark(tasks.benchmark).tasks)
        if not names:
            return bench_tasks
        by_name = {t.metadata.name: t for t in bench_tasks}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise unknown_choice(f"task of benchmark {tasks.benchmark!r}", missing[0], by_name)
        return [by_name[n] for n in names]
    if not names:
        raise UsageError(f"task list {tasks.name!r} names no tasks and no benchmark")
    result = []
    for name in names:
        if is_longtext_task(name):
            root = Path(data_root) if data_root else None
            if root is None:
                raise UsageError(f"task {name!r} is built locally: pass data_root=DIR")
            result.append(longtext_task(name, root))
        else:
            result.append(mteb_task(name))
    return result


def task_list_types(tasks_config: str) -> dict[str, str]:
    """Task -> mteb task type for a task-list config name (e.g. ``mteb_eng_v1``)."""
    options = config_files("tasks")
    if tasks_config not in options:
        raise unknown_choice("tasks config", tasks_config, options)
    cfg = load_config([f"tasks={tasks_config}"])
    return {t.metadata.name: t.metadata.type for t in task_objects(cfg.tasks, cfg.data_root)}
