"""Paired bootstrap of a main score between two runs on the same items.

Both runs are scored on the same resamples: each resample draws ``n`` items with replacement
(and, for tasks that repeat experiments with seeds, ``E`` experiment indices with replacement,
paired by index because both runs train on the same seeded subsets), and the delta is run B's
main score on it minus run A's. A task with several subsets or splits averages them as mteb's
``TaskResult.get_score`` does, each subset drawn on its own. Category and overall averages are
the per-resample means of their tasks' deltas (tasks drawn independently).

- interval: the percentile interval of the resampled deltas (numpy's linear interpolation);
- p-value: two-sided, ``min(1, 2 * (1 + k) / (B + 1))`` with ``k`` the number of resampled
  deltas on the far side of 0 (``<= 0`` for a positive observed delta, ``>= 0`` otherwise, the
  smaller count) and ``B`` resamples; identical runs give delta 0, interval [0, 0] and p = 1.

Seeds: the generator of a task is ``numpy.random.default_rng([seed, crc32(task name)])``, so a
task's draws do not depend on which other tasks are compared.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from harness.errors import UsageError
from harness.predictions import Scorer

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class Bootstrap:
    """A paired bootstrap of one delta (B - A on mteb's 0-1 scale)."""

    observed: float
    deltas: np.ndarray
    resamples: str  # what was resampled, e.g. "items (1379)"

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % percentile interval of the resampled deltas."""
        tail = (1 - LEVEL) / 2 * 100
        low, high = np.percentile(self.deltas, [tail, 100 - tail])
        return float(low), float(high)

    @property
    def p_value(self) -> float:
        """Two-sided bootstrap p-value of delta = 0 (see the module docstring)."""
        return p_value(self.observed, self.deltas)


def p_value(observed: float, deltas: np.ndarray) -> float:
    """``min(1, 2 (1 + k) / (B + 1))``, ``k`` the resampled deltas beyond 0 against the sign
    of ``observed`` (both sides counted when it is 0)."""
    below, above = int((deltas <= 0).sum()), int((deltas >= 0).sum())
    far = below if observed > 0 else above if observed < 0 else min(below, above)
    return min(1.0, 2 * (1 + far) / (len(deltas) + 1))


def task_generator(seed: int, task: str) -> np.random.Generator:
    """The random generator of one task's resamples."""
    return np.random.default_rng([seed, zlib.crc32(task.encode("utf-8"))])


def draw(rng: np.random.Generator, scorer: Scorer, n_resamples: int
         ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Item and experiment indices of ``n_resamples`` resamples (None for what is not drawn)."""
    items = rng.integers(0, scorer.n_items, (n_resamples, scorer.n_items)) \
        if scorer.n_items else None
    experiments = rng.integers(0, scorer.n_experiments, (n_resamples, scorer.n_experiments)) \
        if scorer.n_experiments > 1 else None
    return items, experiments


def describe(scorer: Scorer) -> str:
    """What the bootstrap of ``scorer`` resamples, with the counts."""
    parts = []
    if scorer.n_items:
        parts.append(f"items ({scorer.n_items})")
    if scorer.n_experiments > 1:
        parts.append(f"experiments ({scorer.n_experiments})")
    return " x ".join(parts) or "nothing"


def paired_bootstrap(task: str, a: dict[tuple[str, str], Scorer],
                     b: dict[tuple[str, str], Scorer], *, n_resamples: int = DEFAULT_RESAMPLES,
                     seed: int = DEFAULT_SEED) -> Bootstrap:
    """Bootstrap of ``task``'s main-score delta B - A from the scorers of each (split, subset);
    both runs must have the same subsets with the same numbers of items and experiments."""
    if n_resamples < 1:
        raise UsageError(f"the number of resamples must be positive, got {n_resamples}")
    if a.keys() != b.keys():
        raise UsageError(f"{task}: the runs were evaluated on different splits/subsets "
                         f"({sorted(a)} vs {sorted(b)})")
    rng = task_generator(seed, task)
    observed, deltas = 0.0, np.zeros(n_resamples)
    for key in sorted(a):
        first, second = a[key], b[key]
        if (first.n_items, first.n_experiments) != (second.n_items, second.n_experiments):
            raise UsageError(f"{task} {key[0]}/{key[1]}: {describe(first)} vs "
                             f"{describe(second)}; a paired test needs the same items")
        items, experiments = draw(rng, first, n_resamples)
        observed += second.score() - first.score()
        deltas += second.resampled(items, experiments) - first.resampled(items, experiments)
    descriptions = sorted({describe(s) for s in a.values()})
    subsets = f"; {len(a)} subsets" if len(a) > 1 else ""
    return Bootstrap(observed / len(a), deltas / len(a), ", ".join(descriptions) + subsets)


def mean_of(boots: list[Bootstrap]) -> Bootstrap:
    """The bootstrap of the average delta of several tasks (each task drawn on its own)."""
    return Bootstrap(float(np.mean([b.observed for b in boots])),
                     np.mean([b.deltas for b in boots], axis=0), f"{len(boots)} tasks")
