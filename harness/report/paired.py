"""Two runs compared task by task (B - A), optionally with paired-bootstrap significance.

A side is a results folder (``output_dir``, possibly holding several runs) or one run folder.
When each side holds one run the two are paired; otherwise runs pair by label (model, dim,
precision), and ``model`` keeps one model's runs. Significance needs the per-item records of
both runs (``save_predictions=true``) on the same items (same ids, gold labels and texts);
tasks without them show the delta alone, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError, unknown_choice
from harness.predictions import Scorer, TaskRecord, read_record
from harness.report.stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Bootstrap,
    mean_of,
    paired_bootstrap,
)
from harness.results import (
    NOT_RESULTS,
    RunFolder,
    find_run_folders,
    main_score,
    read_task_result,
    run_folder_of,
    run_protocol,
)

AVERAGE = "Average"
LABEL_KEYS = ("labels",)  # record fields that must agree for two runs to be on the same items


@dataclass(frozen=True)
class PairedRow:
    """One task (``category`` set), category or the average: both main scores and the delta."""

    name: str
    category: str | None
    a: float | None
    b: float | None
    stat: Bootstrap | None = None
    note: str = ""
    tasks: int = 1

    @property
    def delta(self) -> float | None:
        """``b - a`` on mteb's 0-1 scale (the bootstrap's observed delta when there is one)."""
        if self.stat is not None:
            return self.stat.observed
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass
class PairedSection:
    """Run B against run A: task rows, then category rows and the average."""

    a: RunFolder
    b: RunFolder
    rows: list[PairedRow]
    aggregates: list[PairedRow]
    only_a: list[str]
    only_b: list[str]


@dataclass
class PairedReport:
    """Every paired run; ``significance`` says whether bootstraps were run."""

    a: str
    b: str
    sections: list[PairedSection]
    significance: bool
    n_resamples: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """Tables of scores x100, deltas x100, 95 % intervals and p-values."""
        lines = [f"# {self.b} vs {self.a}", "",
                 "delta = B - A on mteb's main score, shown x100 like the scores."]
        if self.significance:
            lines += ["", f"Paired bootstrap: {self.n_resamples} resamples, seed {self.seed}; "
                      "95 % percentile interval; two-sided p (docs/significance.md)."]
        for s in self.sections:
            b, a = (f"{r.label} @ {r.revision} (protocol {run_protocol(r.path)})"
                    for r in (s.b, s.a))
            lines += ["", f"## B: {b} vs A: {a}", ""]
            head = ["task", "category", "A", "B", "delta"]
            if self.significance:
                head += ["95% CI", "p", "resampled"]
            lines += ["| " + " | ".join(head) + " |",
                      "|" + "|".join("---" if h in ("task", "category", "resampled") else "---:"
                                     for h in head) + "|"]
            for row in s.rows + s.aggregates:
                lines.append("| " + " | ".join(self._cells(row)) + " |")
            for title, names in (("Only in A", s.only_a), ("Only in B", s.only_b)):
                if names:
                    lines += ["", f"{title} ({len(names)}): {', '.join(names)}"]
        if self.notes:
            lines += ["", "## Notes", "", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines).rstrip() + "\n"

    def _cells(self, row: PairedRow) -> list[str]:
        name = row.name if row.category is not None else f"**{row.name}** ({row.tasks} tasks)"
        cells = [name, row.category or "", _pct(row.a), _pct(row.b), _signed(row.delta)]
        if self.significance:
            if row.stat is None:
                cells += ["-", "-", row.note or "-"]
            else:
                low, high = row.stat.interval
                cells += [f"[{low * 100:+.2f}, {high * 100:+.2f}]", f"{row.stat.p_value:.3f}",
                          row.stat.resamples]
        return cells


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.2f}"


def side_runs(path: str | Path, model: str | None = None) -> list[RunFolder]:
    """The runs of one side: every run folder under ``path`` (``path`` itself when it holds
    task JSONs), ``model``'s only when given."""
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"results folder {str(folder)!r} does not exist")
    if any(p.name not in NOT_RESULTS for p in folder.glob("*.json")):  # a run folder
        resolved = folder.resolve()
        found = [run_folder_of(Path(resolved.anchor), resolved)]
    else:
        found = find_run_folders(folder)
    if model is not None:
        found = [r for r in found if model.lower() in (r.model.lower(),
                                                       r.model.rsplit("/", 1)[-1].lower())]
    if not found:
        raise UsageError(f"no result files under {str(folder)!r}"
                         + (f" for model {model!r}" if model else ""))
    return found


