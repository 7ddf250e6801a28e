"""The layout of a task's mirror: which column names, nesting, configs and files its
``load_data`` and ``dataset_transform`` read.

mteb reads a mirror with ``load_dataset`` (one config per subset for a multilingual task, or one
``default`` config with a ``lang`` column for a fast-loading one) and then runs the task's own
``dataset_transform``, which for some tasks renames the hub's columns (``sent1`` ->
``sentence1``), wraps them, subsamples or maps labels. So an import must write what that transform
expects. The candidate layouts are the columns the evaluator reads, then the names that the
transform's literal renames lead back to (``_compat.transform_renames``); for pair
classification, each as one row of lists per split (like mteb's own copies) and as plain rows.
Each is tried on the rows themselves, in memory: the task's transform runs on what
``load_dataset`` would return and the first layout whose result holds the source rows (or a
subsample of them) in every split the task reads is the one written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness._compat import transform_renames
from harness.data.importers.base import Row, Table, shown
from harness.errors import UsageError, one_line

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

Data = dict[str, dict[str, list[Row]]]
"""Source rows by subset (``default`` for a monolingual task) and split."""

Compare = Callable[[list[Row], list[dict[str, list[Any]]]], str | None]
"""(source rows of a subset, what the evaluator reads in each split) -> why they differ, or None."""


@dataclass(frozen=True)
class Target:
    """What the task's evaluator reads after its transform."""

    columns: dict[str, str]
    """Source column -> the column the evaluator reads."""
    splits: list[str]
    compare: Compare
    pairs: bool = False
    """Pair classification: a split that is one row holds the whole split as lists."""


@dataclass(frozen=True)
class Layout:
    """How the mirror holds the rows: source column -> mirror column, and the nesting."""

    columns: dict[str, str]
    nested: bool = False

    def rows(self, rows: list[Row]) -> list[Row]:
        """``rows`` as the mirror's data file holds them."""
        renamed = []
        for row in rows:
            out = {self.columns.get(key, key): value for key, value in row.items()}
            if len(out) < len(row):
                clash = sorted(set(out) & set(row) - set(self.columns))
                raise UsageError(f"the source has a column {shown(clash[0] if clash else '?')} "
                                 "where this layout writes another; rename it with --column")
            renamed.append(out)
        if not self.nested or not renamed:
            return renamed
        keys = list(dict.fromkeys(key for row in renamed for key in row))
        return [{key: [row.get(key) for row in renamed] for key in keys}]

    def describe(self) -> str:
        """The mirror's column names, for the import summary."""
        nesting = ", one row of lists per split" if self.nested else ""
        return f"columns {', '.join(self.columns.values())}{nesting}"


def choose_layout(task: AbsTask, data: Data, target: Target, src: Path) -> Layout:
    """The first candidate layout that the task's transform turns into the rows read from
    ``src``; UsageError naming ``src`` and why the last candidate failed."""
    reasons = []
    for layout in _candidates(task, target):
        reason = _try(task, data, target, layout)
        if reason is None:
            return layout
        reasons.append(reason)
    raise UsageError(f"{src}: mteb's {task.metadata.name} does not read these rows back in any of "
                     f"{len(reasons)} layouts tried (with its dataset_transform): {reasons[-1]}")


def tables(task: AbsTask, data: Data, layout: Layout) -> list[Table]:
    """The data files of the mirror, with the configs ``load_data`` asks for."""
    meta = task.metadata
    if not meta.is_multilingual:
        config = meta.dataset.get("name") or "default"
        return [Table(f"{split}.jsonl", config, split, layout.rows(rows), size=len(rows))
                for split, rows in data["default"].items()]
    if getattr(task, "fast_loading", False):  # mteb's fast_load: one config, a lang column
        if any("lang" in row for splits in data.values() for rows in splits.values()
               for row in rows):
            raise UsageError(f"the source has a lang column, which the mirror of "
                             f"{meta.name} uses to name each row's subset; drop or rename it")
        splits = list(dict.fromkeys(split for splits in data.values() for split in splits))
        return [Table(f"{split}.jsonl", "default", split, layout.rows(
            [{**row, "lang": subset} for subset, splits in data.items()
             for row in splits.get(split, [])])) for split in splits]
    return [Table(f"{subset}/{split}.jsonl", subset, split, layout.rows(rows), f"{subset}/{split}",
                  len(rows)) for subset, splits in data.items() for split, rows in splits.items()]


def _candidates(task: AbsTask, target: Target) -> list[Layout]:
    renames = transform_renames(type(task))
    back = {source: _origin(column, renames) for source, column in target.columns.items()}
    maps = [target.columns] + ([back] if back != target.columns else [])
    nestings = (True, False) if target.pairs else (False,)
    return [Layout(columns, nested) for columns in maps for nested in nestings]


def _origin(column: str, renames: list[tuple[str, str]]) -> str:
    """The name ``column`` had before the renames (applied in order)."""
    for old, new in reversed(renames):
        if new == column:
            column = old
    return column


def _try(task: AbsTask, data: Data, target: Target, layout: Layout) -> str | None:
    """Why the task does not read ``data`` written in ``layout`` as the source rows, or None."""
    import mteb

    try:
        probe = mteb.get_task(task.metadata.name)
        probe.dataset = _loaded(task, data, layout)
        probe.dataset_transform()
        result = probe.dataset if task.metadata.is_multilingual else {"default": probe.dataset}
        for subset, splits in data.items():
            source = [row for rows in splits.values() for row in rows]
            got = [_read(result[subset], split, target) for split in target.splits]
            reason = target.compare(source, got)
            if reason:
                return f"{subset}: {reason}" if task.metadata.is_multilingual else reason
    except UsageError as exc:
        return str(exc)
    except Exception as exc:  # whatever the task's own transform raises on this layout
        return one_line(exc)
    return None


def _loaded(task: AbsTask, data: Data, layout: Layout) -> Any:
    """What ``task.load_data`` gets from ``load_dataset`` for the mirror, built in memory."""
    from datasets import Dataset, DatasetDict

    subsets = {subset: DatasetDict({split: Dataset.from_list(layout.rows(rows))
                                    for split, rows in splits.items()})
               for subset, splits in data.items()}
    if task.metadata.is_multilingual:
        return subsets
    split = task.metadata.dataset.get("split")
    return subsets["default"][split] if split else subsets["default"]


def _read(splits: Any, split: str, target: Target) -> dict[str, list[Any]]:
    """The columns the evaluator reads in one split after the transform, by source name."""
    if split not in splits:
        raise UsageError(f"no {split} split after the transform (the task reads "
                         f"{', '.join(target.splits)})")
    data = splits[split]
    if target.pairs and len(data) == 1:
        data = data[0]
    return {source: list(data[column]) for source, column in target.columns.items()}
