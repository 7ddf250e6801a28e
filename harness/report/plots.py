"""Report figures as PNG bytes, each with a text description of what it draws.

- category bars: mean main score per MTEB category (and overall) over the tasks every run has;
- reproduction deltas: ours minus published per task, the tolerance band shaded;
- MRL curves: score vs embedding dim per category (and overall), the default dim marked.

Figures are built with matplotlib's object API (``Figure``, rendered by the Agg canvas), so no
pyplot state or display backend is involved. Scores are drawn x100.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from harness.report.table import category_rank

AVERAGE = "Average"
DPI = 110
OFF_COLOUR = "#c62828"
BAND_COLOUR = "#2e7d32"
PARTIAL_HATCH = "///"


@dataclass(frozen=True)
class Chart:
    """A rendered figure: the PNG, its description (alt text) and lines to print under it."""

    png: bytes
    alt: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GroupMeans:
    """Mean main score x100 per run (rows) and group (columns: ``Average`` when there are
    several categories, then the categories in MTEB order), over the shared tasks only."""

    means: pd.DataFrame
    counts: dict[str, tuple[int, int]]  # group -> (shared tasks, expected tasks)
    runs: int

    @property
    def shared(self) -> int:
        """How many tasks every run has (the tasks the bars average)."""
        return sum(k for group, (k, _) in self.counts.items() if group != AVERAGE)

    def count_label(self, group: str) -> str:
        """``12 tasks`` (``1 task``) for a complete group, ``3/6 tasks`` for a partial one."""
        shared, expected = self.counts[group]
        return plural(expected, "task") if shared == expected else f"{shared}/{expected} tasks"

    def partial(self, group: str) -> bool:
        """The group's bars cover only some of its expected tasks."""
        shared, expected = self.counts[group]
        return shared < expected

    @property
    def undrawn(self) -> str | None:
        """``Not drawn, no task every run has: ...`` naming the groups without shared tasks."""
        missing = [f"{g} (0/{n} tasks)" for g, (k, n) in self.counts.items() if k == 0]
        return "Not drawn, no task every run has: " + "; ".join(missing) if missing else None

    def describe(self) -> str:
        """Each drawn group with its task count, partial ones and undrawn ones named."""
        drawn = [f"{g} ({self.count_label(g)}{', partial' if self.partial(g) else ''})"
                 for g in self.means.columns]
        return "; ".join(drawn) + (f". {self.undrawn}" if self.undrawn else "")


def plural(n: int, word: str) -> str:
    """``1 task``, ``3 tasks``."""
    return f"{n} {word}{'s' * (n != 1)}"


def all_runs(runs: int) -> str:
    """``both runs`` or ``all 5 runs`` (for titles and captions)."""
    return "both runs" if runs == 2 else f"all {runs} runs"


def _ordered(categories: set[str]) -> list[str]:
    return sorted(categories, key=lambda c: (category_rank(c), c))


def shared_tasks(scores: pd.DataFrame, expected: Mapping[str, str]) -> set[str]:
    """Tasks of ``expected`` that every run (``label``) of ``scores`` has."""
    per_run = scores[scores["task"].isin(expected)].groupby("label")["task"].agg(set)
    return set.intersection(*per_run) if len(per_run) else set()


def group_means(scores: pd.DataFrame, expected: Mapping[str, str]) -> GroupMeans:
    """:class:`GroupMeans` of ``scores`` over the tasks of ``expected`` (task -> category) that
    every run has; ``Average`` only when more than one category has such tasks."""
    shared = shared_tasks(scores, expected)
    categories = _ordered(set(expected.values()))
    counts = {c: (sum(1 for t in shared if expected[t] == c),
                  sum(1 for t in expected if expected[t] == c)) for c in categories}
    runs = list(scores["label"].unique())
    own = scores[scores["task"].isin(shared)].drop_duplicates(["label", "task"])
    own = own.assign(category=own["task"].map(expected))
    means = own.pivot_table(index="label", columns="category", values="main_score",
                            aggfunc="mean", sort=False) * 100
    means = means.reindex(index=runs, columns=[c for c in categories if counts[c][0]])
    if len(means.columns) > 1:
        means.insert(0, AVERAGE, own.groupby("label")["main_score"].mean() * 100)
        counts = {AVERAGE: (len(shared), len(expected)), **counts}
    means.columns.name = None
    return GroupMeans(means, counts, len(runs))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


