"""Which number to read from a TaskResult: split, subsets and metric, across mteb versions.

Every cross-version metric decision lives in :data:`METRIC_MAP` (results-repo references) and
:data:`CARD_METRICS` (model-card tables); the pair actually read is recorded per compared row.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass

import mteb
from mteb import TaskResult

ENGLISH_BENCHMARK = "MTEB(eng, v1)"

# mteb 2.x main score -> groups of keys to compare, tried in order: the first group that both
# sides hold wins, ("main_score",) is the last resort. Keys within a group hold the same number
# under the names of different mteb versions (mteb 2.x name first); each side uses the first
# key of the group it has.
METRIC_MAP: dict[str, tuple[tuple[str, ...], ...]] = {
    # STS / Summarization: ``cos_sim_*`` was renamed ``cosine_*`` in mteb 1.11.
    "cosine_spearman": (("cosine_spearman", "cos_sim_spearman"),),
    # PairClassification: the main score was cos_sim_ap before mteb 1.12 and max_ap after;
    # when a side has no max_ap, compare cosine AP on both sides rather than max vs cosine.
    "max_ap": (("max_ap",), ("cosine_ap", "cos_sim_ap")),
    # Reranking: mteb < 2 stored MAP / MRR@10 over the candidate list as "map" / "mrr"; mteb 2
    # scores reranking with the retrieval evaluator (map_at_1000 / mrr_at_10). Same quantity
    # while a query has < 1000 candidates (true for every MTEB(eng, v1) reranking set).
    "map_at_1000": (("map_at_1000", "map"),),
    "max_over_subqueries_map_at_1000": (("max_over_subqueries_map_at_1000", "map"),),
    "mrr_at_10": (("mrr_at_10", "mrr"),),
    # MIRACL reranking: mteb 1.x stored its nDCG@10 as "NDCG@10(MIRACL)".
    "ndcg_at_10": (("ndcg_at_10", "NDCG@10(MIRACL)"),),
}

# Model-card tables predate mteb 1.12: their PairClassification column is cos_sim_ap (checked:
# gte-small 83.54 and stella-base-en-v2 86.45 are the mean cos_sim_ap, not the mean max_ap).
CARD_METRICS: dict[str, str] = {"PairClassification": "cosine_ap"}


def same_metric(key: str) -> tuple[str, ...]:
    """``key`` and its older names (the METRIC_MAP group that starts with it)."""
    groups = (g for gs in METRIC_MAP.values() for g in gs if g[0] == key)
    return next(groups, (key,))


@dataclass(frozen=True)
class Picked:
    """One task's number on both sides: the mean over the chosen split and subsets."""

    ours: float
    published: float
    metric: str
    split: str
    subsets: tuple[str, ...]


@functools.cache
def main_score_name(task: str) -> str:
    """The task's mteb 2.x main score, ``main_score`` for tasks mteb does not know."""
    try:
        return mteb.get_task(task).metadata.main_score
    except (KeyError, ValueError):
        return "main_score"


@functools.cache
def _eval_splits(task: str) -> tuple[str, ...]:
    try:
        return tuple(mteb.get_task(task).metadata.eval_splits)
    except (KeyError, ValueError):
        return ()


@functools.cache
def english_subsets() -> dict[str, tuple[str, ...]]:
    """Multilingual tasks of MTEB(eng, v1) -> the English subsets that benchmark scores."""
    benchmark = mteb.get_benchmark(ENGLISH_BENCHMARK)
    return {t.metadata.name: tuple(t.hf_subsets) for t in benchmark.tasks
            if t.metadata.is_multilingual}


def eval_split(task: str, available: Collection[str]) -> str | None:
    """``test`` when present, else the task's first mteb eval split that is present (the only
    split, for tasks mteb does not know)."""
    for split in ("test", *_eval_splits(task)):
        if split in available:
            return split
    return next(iter(available)) if len(available) == 1 and not _eval_splits(task) else None


def subset_values(result: TaskResult, split: str, key: str) -> dict[str, float]:
    """``hf_subset -> value of key`` for the entries of ``split`` that hold a number there."""
    values = {}
    for entry in result.scores.get(split, []):
        value = entry.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[entry["hf_subset"]] = float(value)
    return values


def _mean(values: dict[str, float], subsets: Collection[str]) -> float:
    return sum(values[s] for s in subsets) / len(subsets)


def metric_label(ours: str, published: str) -> str:
    """``key`` when both sides use the same key, else ``ours vs published``."""
    return ours if ours == published else f"{ours} vs {published}"


def _first_held(result: TaskResult, split: str, keys: tuple[str, ...]
                ) -> tuple[str, dict[str, float]] | None:
    for key in keys:
        values = subset_values(result, split, key)
        if values:
            return key, values
    return None


def pick_pair(task: str, ours: TaskResult, published: TaskResult) -> Picked | None:
    """The comparable number of both results, ``None`` when they share no split/subset/metric."""
    split = eval_split(task, set(ours.scores) & set(published.scores))
    if split is None:
        return None
    main = main_score_name(task)
    for group in (*METRIC_MAP.get(main, ((main,),)), ("main_score",)):
        mine, theirs = _first_held(ours, split, group), _first_held(published, split, group)
        if mine is None or theirs is None:
            continue
        subsets = english_subsets().get(task) or tuple(sorted(mine[1].keys() & theirs[1].keys()))
        if subsets and all(s in mine[1] and s in theirs[1] for s in subsets):
            return Picked(_mean(mine[1], subsets), _mean(theirs[1], subsets),
                          metric_label(mine[0], theirs[0]), split, tuple(subsets))
    return None


def our_score(task: str, result: TaskResult, key: str) -> tuple[float, str] | None:
    """Our number for a card cell: ``key`` (or an older name of it, else the main score) on
    the eval split and subsets, with the key read."""
    split = eval_split(task, result.scores)
    if split is None:
        return None
    for group in (same_metric(key), ("main_score",)):
        held = _first_held(result, split, group)
        if held is None:
            continue
        subsets = english_subsets().get(task) or tuple(held[1])
        if all(s in held[1] for s in subsets):
            return _mean(held[1], subsets), held[0]
    return None
