"""Contract tests: the scorers compute each main score exactly as the installed mteb's own
metric code does (the task methods and retrieval metrics that harness._compat wraps)."""

from __future__ import annotations

import mteb
import numpy as np
import pytest
from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores, make_score_dict, mrr

from harness import _compat
from harness.predictions.scorers import (
    CLASSIFICATION_METRICS,
    PYTREC_DECIMALS,
    ClassificationScorer,
    MeanScorer,
    PairScorer,
    retrieval_key,
    sts_scorer,
)

RNG = np.random.default_rng(0)


def test_sts_scorer_equals_mteb_for_every_sts_metric():
    task = mteb.get_task("STSBenchmark")
    n = 40
    predictions = {"cosine_scores": RNG.random(n).tolist(),
                   "manhattan_distances": (-RNG.random(n)).tolist(),
                   "euclidean_distances": (-RNG.random(n)).tolist(),
                   "similarity_scores": RNG.random(n).tolist()}
    gold = _compat.sts_gold(task, (RNG.random(n) * 5).tolist())
    expected = _compat.sts_metrics(task, predictions, gold)
    assert len(expected) == 8
    for name, value in expected.items():
        scorer = sts_scorer(name, {"labels": gold, "predictions": predictions})
        assert scorer.score() == value, name


def test_pair_scorer_equals_mteb_compute_metrics():
    task = mteb.get_task("TwitterSemEval2015")
    n = 60
    labels = RNG.integers(0, 2, n).tolist()
    predictions = {"similarity_scores": RNG.random(n).tolist(),
                   "cosine_scores": RNG.random(n).tolist(),
                   "manhattan_distances": (RNG.random(n) * 10).tolist(),
                   "euclidean_distances": RNG.random(n).tolist(),
                   "dot_scores": RNG.random(n).tolist()}
    expected = _compat.pair_metrics(task, predictions, labels)
    for name in ("max_ap", "cosine_ap", "manhattan_ap", "euclidean_ap", "dot_ap",
                 "similarity_ap", "max_accuracy", "cosine_f1"):
        scorer = PairScorer("TwitterSemEval2015", name, labels, predictions)
        assert scorer.score() == pytest.approx(expected[name], abs=1e-15), name
    fast = PairScorer("TwitterSemEval2015", "max_ap", labels, predictions)
    items = RNG.integers(0, n, (3, n))
    slow = [_compat.pair_metrics(task, {k: np.asarray(v)[i].tolist() for k, v in
                                        predictions.items()}, np.asarray(labels)[i].tolist())
            ["max_ap"] for i in items]
    assert fast.resampled(items, None) == pytest.approx(slow, abs=1e-15)


def test_classification_metrics_equal_mteb_calculate_scores():
    task = mteb.get_task("Banking77Classification")
    labels = RNG.integers(0, 5, 50)
    predicted = RNG.integers(0, 5, (3, 50))
    for name in CLASSIFICATION_METRICS:
        scorer = ClassificationScorer("Banking77Classification", name, labels.tolist(),
                                      predicted.tolist())
        expected = np.mean([_compat.classification_metrics(task, labels, p)[name]
                            for p in predicted])
        assert scorer.score() == pytest.approx(expected, abs=1e-15), name
    # accuracy's resamples are per-item correctness means: equal to sklearn on each resample
    items, experiments = RNG.integers(0, 50, (20, 50)), RNG.integers(0, 3, (20, 3))
    scorer = ClassificationScorer("Banking77Classification", "accuracy", labels.tolist(),
                                  predicted.tolist())
    by_sklearn = [np.mean([CLASSIFICATION_METRICS["accuracy"](labels[i], predicted[e][i])
                           for e in drawn]) for i, drawn in zip(items, experiments, strict=True)]
    assert scorer.resampled(items, experiments) == pytest.approx(by_sklearn, abs=1e-15)


def _retrieval_case():
    qrels = {f"q{i}": {f"d{j}": 1 for j in RNG.choice(30, 2, replace=False)} for i in range(12)}
    results = {q: {f"d{j}": float(RNG.random()) for j in range(30)} for q in qrels}
    results["q0"]["q0"] = 0.99  # an identical id, dropped when the task ignores them
    return qrels, results


@pytest.mark.parametrize("main", ["ndcg_at_10", "map_at_100", "recall_at_5", "precision_at_1",
                                  "hit_rate_at_10", "mrr_at_10", "accuracy"])
@pytest.mark.parametrize("ignore_identical", [False, True])
def test_per_query_retrieval_measures_average_to_mteb_scores(main: str, ignore_identical: bool):
    task = mteb.get_task("SciFact")
    task.ignore_identical_ids = ignore_identical
    qrels, results = _retrieval_case()
    per_query = _compat.retrieval_query_scores(task, qrels, results)
    run = {q: {d: s for d, s in docs.items() if not (ignore_identical and d == q)}
           for q, docs in results.items()}
    k_values = list(task.k_values)
    scores = calculate_retrieval_scores(run, qrels, k_values)
    expected = make_score_dict(ndcg=scores.ndcg, _map=scores.map, recall=scores.recall,
                               precision=scores.precision, mrr=scores.mrr, naucs=scores.naucs,
                               naucs_mrr=scores.naucs_mrr, hit_rate=scores.hit_rate,
                               task_scores={})[main]
    key = retrieval_key(main)
    values = [v[key] for v in per_query.values() if key in v]
    assert len(values) == len(qrels)
    scorer = MeanScorer(values, "items", None if main.startswith("mrr") else PYTREC_DECIMALS)
    assert scorer.reproduces(expected), (main, scorer.score(), expected)
    if main.startswith("mrr"):
        assert values == mrr(qrels, run, k_values)["MRR@10"]


def test_main_scores_without_a_per_query_mean_have_no_key():
    assert retrieval_key("p-MRR") is None and retrieval_key("nAUC_ndcg_at_10_max") is None
    assert retrieval_key("ndcg_at_10") == "ndcg_cut_10" and retrieval_key("accuracy") == "recall_1"
