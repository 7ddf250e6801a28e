"""The leaderboard table: per-task main scores x100, MTEB category averages, overall average.

Layout follows the seed model cards ("Average (56) | Classification (12) | ..."). A category
(or the average) that lacks some of its expected tasks is shown as incomplete, e.g.
``62.10 (11/12)``, never averaged as if it were complete.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from harness.errors import UsageError
from harness.protocol import protocol_label
from harness.registry import Registry

MTEB_CATEGORIES = ["Classification", "Clustering", "PairClassification", "Reranking",
                   "Retrieval", "STS", "Summarization"]


def expected_tasks(scores: pd.DataFrame, benchmark_tasks: dict[str, str] | None) -> dict[str, str]:
    """Task -> category that every row should have: the named benchmark's, else all seen."""
    if benchmark_tasks:
        return dict(benchmark_tasks)
    seen = with_local_task_types(scores).dropna(subset=["task_type"]).drop_duplicates("task")
    return dict(zip(seen["task"], seen["task_type"], strict=True))


def with_local_task_types(scores: pd.DataFrame) -> pd.DataFrame:
    """Fill the type of tasks mteb's registry does not know: the harness's long-text sets."""
    from harness.longtext import is_longtext_task

    local = scores["task_type"].isna() & scores["task"].map(is_longtext_task)
    return scores.assign(task_type=scores["task_type"].mask(local, "Retrieval"))


def longtext_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The stella card's long-text layout: one row per set, one column per model (Recall@5
    x100), the Average row last."""
    from harness.longtext import LONGTEXT_SETS

    sets = [name for name in LONGTEXT_SETS if name in set(scores["task"])]
    if not sets:
        raise UsageError(f"no long-text results; valid sets: {', '.join(LONGTEXT_SETS)}")
    wide = scores[scores["task"].isin(sets)].pivot_table(
        index="task", columns="label", values="main_score", aggfunc="first", sort=False) * 100
    wide = wide.reindex(sets)
    wide.loc["Average"] = wide.mean(skipna=False)
    wide.index.name = "Dataset"
    return wide.reset_index()


def _cell(values: pd.Series, expected: int) -> str:
    if values.empty:
        return f"- (0/{expected})"
    mean = f"{values.mean() * 100:.2f}"
    return mean if len(values) == expected else f"{mean} ({len(values)}/{expected})"


def summary_table(scores: pd.DataFrame, benchmark_tasks: dict[str, str] | None = None
                  ) -> pd.DataFrame:
    """One row per model (and dim): Average (n), one column per category (k tasks) and, when
    ``scores`` has them, the protocol ids its tasks were made under (``harness.protocol``)."""
    expected = expected_tasks(scores, benchmark_tasks)
    categories = [c for c in MTEB_CATEGORIES if c in expected.values()]
    categories += sorted(set(expected.values()) - set(categories))
    counts = {c: sum(1 for t in expected.values() if t == c) for c in categories}
    rows = []
    for label, group in scores.groupby("label", sort=False):
        own = group[group["task"].isin(expected)].drop_duplicates("task")
        row = {"Model": label, f"Average ({len(expected)})": _cell(own["main_score"],
                                                                   len(expected))}
        for category in categories:
            tasks = [t for t, c in expected.items() if c == category]
            row[f"{category} ({counts[category]})"] = _cell(
                own[own["task"].isin(tasks)]["main_score"], counts[category])
        if "protocol" in group:
            row["Protocol"] = protocol_label(list(group["protocol"]))
        rows.append(row)
    return pd.DataFrame(rows)


def task_table(scores: pd.DataFrame, benchmark_tasks: dict[str, str] | None = None
               ) -> pd.DataFrame:
    """One row per task (with its category), one column per model: main score x100."""
    expected = expected_tasks(scores, benchmark_tasks)
    wide = scores.pivot_table(index="task", columns="label", values="main_score",
                              aggfunc="first", sort=False) * 100
    wide = wide.reindex(sorted(expected, key=lambda t: (category_rank(expected[t]), t)))
    wide.insert(0, "Category", [expected[t] for t in wide.index])
    wide.index.name = "Task"
    return wide.reset_index()


def category_rank(category: str) -> int:
    """Sort key of a category: MTEB's order, unknown categories last."""
    return MTEB_CATEGORIES.index(category) if category in MTEB_CATEGORIES else len(
        MTEB_CATEGORIES)


Layout = Callable[[pd.DataFrame, "dict[str, str] | None"], list[pd.DataFrame]]
LAYOUTS: Registry[Layout] = Registry("table layout")


@LAYOUTS.register("mteb")
def mteb_layout(scores: pd.DataFrame, benchmark_tasks: dict[str, str] | None = None
                ) -> list[pd.DataFrame]:
    """The model cards' layout: the summary (average + categories), then the per-task table."""
    return [summary_table(scores, benchmark_tasks), task_table(scores, benchmark_tasks)]


@LAYOUTS.register("longtext")
def longtext_layout(scores: pd.DataFrame, benchmark_tasks: dict[str, str] | None = None
                    ) -> list[pd.DataFrame]:
    """The stella card's long-text layout: one row per set."""
    return [longtext_table(scores)]


def render(table: pd.DataFrame, fmt: str = "md") -> str:
    """Markdown (``md``) or CSV text; scores printed with 2 decimals, missing as ``-``."""
    if fmt == "csv":
        return table.to_csv(index=False, float_format="%.2f")
    # tabulate's missingval replaces None only: NaN cells would print as "nan"
    cells = table.astype(object).where(table.notna(), None)
    return cells.to_markdown(index=False, floatfmt=".2f", missingval="-")