RUN_COLOURS = ["C0", "C1", "C2", "C4", "C5", "C6", "C8", "C9", "C7"]  # no C3: red marks misses


def _colours(n: int) -> list[str]:
    return [RUN_COLOURS[i % len(RUN_COLOURS)] for i in range(n)]


def category_chart(groups: GroupMeans) -> Chart:
    """:func:`category_figure` rendered, with its description."""
    runs = "1 run" if groups.runs == 1 else f"{groups.runs} runs, over the tasks all share"
    alt = (f"Bar chart of the mean main score x100 per MTEB category ({runs}), partial "
           f"categories hatched: {groups.describe()}.")
    return Chart(_png(category_figure(groups)), alt, [groups.undrawn] if groups.undrawn else [])


def category_figure(groups: GroupMeans) -> Figure:
    """Grouped bars of :func:`group_means`: one group per category, one bar per run; bars of
    a partial group hatched and its ``k/n`` task count in the group label."""
    labels, names = list(groups.means.index), list(groups.means.columns)
    width = 0.8 / len(labels)
    fig = Figure(figsize=(len(names) * (0.9 + 0.3 * len(labels)) + 4.5, 4.8),
                 layout="constrained")
    ax = fig.subplots()
    partial = [groups.partial(g) for g in names]
    colours = _colours(len(labels))
    for i, (label, colour) in enumerate(zip(labels, colours, strict=True)):
        offset = (i - (len(labels) - 1) / 2) * width
        bars = ax.bar([g + offset for g in range(len(names))],
                      groups.means.loc[label].to_numpy(), width, color=colour, edgecolor=colour)
        for patch, is_partial in zip(bars, partial, strict=True):
            if is_partial:  # light fill, hatched in the run's colour
                patch.set_facecolor("white")
                patch.set_hatch(PARTIAL_HATCH)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    ax.set_xticks(range(len(names)), [f"{g}\n{groups.count_label(g)}" for g in names])
    ax.set_ylabel("mean main score x100")
    ax.margins(y=0.12)  # room for the value labels
    shared = "" if groups.runs == 1 else f"\nover the tasks {all_runs(groups.runs)} share"
    ax.set_title(f"Mean main score per MTEB category{shared}")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [Patch(color=c, label=label) for label, c in zip(labels, colours, strict=True)]
    if any(partial):
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch=PARTIAL_HATCH,
                             label="partial: k/n of the\ncategory's tasks"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return fig


Intervals = Mapping[tuple[str, str], tuple[float, float]]


def delta_chart(deltas: pd.DataFrame, tolerance: float, intervals: Intervals | None = None
                ) -> Chart:
    """:func:`delta_figure` rendered, with its description and the tasks outside the
    tolerance (each run's delta x100) as the line under it."""
    band = tolerance * 100
    runs = list(deltas["run"].unique())
    order = _task_order(deltas)
    categories = list(order["category"].unique())
    outside = deltas[deltas["off"]].groupby("task", sort=False)[["run", "delta"]].apply(
        lambda rows: ", ".join(f"{r.run} {r.delta * 100:+.2f}" for r in rows.itertuples()))
    outside = outside.reindex([t for t in order["task"] if t in outside.index])
    note = (f"Outside the tolerance (±{band:g}): "
            + "; ".join(f"{task} ({found})" for task, found in outside.items())
            if len(outside) else f"Every task is within the tolerance (±{band:g}).")
    alt = (f"Dot plot of ours minus published x100 for {plural(len(order), 'task')} in "
           f"{', '.join(categories)}, one marker series per run ({', '.join(runs)}), "
           f"tolerance band ±{band:g} shaded; {plural(len(outside), 'task')} outside it"
           + (f": {', '.join(outside.index)}." if len(outside) else "."))
    return Chart(_png(delta_figure(deltas, tolerance, intervals)), alt, [note])


