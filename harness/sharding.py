"""Split a task list into ``n`` shards of about equal cost (``shard=i/n``).

A task's cost is estimated as the characters it encodes (corpus size x average length over its
evaluation splits and selected subsets) from mteb's descriptive statistics; an aggregate task
costs the sum of its parts and a task without statistics costs ``FALLBACK_COST``. Shards are
filled greedily, most expensive task first, each into the currently cheapest shard (LPT), so
the assignment is deterministic and the slowest of ``n`` jobs finishes close to the average.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mteb.abstasks import AbsTask

from harness._compat import stats_characters, stats_subsets
from harness.errors import UsageError

FALLBACK_COST = 1e7  # characters: about a mid-sized retrieval task, for tasks without stats
_SHARD = re.compile(r"^(\d+)/(\d+)$")


def parse_shard(text: str, name: str = "shard") -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``; anything else is a UsageError naming the
    setting ``name``."""
    match = _SHARD.match(str(text).strip())
    if not match or not int(match.group(1)) < int(match.group(2)):
        raise UsageError(f"{name} must look like i/n with 0 <= i < n (e.g. {name}=0/3), "
                           f"got {text!r}")
    return int(match.group(1)), int(match.group(2))


def task_cost(task: AbsTask) -> float:
    """Estimated characters ``task`` encodes; ``FALLBACK_COST`` when mteb has no statistics."""
    if getattr(task, "is_aggregate", False):
        return float(sum(task_cost(part) for part in task.tasks))
    try:
        stats = task.metadata.descriptive_stats
    except (OSError, ValueError):
        stats = None
    if not stats:
        return FALLBACK_COST
    selected = list(getattr(task, "hf_subsets", None) or [])
    total = 0.0
    for split in task.metadata.eval_splits:
        block = stats.get(split)
        if not block:
            continue
        per_subset = stats_subsets(block)
        if selected and set(selected) < set(per_subset):
            total += sum(stats_characters(per_subset[s]) for s in selected if s in per_subset)
        else:
            total += stats_characters(block)
    return total or FALLBACK_COST


def assign_shards(costs: dict[str, float], n: int) -> list[list[str]]:
    """Greedy LPT: task names into ``n`` lists, each sorted by name; ties go to the lower
    shard, so the result depends only on ``costs`` and ``n``."""
    loads = [0.0] * n
    shards: list[list[str]] = [[] for _ in range(n)]
    for name in sorted(costs, key=lambda t: (-costs[t], t)):
        target = min(range(n), key=lambda i: (loads[i], i))
        shards[target].append(name)
        loads[target] += costs[name]
    return [sorted(s) for s in shards]


def shard_tasks(tasks: Sequence[AbsTask], shard: str) -> list[AbsTask]:
    """The tasks of shard ``i/n`` of ``tasks``, in their original order."""
    index, count = parse_shard(shard)
    costs = {t.metadata.name: task_cost(t) for t in tasks}
    keep = set(assign_shards(costs, count)[index])
    return [t for t in tasks if t.metadata.name in keep]
