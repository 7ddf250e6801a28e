"""Report figures as PNG bytes: MTEB category bars per model and MRL score-vs-dim curves.

Figures are built with matplotlib's object API (``Figure``, rendered by the Agg canvas), so no
pyplot state or display backend is involved.
"""

from __future__ import annotations

import io
import math

import pandas as pd
from matplotlib.figure import Figure

from harness.report.table import MTEB_CATEGORIES

AVERAGE = "Average"
DPI = 110


def category_means(scores: pd.DataFrame, expected: dict[str, str]) -> pd.DataFrame:
    """Mean main score x100 per label (rows) over its own tasks: ``Average``, then one column
    per category in MTEB order. Only tasks of ``expected`` (task -> category) count."""
    own = scores[scores["task"].isin(expected)].drop_duplicates(["label", "task"])
    own = own.assign(category=own["task"].map(expected))
    means = own.pivot_table(index="label", columns="category", values="main_score",
                            aggfunc="mean", sort=False) * 100
    ordered = [c for c in MTEB_CATEGORIES if c in means.columns]
    means = means[ordered + sorted(set(means.columns) - set(ordered))]
    means.insert(0, AVERAGE, own.groupby("label", sort=False)["main_score"].mean() * 100)
    means.columns.name = None
    return means.reindex(own["label"].unique())


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def category_chart(means: pd.DataFrame) -> bytes:
    """Grouped bars: one group per column of ``means``, one bar per label (row)."""
    labels, groups = list(means.index), list(means.columns)
    width = 0.8 / len(labels)
    fig = Figure(figsize=(max(8.0, len(groups) * (0.6 + 0.18 * len(labels))), 4.8),
                 layout="constrained")
    ax = fig.subplots()
    for i, label in enumerate(labels):
        offset = (i - (len(labels) - 1) / 2) * width
        ax.bar([g + offset for g in range(len(groups))], means.loc[label].to_numpy(), width,
               label=label)
    ax.set_xticks(range(len(groups)), groups, rotation=20, ha="right")
    ax.set_ylabel("main score x100")
    ax.set_title("Mean main score per MTEB category")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return _png(fig)


def mrl_means(scores: pd.DataFrame, expected: dict[str, str]) -> pd.DataFrame:
    """:func:`category_means` of the dim runs of models scored at two or more dims, with
    ``model`` and ``dim`` columns added; empty when no model has several dims."""
    runs = scores.dropna(subset=["dim"])
    dims_per_model = runs.groupby("model")["dim"].nunique()
    runs = runs[runs["model"].isin(dims_per_model[dims_per_model >= 2].index)]
    if runs.empty:
        return pd.DataFrame()
    keys = runs.drop_duplicates("label").set_index("label")[["model", "dim"]]
    return category_means(runs, expected).join(keys.astype({"dim": int}))


def mrl_chart(means: pd.DataFrame) -> bytes:
    """Score vs dim (log2 x axis) from :func:`mrl_means`: one panel per category plus the
    average, one line per model."""
    panels = [c for c in means.columns if c not in ("model", "dim")]
    nrows = math.ceil(len(panels) / 4)
    ncols = math.ceil(len(panels) / nrows)
    fig = Figure(figsize=(4.0 * ncols, 3.3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    ticks = sorted(means["dim"].unique())
    for ax, panel in zip(axes, panels, strict=False):
        for model, runs in means.groupby("model", sort=False):
            runs = runs.sort_values("dim")
            ax.plot(runs["dim"], runs[panel], marker="o", label=model)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_title(panel)
        ax.set_xlabel("dim")
        ax.grid(alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].set_ylabel("main score x100")
    axes[0].legend(fontsize="small")
    fig.suptitle("Matryoshka (MRL) curves: main score x100 vs embedding dim")
    return _png(fig)
