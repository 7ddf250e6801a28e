"""The paired bootstrap against references: every resample of a small case enumerated, the
normal approximation of a mean on a large one, and the definitions of interval and p-value."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import norm

from harness.errors import UsageError
from harness.predictions.scorers import ClassificationScorer, MeanScorer
from harness.report.stats import (
    DEFAULT_RESAMPLES,
    Bootstrap,
    mean_of,
    p_value,
    paired_bootstrap,
)

KEY = ("test", "default")


def per_query(values) -> dict:
    return {KEY: MeanScorer(list(values), "items")}


def test_interval_matches_every_resample_of_five_items_enumerated():
    """n=5: the exact bootstrap distribution has 5**5 equally likely resamples; the seeded
    Monte-Carlo interval must approach its percentiles."""
    a = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    b = a + np.array([0.3, -0.1, 0.2, 0.05, 0.4])
    exact = np.array([(b[list(i)] - a[list(i)]).mean()
                      for i in itertools.product(range(5), repeat=5)])
    low, high = np.percentile(exact, [2.5, 97.5])
    boot = paired_bootstrap("T", per_query(a), per_query(b), n_resamples=40_000, seed=3)
    assert boot.observed == pytest.approx((b - a).mean(), abs=1e-15)
    assert boot.interval == pytest.approx((low, high), abs=0.006)
    # the share of exact resamples on the far side of 0 is the p-value's reference
    exact_p = 2 * (exact <= 0).mean()
    assert boot.p_value == pytest.approx(exact_p, abs=0.01)


def test_interval_and_p_follow_the_normal_approximation_of_a_mean():
    rng = np.random.default_rng(0)
    n = 4000
    a = rng.normal(0.5, 0.2, n)
    d = rng.normal(0.0, 0.1, n)
    d += 2.2 * d.std() / math.sqrt(n) - d.mean()  # z = 2.2 by construction
    boot = paired_bootstrap("T", per_query(a), per_query(a + d), n_resamples=4000, seed=0)
    se = d.std() / math.sqrt(n)
    low, high = boot.interval
    assert low == pytest.approx(d.mean() - 1.96 * se, abs=0.1 * 1.96 * se)
    assert high == pytest.approx(d.mean() + 1.96 * se, abs=0.1 * 1.96 * se)
    assert boot.p_value == pytest.approx(2 * norm.sf(2.2), abs=0.012)


def test_a_run_against_itself_has_delta_zero_and_p_one():
    values = np.random.default_rng(1).random(50)
    boot = paired_bootstrap("T", per_query(values), per_query(values))
    assert boot.observed == 0 and boot.interval == (0.0, 0.0) and boot.p_value == 1.0
    assert len(boot.deltas) == DEFAULT_RESAMPLES


def test_p_value_counts_the_far_side_with_one_added():
    deltas = np.array([0.2, 0.1, -0.05, 0.3])
    assert p_value(0.1, deltas) == pytest.approx(2 * (1 + 1) / 5)
    assert p_value(-0.1, deltas) == 1.0  # 3 of 4 are >= 0: clipped
    assert p_value(0.1, np.full(999, 0.5)) == pytest.approx(2 / 1000)


def test_draws_are_seeded_per_task():
    a, b = np.random.default_rng(2).random((2, 30))
    first = paired_bootstrap("T", per_query(a), per_query(b), seed=5).deltas
    assert np.array_equal(first, paired_bootstrap("T", per_query(a), per_query(b), seed=5).deltas)
    assert not np.array_equal(first, paired_bootstrap("T", per_query(a), per_query(b),
                                                      seed=6).deltas)
    assert not np.array_equal(first, paired_bootstrap("U", per_query(a), per_query(b),
                                                      seed=5).deltas)


def test_subsets_average_and_categories_average_per_resample():
    rng = np.random.default_rng(3)
    a = {("test", "en"): MeanScorer(list(rng.random(20)), "items"),
         ("test", "de"): MeanScorer(list(rng.random(30)), "items")}
    b = {k: MeanScorer(list(v.values + 0.1), "items") for k, v in a.items()}
    boot = paired_bootstrap("T", a, b, n_resamples=200)
    assert boot.observed == pytest.approx(0.1)
    assert np.allclose(boot.deltas, 0.1)  # a constant shift survives every resample
    other = Bootstrap(0.3, np.full(200, 0.3), "items (5)")
    average = mean_of([boot, other])
    assert average.observed == pytest.approx(0.2) and np.allclose(average.deltas, 0.2)


def test_classification_resamples_items_and_experiments_together():
    labels = [0, 1, 2, 0, 1, 2, 0, 1]
    runs = [[0, 1, 2, 0, 1, 2, 0, 1], [0, 1, 1, 0, 1, 2, 2, 1], [1, 1, 2, 0, 0, 2, 0, 1]]
    scorer = ClassificationScorer("T", "accuracy", labels, runs)
    assert scorer.score() == pytest.approx(np.mean([1.0, 6 / 8, 6 / 8]))
    items = np.array([np.arange(8), np.zeros(8, dtype=int)])
    experiments = np.array([[0, 0, 1], [2, 2, 2]])
    # row 0: all items, experiments 0, 0, 1; row 1: item 0 eight times, experiment 2 (wrong)
    assert scorer.resampled(items, experiments) == pytest.approx([(1 + 1 + 6 / 8) / 3, 0.0])
    boot = paired_bootstrap("T", {KEY: scorer}, {KEY: scorer}, n_resamples=50)
    assert boot.resamples == "items (8) x experiments (3)" and boot.p_value == 1.0


def test_runs_on_different_items_are_refused():
    with pytest.raises(UsageError, match="same items"):
        paired_bootstrap("T", per_query([0.1, 0.2]), per_query([0.1, 0.2, 0.3]))
    with pytest.raises(UsageError, match="different splits"):
        paired_bootstrap("T", per_query([0.1]), {("dev", "default"): MeanScorer([0.1], "items")})


def test_the_cli_defaults_are_the_bootstrap_defaults():
    from harness import api
    from harness.report import stats

    assert (api.DEFAULT_RESAMPLES, api.DEFAULT_SEED) == (stats.DEFAULT_RESAMPLES,
                                                         stats.DEFAULT_SEED)
