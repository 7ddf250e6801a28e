"""Gate on benchmark regressions: our main scores against a baseline results folder.

Compared per (model, dim, precision, task) on ``load_scores``' main score (mteb's 0-1 scale). A
drop of more than the tolerance, or a baseline task missing from the results, fails;
improvements and tasks new in the results pass. With significance (a paired bootstrap of the
per-item records, :mod:`harness.report.stats`), mode ``both`` fails only a drop that is beyond
the tolerance *and* significant (p < alpha), mode ``significant`` any significant drop; a task
without records on both sides falls back to the tolerance alone, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UsageError, unknown_choice
from harness.report.gates import check_tolerance
from harness.report.stats import DEFAULT_RESAMPLES, DEFAULT_SEED, Bootstrap
from harness.results import find_run_folders, load_scores

EPS = 1e-9  # float noise allowance when testing a drop against the tolerance
TOLERANCE, BOTH, SIGNIFICANT = "tolerance", "both", "significant"
MODES = (TOLERANCE, BOTH, SIGNIFICANT)
ALPHA = 0.05


@dataclass(frozen=True)
class RegressionRow:
    """One baseline task: its score now (``None`` when missing) and the change."""

    label: str
    task: str
    baseline: float
    now: float | None
    tolerance: float
    mode: str = TOLERANCE
    stat: Bootstrap | None = None
    note: str = ""  # why a significance mode fell back to the tolerance
    alpha: float = ALPHA

    @property
    def delta(self) -> float | None:
        """``now - baseline``, ``None`` when the task is missing now."""
        return None if self.now is None else self.now - self.baseline

    @property
    def significant_drop(self) -> bool:
        """A drop whose bootstrap p-value is below alpha."""
        return self.stat is not None and self.stat.observed < 0 and \
            self.stat.p_value < self.alpha

    @property
    def failed(self) -> bool:
        """Missing now, or a drop as the mode defines it (the tolerance alone when there is no
        bootstrap)."""
        if self.delta is None:
            return True
        beyond = self.delta < -self.tolerance - EPS
        if self.mode == TOLERANCE or self.stat is None:
            return beyond
        return self.significant_drop and (beyond or self.mode == SIGNIFICANT)


@dataclass
class RegressionReport:
    """Every baseline task checked; ``ok`` when none failed."""

    results_dir: str
    baseline_dir: str
    tolerance: float
    rows: list[RegressionRow]
    new_tasks: list[str]
    mode: str = TOLERANCE

    @property
    def failures(self) -> list[RegressionRow]:
        """Rows that dropped beyond the tolerance or are missing."""
        return [row for row in self.rows if row.failed]

    @property
    def ok(self) -> bool:
        """No regression and no missing task."""
        return not self.failures

    def to_markdown(self) -> str:
        """A summary line and the diff of failing tasks (scores and deltas x100)."""
        failures = self.failures
        rule = {TOLERANCE: "a drop beyond the tolerance fails",
                BOTH: "a drop beyond the tolerance that is significant fails",
                SIGNIFICANT: "any significant drop fails"}[self.mode]
        head = (f"# Regression check: {self.results_dir} vs baseline {self.baseline_dir}\n\n"
                f"**{len(failures)} of {len(self.rows)} baseline tasks regressed or missing** "
                f"(tolerance {self.tolerance:g} on mteb's 0-1 scale; {rule}; scores shown "
                "x100)\n")
        lines = [head]
        significance = self.mode != TOLERANCE
        shown = self.rows if significance else failures
        if shown:
            extra = " 95% CI | p | verdict |" if significance else ""
            lines += [f"| model | task | baseline | now | delta |{extra}",
                      "|---|---|---:|---:|---:|" + ("---:|---:|---|" if significance else "")]
            lines += [f"| {r.label} | {r.task} | {r.baseline * 100:.2f} | "
                      + ("missing | - |" if r.now is None
                         else f"{r.now * 100:.2f} | {r.delta * 100:+.4f} |")
                      + (_significance_cells(r) if significance else "")
                      for r in shown]
        if self.new_tasks:
            lines += ["", f"Not in the baseline ({len(self.new_tasks)}): "
                      + ", ".join(self.new_tasks)]
        return "\n".join(lines).rstrip() + "\n"


def _significance_cells(row: RegressionRow) -> str:
    verdict = "FAIL" if row.failed else "ok"
    if row.now is None:
        return " - | - | FAIL (missing) |"
    if row.stat is None:
        return f" - | - | {verdict} ({row.note or 'tolerance only'}) |"
    low, high = row.stat.interval
    return (f" [{low * 100:+.2f}, {high * 100:+.2f}] | {row.stat.p_value:.3f} | {verdict} |")


def _scores(folder: str | Path) -> pd.Series:
    """Main score by (label, task); one run per model and dim."""
    scores = load_scores(folder)
    doubled = scores[scores.duplicated(["label", "task"], keep=False)]
    if not doubled.empty:
        first = doubled.iloc[0]
        revisions = ", ".join(sorted(doubled.loc[doubled["label"] == first["label"], "revision"]
                                     .unique()))
        raise UsageError(f"{str(folder)!r} holds several runs of {first['label']} "
                           f"(revisions {revisions}); regress needs one per model and dim")
    return scores.set_index(["label", "task"])["main_score"]


def regress(results_dir: str | Path, baseline_dir: str | Path, tolerance: float = 0.005, *,
            mode: str = TOLERANCE, alpha: float = ALPHA, n_resamples: int = DEFAULT_RESAMPLES,
            seed: int = DEFAULT_SEED) -> RegressionReport:
    """Check ``results_dir`` against ``baseline_dir``: missing tasks fail, and drops as ``mode``
    says (``tolerance``; ``both``: beyond the tolerance and significant; ``significant``)."""
    from harness.report.paired import task_bootstrap

    tolerance = check_tolerance(tolerance)
    if mode not in MODES:
        raise unknown_choice("regress mode", mode, MODES)
    if not 0 < alpha < 1:
        raise UsageError(f"alpha must be between 0 and 1, got {alpha}")
    for folder, what in ((baseline_dir, "baseline folder"), (results_dir, "results folder")):
        if not Path(folder).is_dir():
            raise UsageError(f"{what} {str(folder)!r} does not exist or is not a folder")
    baseline, now = _scores(baseline_dir), _scores(results_dir)
    if baseline.empty:
        raise UsageError(f"baseline folder {str(baseline_dir)!r} holds no task results")
    runs = ({r.label: r for r in find_run_folders(baseline_dir)},
            {r.label: r for r in find_run_folders(results_dir)}) if mode != TOLERANCE else None
    rows = []
    for (label, task), score in baseline.sort_index().items():
        current = float(now[(label, task)]) if (label, task) in now.index else None
        stat, note = None, ""
        if runs is not None and current is not None:
            stat, note = task_bootstrap(task, runs[0][label], runs[1][label],
                                        n_resamples=n_resamples, seed=seed)
        rows.append(RegressionRow(label, task, float(score), current, tolerance, mode, stat,
                                  note, alpha))
    new = [f"{label}: {task}" for label, task in now.index.difference(baseline.index)]
    return RegressionReport(str(results_dir), str(baseline_dir), tolerance, rows, sorted(new),
                            mode)
