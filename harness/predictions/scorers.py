"""A task's main score from its per-item record, on all items or on resamples of them.

One scorer per task kind turns one subset record (see :mod:`harness.predictions.records`) into
the main score with mteb's own metric: scipy's correlations for STS, sklearn's average precision
(or the task's ``_compute_metrics``) for pair classification, pytrec_eval's per-query measures
averaged for retrieval, sklearn's classification metrics averaged over mteb's experiments, and
the experiments' v-measures for clustering. ``resampled`` scores index resamples (rows of item
indices, rows of experiment indices) drawn by :mod:`harness.report.stats`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
)

from harness import _compat

# STS main-score prefix -> mteb's prediction column ("" = the model's own similarity function)
STS_COLUMNS = {"cosine": "cosine_scores", "manhattan": "manhattan_distances",
               "euclidean": "euclidean_distances", "": "similarity_scores"}
STS_CORRELATIONS = {"pearson": pearsonr, "spearman": spearmanr}
# pair-classification score -> (mteb's prediction column, higher means more similar)
PAIR_COLUMNS = {"similarity": ("similarity_scores", True), "cosine": ("cosine_scores", True),
                "manhattan": ("manhattan_distances", False),
                "euclidean": ("euclidean_distances", False), "dot": ("dot_scores", True)}
# classification metric -> the sklearn call of AbsTaskClassification._calculate_scores
CLASSIFICATION_METRICS: dict[str, Callable] = {
    "accuracy": accuracy_score,
    "f1": partial(f1_score, average="macro"),
    "f1_weighted": partial(f1_score, average="weighted"),
    "precision": partial(precision_score, average="macro"),
    "precision_weighted": partial(precision_score, average="weighted"),
    "recall": partial(recall_score, average="macro"),
    "recall_weighted": partial(recall_score, average="weighted"),
}
# retrieval main score prefix -> per-query key prefix (pytrec_eval's names; mrr from mteb)
RETRIEVAL_KEYS = {"ndcg_at_": "ndcg_cut_", "map_at_": "map_cut_", "recall_at_": "recall_",
                  "precision_at_": "P_", "hit_rate_at_": "success_", "mrr_at_": "mrr_"}
PYTREC_DECIMALS = 5  # mteb rounds the pytrec_eval averages (not mrr) to 5 decimals


def retrieval_key(main_score: str) -> str | None:
    """The per-query measure whose mean is ``main_score`` (None when it is not a mean)."""
    if main_score == "accuracy":  # mteb's multiple-choice retrieval: recall@1
        return "recall_1"
    for prefix, key in RETRIEVAL_KEYS.items():
        k = main_score.removeprefix(prefix)
        if k != main_score and k.isdigit():
            return key + k
    return None


class Scorer(ABC):
    """The main score of one subset from its record. ``n_items`` items (0: items are not
    resampled) and ``n_experiments`` repeated experiments (1: none) can be resampled;
    ``resamples`` says which: ``items``, ``items+experiments`` or ``experiments``;
    ``outcome`` names what :meth:`outcomes` holds per item."""

    outcome = ""

    def __init__(self, n_items: int, n_experiments: int, resamples: str):
        self.n_items, self.n_experiments, self.resamples = n_items, n_experiments, resamples

    @abstractmethod
    def score(self) -> float:
        """The main score on every item and experiment."""

    @abstractmethod
    def resampled(self, items: np.ndarray | None, experiments: np.ndarray | None) -> np.ndarray:
        """The main score of each resample: row ``b`` of ``items`` (item indices) and of
        ``experiments`` (experiment indices)."""

    def reproduces(self, main_score: float) -> bool:
        """Whether :meth:`score` is mteb's ``main_score`` (to float noise, 1e-12)."""
        return math.isclose(self.score(), main_score, rel_tol=0, abs_tol=1e-12)

    def outcomes(self) -> np.ndarray | None:
        """One outcome per item for ``harness diff`` (None when items are not recorded)."""
        return None


class CorrelationScorer(Scorer):
    """STS: a correlation between gold scores and one column of similarities."""

    def __init__(self, gold: list[float], similarity: list[float], correlation: Callable,
                 column: str = ""):
        super().__init__(len(gold), 1, "items")
        self.gold, self.similarity = np.asarray(gold), np.asarray(similarity)
        self.correlation, self.outcome = correlation, column

    def score(self) -> float:
        return float(self.correlation(self.gold, self.similarity)[0])

    def resampled(self, items, experiments):
        return np.array([self.correlation(self.gold[i], self.similarity[i])[0] for i in items])

    def outcomes(self):
        return self.similarity