def _task_order(deltas: pd.DataFrame) -> pd.DataFrame:
    """One row per task of ``deltas``, in the figure's order: MTEB categories, then names."""
    order = deltas.drop_duplicates("task").assign(rank=lambda f: f["category"].map(category_rank))
    return order.sort_values(["rank", "category", "task"])


def delta_figure(deltas: pd.DataFrame, tolerance: float, intervals: Intervals | None = None
                 ) -> Figure:
    """Ours minus published x100 per task: one row per task (grouped under bold category
    headers), one marker series per run, the ``tolerance`` band shaded, tasks outside it in
    red with their deltas in the right margin.

    ``deltas`` has columns ``run``, ``task``, ``category``, ``delta`` (mteb's 0-1 scale) and
    ``off``; ``intervals`` maps ``(run, task)`` to a paired interval ``(low, high)`` of the
    delta on the same scale, drawn as error bars where given. The x axis is linear inside the
    band and logarithmic beyond it, so a 0.05-point miss and a 10-point one both stay legible.
    """
    order = _task_order(deltas)
    rows, ticks, headers = {}, [], []  # task -> y; (y, label) of every tick; header ys
    for (_, category), tasks in order.groupby(["rank", "category"], sort=False)["task"]:
        headers.append(len(ticks))
        ticks.append((len(ticks), category))
        for task in tasks:
            rows[task] = len(ticks)
            ticks.append((len(ticks), task))
    runs = list(deltas["run"].unique())
    fig = Figure(figsize=(9.5, 0.27 * len(ticks) + 2.0), layout="constrained")
    ax = fig.subplots()
    band = tolerance * 100
    ax.axvspan(-band, band, color=BAND_COLOUR, alpha=0.15, lw=0, label=f"tolerance ±{band:g}")
    ax.axvline(0, color="0.4", lw=0.8)
    spread = 0.5 / len(runs)
    for i, (run, colour) in enumerate(zip(runs, _colours(len(runs)), strict=True)):
        found = deltas[deltas["run"] == run]
        ys = found["task"].map(rows).to_numpy() + (i - (len(runs) - 1) / 2) * spread
        xs = found["delta"].to_numpy() * 100
        if intervals:
            bars = [intervals.get((run, t)) for t in found["task"]]
            lows = [np.nan if b is None else x - b[0] * 100 for b, x in zip(bars, xs, strict=True)]
            highs = [np.nan if b is None else b[1] * 100 - x for b, x in zip(bars, xs, strict=True)]
            ax.errorbar(xs, ys, xerr=[lows, highs], fmt="none", ecolor=colour, elinewidth=1,
                        capsize=3)
        ax.scatter(xs, ys, s=36, color=colour, label=run, zorder=3)
        off = found["off"].to_numpy(dtype=bool)
        ax.scatter(xs[off], ys[off], s=150, facecolors="none", edgecolors=OFF_COLOUR, lw=1.8,
                   zorder=4)
    ax.set_xscale("symlog", linthresh=max(band, 0.01), linscale=1.5)
    reach = max(float(np.abs(deltas["delta"]).max()) * 100, band, 0.01)
    ax.set_xlim(-reach * 1.8, reach * 1.8)  # symmetric: misses up and down look alike
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
    ax.set_yticks([y for y, _ in ticks], [label for _, label in ticks], fontsize=8)
    off_deltas = deltas[deltas["off"]].groupby("task")["delta"].agg(list)
    for y, tick in zip([y for y, _ in ticks], ax.get_yticklabels(), strict=True):
        if y in headers:
            tick.set_fontweight("bold")
            tick.set_fontsize(9)
            ax.axhline(y - 0.5, color="0.75", lw=0.8)
        elif tick.get_text() in off_deltas:
            tick.set_color(OFF_COLOUR)
            tick.set_fontweight("bold")
            values = " / ".join(f"{d * 100:+.2f}" for d in off_deltas[tick.get_text()])
            ax.text(1.01, y, values, transform=ax.get_yaxis_transform(), va="center",
                    fontsize=8, color=OFF_COLOUR)
    ax.set_ylim(len(ticks) - 0.5, -0.5)  # first category on top
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("ours - published, x100 (linear within the band, log beyond)")
    ax.set_title("Reproduction: ours minus published score per task")
    ax.grid(axis="x", alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if len(off_deltas):
        handles.append(Line2D([], [], marker="o", ms=12, ls="none", mfc="none",
                              mec=OFF_COLOUR, mew=1.8, label="outside tolerance"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4),
               fontsize="small")
    return fig


@dataclass(frozen=True)
class Curves:
    """:class:`GroupMeans` of the runs on MRL curves, with each run's model and dim and each
    model's default dim (``None`` when no run manifest records one)."""

    groups: GroupMeans
    points: pd.DataFrame  # label -> model, dim
    default_dims: dict[str, int | None]


def mrl_curves(scores: pd.DataFrame, expected: Mapping[str, str]) -> Curves | None:
    """The curves of models scored at two or more dims, over the tasks all their runs share;
    ``None`` when no model has several dims.

    ``scores`` needs ``curve_dim`` (the dim a run was scored at, NaN when unknown) and
    ``default_dim`` (the recipe's default dim, NaN when unknown) besides ``load_scores``' columns.
    """
    placed = scores.dropna(subset=["curve_dim"])
    first = placed.drop_duplicates(["model", "curve_dim"])["label"]  # one run per model and dim
    runs = placed[placed["label"].isin(first)]
    dims_per_model = runs.groupby("model")["curve_dim"].nunique()
    runs = runs[runs["model"].isin(dims_per_model[dims_per_model >= 2].index)]
    if runs.empty:
        return None
    points = runs.drop_duplicates("label").set_index("label")[["model", "curve_dim"]]
    defaults = runs.groupby("model", sort=False)["default_dim"].first()
    return Curves(group_means(runs, expected),
                  points.rename(columns={"curve_dim": "dim"}).astype({"dim": int}),
                  {m: None if pd.isna(d) else int(d) for m, d in defaults.items()})


def mrl_chart(curves: Curves) -> Chart:
    """:func:`mrl_figure` rendered, with its description."""
    dims = sorted(curves.points["dim"].unique())
    marked = ", ".join(f"{m} {'unknown' if d is None else d}"
                       for m, d in curves.default_dims.items())
    alt = (f"Line charts of the main score x100 vs embedding dim, one line per model "
           f"({', '.join(curves.default_dims)}) at dims {', '.join(map(str, dims))}; panels: "
           f"{curves.groups.describe()}; default dim starred: {marked}.")
    return Chart(_png(mrl_figure(curves)), alt)


def mrl_figure(curves: Curves) -> Figure:
    """Score vs dim (log2 x axis): one panel per group of :class:`Curves`, one line per model,
    each model's default dim starred."""
    means = curves.groups.means.join(curves.points)
    panels = list(curves.groups.means.columns)
    nrows = math.ceil(len(panels) / 4)
    ncols = math.ceil(len(panels) / nrows)
    fig = Figure(figsize=(4.2 * ncols + 2.6, 3.4 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    ticks = sorted(means["dim"].unique())
    models = list(means["model"].unique())
    for ax, panel in zip(axes, panels, strict=False):
        for model, colour in zip(models, _colours(len(models)), strict=True):
            line = means[means["model"] == model].sort_values("dim")
            ax.plot(line["dim"], line[panel], marker="o", color=colour, label=model)
            default = line[line["dim"] == curves.default_dims[model]]
            ax.plot(default["dim"], default[panel], marker="*", ms=17, ls="none", mfc=colour,
                    mec="black", zorder=4)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=8)
        ax.minorticks_off()
        ax.margins(x=0.08)
        ax.set_title(f"{panel} ({curves.groups.count_label(panel)})")
        ax.set_xlabel("embedding dim")
        ax.grid(alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel("main score x100")
    handles, _ = axes[0].get_legend_handles_labels()
    if set(curves.default_dims.values()) & set(ticks):
        handles.append(Line2D([], [], marker="*", ms=14, ls="none", mfc="0.6", mec="black",
                              label="default dim"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
               fontsize="small")
    shared = "" if curves.groups.runs == 1 else "\nover the tasks all runs on the curves share"
    fig.suptitle(f"MRL curves: main score x100 vs embedding dim{shared}")
    return fig
