"""Every use of another library's internals, in one place, each with a contract test.

Nothing else in the harness touches private APIs, message formats or undocumented data shapes of
its dependencies; ``tests/unit/test_compat.py`` checks each piece against the installed versions,
so an upgrade that breaks one fails there, by name.

- datasets: ``Dataset._getitem`` and ``Dataset._format_type`` (eager column reads); the cache
  directory ``config.HF_DATASETS_CACHE`` read when a builder is made (a local folder's cache).
- hydra: ``hydra._internal``'s ``BasicSweeper.split_arguments`` (sweep expansion) and the text of
  its composition errors (which key, group or option was bad).
- mteb: the shape of ``TaskMetadata.descriptive_stats`` (task cost for shards).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import datasets

# datasets ---------------------------------------------------------------------------------------


class EagerColumnDataset(datasets.Dataset):
    """A ``datasets.Dataset`` whose ``ds[column]`` is a list, as it was before datasets 4.

    datasets 4 made ``ds[column]`` a lazy ``Column`` (huggingface/datasets#7614) whose every
    ``column[i]`` and iteration step formats one row. mteb's classification task indexes the
    label column once per training row in each of its 10 undersampling experiments and hands
    the test labels to sklearn's metrics, so on Banking77 about 25 s of a 28 s warm run went to
    formatting rows one at a time. Reading the whole column at once (the private ``_getitem``,
    only for unformatted datasets) gives the same values.
    """

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and self._format_type is None:
            return self._getitem(key)
        return super().__getitem__(key)


def eager_columns(data: Any) -> None:
    """Make every plain ``Dataset`` inside a task's loaded data an :class:`EagerColumnDataset`."""
    if type(data) is datasets.Dataset:
        data.__class__ = EagerColumnDataset
    elif isinstance(data, dict):  # DatasetDict, subset -> split dicts, retrieval's dicts
        for value in data.values():
            eager_columns(value)


@contextmanager
def local_folder_cache(folder: Path) -> Iterator[None]:
    """Build ``datasets``' Arrow cache of the local dataset folder ``folder`` (for the duration)
    in a directory named after its files: their names, sizes and modification times.

    ``datasets`` keys the cache of a local folder with a dataset card by the folder's name and the
    card's YAML only, not by its data files, so another data root's copy of a task, or the same
    folder imported again with other rows, would be served the rows cached first. The cache
    directory is read from ``datasets.config.HF_DATASETS_CACHE`` when a builder is made.
    """
    stamp = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = path.stat()
        stamp.update(f"{path.relative_to(folder)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    saved = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = Path(saved) / "harness-local" / stamp.hexdigest()[:16]
    try:
        yield
    finally:
        datasets.config.HF_DATASETS_CACHE = saved


# hydra ------------------------------------------------------------------------------------------


def split_sweep(parsed_overrides: list[Any]) -> list[list[str]]:
    """Every combination of parsed sweep overrides, in Hydra's basic sweeper order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return [list(job) for batch in BasicSweeper.split_arguments(parsed_overrides, None)
            for job in batch]


def hydra_message(exc: BaseException) -> str:
    """A Hydra/OmegaConf error message on one line, without its ``full_key: ...`` trailer and
    its "See https://..." pointer."""
    text = " ".join(str(exc).split())
    return text.split(" full_key:")[0].split(" See https")[0]


def hydra_full_key(exc: BaseException) -> str | None:
    """The dotted config key an OmegaConf error names (``full_key: model.x``), if any."""
    match = re.search(r"full_key: ([\w.\-]+)", str(exc))
    return match.group(1) if match else None


def hydra_bad_key(message: str) -> str | None:
    """The key a composition error says is not in the schema or cannot be overridden."""
    match = (re.search(r"Key '([^']+)' (?:is )?not in (?:struct|'(\w+)')", message)
             or re.search(r"Could not override '([^']+)'", message))
    return match.group(1) if match else None


def hydra_missing_option(exc: BaseException) -> tuple[str, str, list[str]] | None:
    """(group, option, available options) from a MissingConfigException such as
    ``hydra/launcher=slurmm``; None when the message has another shape."""
    text = str(exc)
    match = re.search(r"Could not find '([\w/]+)/([^'/]+)'", text)
    listed = re.search(r"Available options in '[^']+':\n((?:\t.*\n?)+)", text)
    if match and listed:
        return match.group(1), match.group(2), listed.group(1).split()
    return None


# mteb -------------------------------------------------------------------------------------------


def stats_characters(stats: dict) -> float:
    """Characters in one split's (or subset's) block of ``TaskMetadata.descriptive_stats``:
    ``number_of_characters`` (older stats) or the sum of ``total_text_length`` over its
    ``*_statistics`` blocks (mteb 2.x)."""
    if stats.get("number_of_characters"):
        return float(stats["number_of_characters"])
    return float(sum(block["total_text_length"] for key, block in stats.items()
                     if key.endswith("statistics") and isinstance(block, dict)
                     and block.get("total_text_length")))


def stats_subsets(split_stats: dict) -> dict[str, dict]:
    """The per-subset blocks of one split's descriptive statistics (empty when it has none)."""
    return split_stats.get("hf_subset_descriptive_stats") or {}