class PairScorer(Scorer):
    """Pair classification. Average-precision main scores (``<score>_ap``, ``max_ap``) are
    resampled with sklearn's ``average_precision_score`` as mteb computes them; any other main
    score with the task's own ``_compute_metrics``."""

    def __init__(self, task_name: str, main_score: str, labels: list[int], predictions: dict):
        super().__init__(len(labels), 1, "items")
        self.task_name, self.main_score = task_name, main_score
        self.labels = np.asarray(labels, dtype=np.int64)
        self.predictions = {k: np.asarray(v) for k, v in predictions.items() if v is not None}
        name, _, metric = main_score.rpartition("_")
        self.ap_columns = None
        if metric == "ap" and (name == "max" or name in PAIR_COLUMNS):
            self.ap_columns = [PAIR_COLUMNS[n] for n in (PAIR_COLUMNS if name == "max" else [name])]
        self.outcome = self.ap_columns[0][0] if self.ap_columns else "cosine_scores"

    def _metric(self, index: np.ndarray | slice) -> float:
        labels = self.labels[index]
        if self.ap_columns is not None:
            return max(float(average_precision_score(
                labels, self.predictions[column][index] * (1 if higher else -1)))
                for column, higher in self.ap_columns)
        import mteb

        scores = {k: v[index].tolist() for k, v in self.predictions.items()}
        return float(_compat.pair_metrics(mteb.get_task(self.task_name), scores,
                                          labels.tolist())[self.main_score])

    def score(self) -> float:
        return self._metric(slice(None))

    def resampled(self, items, experiments):
        return np.array([self._metric(i) for i in items])

    def outcomes(self):
        return self.predictions[self.outcome]


class MeanScorer(Scorer):
    """Retrieval: the mean of a per-query measure (mteb rounds pytrec_eval means to 5 places);
    clustering: the mean of the experiments' v-measures."""

    def __init__(self, values: list[float], per: str, decimals: int | None = None,
                 measure: str = ""):
        n = len(values)
        super().__init__(n if per == "items" else 0, n if per == "experiments" else 1, per)
        self.values, self.decimals = np.asarray(values, dtype=float), decimals
        self.outcome = measure

    def score(self) -> float:
        return sum(self.values.tolist()) / len(self.values)  # summed in order, as mteb does

    def resampled(self, items, experiments):
        return self.values[items if self.n_items else experiments].mean(axis=1)

    def reproduces(self, main_score: float) -> bool:
        if self.decimals is None:
            return super().reproduces(main_score)
        return round(self.score(), self.decimals) == round(main_score, self.decimals)

    def outcomes(self):
        return self.values if self.n_items else None


class ClassificationScorer(Scorer):
    """Classification: a metric of each experiment's predictions (mteb trains one classifier per
    seed), averaged over the experiments; items and experiments are resampled together.
    Accuracy is resampled as the mean of per-item correctness, which is what sklearn's
    ``accuracy_score`` computes (a thousand sklearn calls per experiment would take seconds);
    the other metrics call sklearn on every resample."""

    def __init__(self, task_name: str, main_score: str, labels: list, predictions: list[list]):
        super().__init__(len(labels), len(predictions), "items+experiments")
        self.task_name, self.main_score = task_name, main_score
        self.outcome = "share of experiments right"
        self.labels, self.predictions = np.asarray(labels), np.asarray(predictions)

    def _metric(self, labels: np.ndarray, predicted: np.ndarray) -> float:
        if self.main_score in CLASSIFICATION_METRICS:
            return float(CLASSIFICATION_METRICS[self.main_score](labels, predicted))
        import mteb

        return float(_compat.classification_metrics(
            mteb.get_task(self.task_name), labels, predicted)[self.main_score])

    def score(self) -> float:
        return float(np.mean([self._metric(self.labels, p) for p in self.predictions]))

    def resampled(self, items, experiments):
        if self.main_score == "accuracy":
            correct = self.predictions == self.labels
            return correct[experiments[:, :, None], items[:, None, :]].mean(axis=(1, 2))
        out = np.empty(len(items))
        for b, (index, drawn) in enumerate(zip(items, experiments, strict=True)):
            chosen, counts = np.unique(drawn, return_counts=True)
            scores = [self._metric(self.labels[index], self.predictions[e][index]) for e in chosen]
            out[b] = float(np.dot(scores, counts) / counts.sum())
        return out

    def outcomes(self):
        return (self.predictions == self.labels).mean(axis=0)


def sts_scorer(main_score: str, entry: dict) -> Scorer | None:
    """The scorer of an STS main score (``cosine_spearman``, ``pearson``, ...)."""
    prefix, _, correlation = main_score.rpartition("_")
    if correlation not in STS_CORRELATIONS or prefix not in STS_COLUMNS:
        return None
    predictions = entry["predictions"]
    column = STS_COLUMNS[prefix]
    if predictions.get(column) is None:  # no similarity function: mteb falls back to cosine
        column = STS_COLUMNS["cosine"]
    return CorrelationScorer(entry["labels"], predictions[column], STS_CORRELATIONS[correlation],
                             column)


def scorer_for(kind: str, task_name: str, main_score: str, entry: dict) -> Scorer | None:
    """The scorer of one subset record of ``kind``; None when the kind or main score has no
    per-item statistic (the record then only keeps mteb's predictions)."""
    if kind == "sts":
        return sts_scorer(main_score, entry)
    if kind == "pair":
        return PairScorer(task_name, main_score, entry["labels"], entry["predictions"])
    if kind == "retrieval" and entry.get("values") is not None:
        decimals = None if main_score.startswith("mrr_") else PYTREC_DECIMALS
        return MeanScorer(entry["values"], "items", decimals, entry.get("measure", ""))
    if kind == "classification":
        return ClassificationScorer(task_name, main_score, entry["labels"],
                                    entry["predictions"])
    if kind == "clustering" and entry.get("experiments"):
        return MeanScorer(entry["experiments"], "experiments")
    return None
