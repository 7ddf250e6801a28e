"""The score-vs-storage figure: main score against bytes per vector for every (dim, precision)
run of a model, one panel per MTEB category plus the average, each model's Pareto front drawn.

Bytes per vector come from the run manifests (``bytes_per_vector``: 4 bytes a value for float32,
1 for int8, 1 bit for ubinary); a run without them is left out. A point is on the front when no
other run of the same model is at most as large and scores at least as high.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from harness.report.plots import AVERAGE, Chart, _png, group_means
from harness.results import find_run_folders, read_manifest

FIGURE = "pareto.png"
TITLE = "Main score vs bytes per vector across dims and storage precisions"
MARKERS = {"none": "o", "int8": "s", "ubinary": "^"}


def run_bytes(results_dir: str | Path) -> dict[str, int]:
    """Label -> bytes per vector of each run whose manifest records one value for it."""
    found = {}
    for run in find_run_folders(results_dir):
        sizes = {t.get("bytes_per_vector") for t in read_manifest(run.path).get("tasks", {})
                 .values()} - {None}
        if len(sizes) == 1:
            found[run.label] = int(sizes.pop())
    return found


def pareto_points(scores: pd.DataFrame, expected: dict[str, str], sizes: dict[str, int]
                  ) -> pd.DataFrame:
    """Category means x100 over the tasks every run shares (:func:`group_means`) of the runs
    with a known size, with
    ``model``, ``quantize`` and ``bytes`` columns, for models with two or more such runs;
    empty when there are none."""
    runs = scores[scores["label"].isin(sizes)]
    counts = runs.groupby("model")["label"].nunique()
    runs = runs[runs["model"].isin(counts[counts >= 2].index)]
    if runs.empty:
        return pd.DataFrame()
    keys = runs.drop_duplicates("label").set_index("label")[["model", "quantize"]]
    means = group_means(runs, expected).means.join(keys)
    return means.assign(bytes=means.index.map(sizes))


def pareto_front(points: pd.DataFrame, column: str) -> pd.DataFrame:
    """The points no other point dominates (fewer or equal bytes and a higher or equal score,
    better in one), by increasing size."""
    ordered = points.dropna(subset=[column]).sort_values(["bytes", column],
                                                         ascending=[True, False])
    best, keep = -math.inf, []
    for label, row in ordered.iterrows():
        if row[column] > best:
            keep.append(label)
            best = row[column]
    return ordered.loc[keep]


def pareto_chart(points: pd.DataFrame) -> Chart:
    """One panel per category (and the average): every run as a point (marker = precision),
    each model's Pareto front as a line; bytes on a log2 axis."""
    panels = [c for c in points.columns if c not in ("model", "quantize", "bytes")]
    panels = [AVERAGE, *[p for p in panels if p != AVERAGE]] if AVERAGE in panels else panels
    nrows = math.ceil(len(panels) / 4)
    ncols = math.ceil(len(panels) / nrows)
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, panel in zip(axes, panels, strict=False):
        for i, (model, runs) in enumerate(points.groupby("model", sort=False)):
            color = f"C{i}"
            for quantize, group in runs.groupby("quantize", sort=False):
                ax.scatter(group["bytes"], group[panel], marker=MARKERS.get(quantize, "x"),
                           color=color, label=f"{model} {quantize}")
            front = pareto_front(runs, panel)
            ax.plot(front["bytes"], front[panel], color=color, alpha=0.6)
        ax.set_xscale("log", base=2)
        ax.set_title(panel)
        ax.set_xlabel("bytes per vector")
        ax.grid(alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].set_ylabel("main score x100")
    axes[0].legend(fontsize="x-small")
    fig.suptitle(f"{TITLE} (line: Pareto front)")
    models = ", ".join(points["model"].unique())
    alt = (f"Scatter of main score x100 vs bytes per vector, one panel per group "
           f"({', '.join(panels)}), points per dim and precision of {models}, Pareto fronts "
           "as lines.")
    return Chart(_png(fig), alt)
