"""Task lists: names or an mteb benchmark, resolved to mteb task objects with offline data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import mteb
from mteb.abstasks import AbsTask
from omegaconf import DictConfig

from harness.errors import HarnessError, unknown_choice


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
        every_task = mteb.get_tasks(exclude_superseded=False, exclude_private=False,
                                    exclude_beta=False)  # all that get_task accepts
        raise unknown_choice("task", name, [t.metadata.name for t in every_task]) from None


def task_objects(tasks: DictConfig, data_root: str | None = None) -> list[AbsTask]:
    """The mteb tasks of a task-list config (benchmark tasks keep the benchmark's subsets)."""
    from harness.longtext.tasks import is_longtext_task, longtext_task

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
        raise HarnessError(f"task list {tasks.name!r} names no tasks and no benchmark")
    result = []
    for name in names:
        if is_longtext_task(name):
            root = Path(data_root) if data_root else None
            if root is None:
                raise HarnessError(f"task {name!r} is built locally: pass data_root=DIR")
            result.append(longtext_task(name, root))
        else:
            result.append(mteb_task(name))
    return result


def load_task_data(task: AbsTask, data_root: str | None) -> str:
    """Load a task's data from ``data_root`` when it has the task, else from the hub.

    Returns where it came from (``local`` or ``hub``); raises HarnessError naming the task, the
    folder looked for and the import command when neither works.
    """
    from harness.data.mirror import missing_data_error, use_local_data

    source = "local" if data_root and use_local_data(task, Path(data_root)) else "hub"
    try:
        task.load_data()
    except HarnessError:
        raise
    except Exception as exc:  # datasets/hub raise many types; all mean "could not load"
        raise missing_data_error(task, Path(data_root) if data_root else None, exc) from None
    eager_columns(task.dataset)
    return source


class EagerColumnDataset(datasets.Dataset):
    """A ``datasets.Dataset`` whose ``ds[column]`` is a list, as it was before datasets 4.

    datasets 4 made ``ds[column]`` a lazy ``Column`` (huggingface/datasets#7614) whose every
    ``column[i]`` and iteration step formats one row. mteb's classification task indexes the
    label column once per training row in each of its 10 undersampling experiments and hands
    the test labels to sklearn's metrics, so on Banking77 about 25 s of a 28 s warm run went to
    formatting rows one at a time. Reading the whole column at once gives the same values.
    """

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and self._format_type is None:
            return self._getitem(key)
        return super().__getitem__(key)


def eager_columns(data: Any) -> None:
    """Make every plain ``Dataset`` inside a task's loaded data an ``EagerColumnDataset``."""
    if type(data) is datasets.Dataset:
        data.__class__ = EagerColumnDataset
    elif isinstance(data, dict):  # DatasetDict, subset -> split dicts, retrieval's dicts
        for value in data.values():
            eager_columns(value)