def pair_runs(a: list[RunFolder], b: list[RunFolder]) -> list[tuple[RunFolder, RunFolder]]:
    """One run each: those two; else the runs whose labels match."""
    if len(a) == 1 and len(b) == 1:
        return [(a[0], b[0])]
    by_label = {r.label: r for r in b}
    pairs = [(r, by_label[r.label]) for r in a if r.label in by_label]
    if not pairs:
        raise unknown_choice("run label to pair (no run of A has a label in B)",
                             a[0].label, by_label)
    return pairs


def task_results(run: RunFolder) -> dict[str, tuple[float, str]]:
    """Task -> (main score, task type) of one run's readable result files."""
    found = {}
    for path in sorted(run.path.glob("*.json")):
        if path.name in NOT_RESULTS:
            continue
        result = read_task_result(path)
        if result is not None:
            try:
                found[result.task_name] = (main_score(result), result.task_type)
            except (KeyError, ValueError, TypeError):
                continue
    return found


def same_items(first: TaskRecord, second: TaskRecord) -> str | None:
    """Why two records are not on the same items (None when they are)."""
    if first.kind != second.kind:
        return f"different record kinds ({first.kind} vs {second.kind})"
    subsets = {(s.split, s.subset): s.entry for s in second.subsets}
    for sub in first.subsets:
        other = subsets.get((sub.split, sub.subset))
        if other is None:
            return f"subset {sub.split}/{sub.subset} only in A"
        for key in ("ids", "texts_digest", *LABEL_KEYS):
            if sub.entry.get(key) != other.get(key):
                return f"{sub.split}/{sub.subset}: the runs' {key} differ (not the same items)"
    return None


def task_bootstrap(task: str, a: RunFolder, b: RunFolder, *, n_resamples: int, seed: int
                   ) -> tuple[Bootstrap | None, str]:
    """The bootstrap of one task between two runs, or None and why there is none."""
    records = [read_record(run.path, task) for run in (a, b)]
    if any(r is None for r in records):
        missing = " and ".join(side for side, r in zip("AB", records, strict=True) if r is None)
        return None, f"no per-item records in {missing} (save_predictions=true)"
    first, second = records
    why = same_items(first, second)
    if why:
        return None, why
    scorers: list[dict[tuple[str, str], Scorer] | None] = [first.scorers(), second.scorers()]
    if scorers[0] is None or scorers[1] is None:
        return None, f"no per-item statistic for {first.kind} main score {first.main_score}"
    return paired_bootstrap(task, scorers[0], scorers[1], n_resamples=n_resamples,
                            seed=seed), ""


def compare_pair(a: RunFolder, b: RunFolder, *, significance: bool, n_resamples: int,
                 seed: int) -> PairedSection:
    """Task rows of B vs A, then per-category rows and the average over common tasks."""
    first, second = task_results(a), task_results(b)
    rows = []
    for task in sorted(first.keys() & second.keys(), key=lambda t: (first[t][1], t)):
        stat, note = (task_bootstrap(task, a, b, n_resamples=n_resamples, seed=seed)
                      if significance else (None, ""))
        rows.append(PairedRow(task, first[task][1], first[task][0], second[task][0], stat, note))
    aggregates = []
    groups = {row.category: [] for row in rows}
    for row in rows:
        groups[row.category].append(row)
    if len(rows) > 1:
        groups[AVERAGE] = rows
    for name, members in groups.items():
        if len(members) < 2 and name != AVERAGE:
            continue
        stats = [m.stat for m in members]
        complete = significance and all(s is not None for s in stats)
        aggregates.append(PairedRow(
            name, None, sum(m.a for m in members) / len(members),
            sum(m.b for m in members) / len(members),
            mean_of(stats) if complete else None,
            "" if complete else "some tasks have no interval", len(members)))
    return PairedSection(a, b, rows, aggregates, sorted(first.keys() - second.keys()),
                         sorted(second.keys() - first.keys()))


def compare_runs(a: str | Path, b: str | Path, *, model: str | None = None,
                 significance: bool = False, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED) -> PairedReport:
    """``harness compare A B``: run B against run A, per task, category and on average."""
    pairs = pair_runs(side_runs(a, model), side_runs(b, model))
    sections = [compare_pair(x, y, significance=significance, n_resamples=n_resamples,
                             seed=seed) for x, y in pairs]
    if not any(s.rows for s in sections):
        raise UsageError(f"{str(a)!r} and {str(b)!r} have no task in common")
    notes = []
    if significance and any(r.stat and r.stat.resamples.startswith("experiments")
                            for s in sections for r in s.rows):
        notes.append("Clustering: mteb's per-experiment v-measures are resampled (documents "
                     "within an experiment are not: mteb does not record which it drew).")
    if significance and any("x experiments" in (r.stat.resamples if r.stat else "")
                            for s in sections for r in s.rows):
        notes.append("Classification: test items and mteb's seeded experiments (paired by "
                     "seed) are resampled together.")
    return PairedReport(str(a), str(b), sections, significance, n_resamples, seed, notes)
