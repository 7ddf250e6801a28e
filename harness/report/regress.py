"""Gate on benchmark regressions: our main scores against a baseline results folder.

Compared per (model, dim, task) on ``load_scores``' main score (mteb's 0-1 scale). A drop of
more than the tolerance, or a baseline task missing from the results, fails; improvements and
tasks new in the results pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UsageError
from harness.results import load_scores

EPS = 1e-9  # float noise allowance when testing a drop against the tolerance


@dataclass(frozen=True)
class RegressionRow:
    """One baseline task: its score now (``None`` when missing) and the change."""

    label: str
    task: str
    baseline: float
    now: float | None
    tolerance: float

    @property
    def delta(self) -> float | None:
        """``now - baseline``, ``None`` when the task is missing now."""
        return None if self.now is None else self.now - self.baseline

    @property
    def failed(self) -> bool:
        """Missing now, or dropped by more than the tolerance."""
        return self.delta is None or self.delta < -self.tolerance - EPS


@dataclass
class RegressionReport:
    """Every baseline task checked; ``ok`` when none failed."""

    results_dir: str
    baseline_dir: str
    tolerance: float
    rows: list[RegressionRow]
    new_tasks: list[str]

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
        head = (f"# Regression check: {self.results_dir} vs baseline {self.baseline_dir}\n\n"
                f"**{len(failures)} of {len(self.rows)} baseline tasks regressed or missing** "
                f"(tolerance {self.tolerance:g} on mteb's 0-1 scale; scores shown x100)\n")
        lines = [head]
        if failures:
            lines += ["| model | task | baseline | now | delta |", "|---|---|---:|---:|---:|"]
            lines += [f"| {r.label} | {r.task} | {r.baseline * 100:.2f} | "
                      + ("missing | - |" if r.now is None
                         else f"{r.now * 100:.2f} | {r.delta * 100:+.4f} |")
                      for r in failures]
        if self.new_tasks:
            lines += ["", f"Not in the baseline ({len(self.new_tasks)}): "
                      + ", ".join(self.new_tasks)]
        return "\n".join(lines).rstrip() + "\n"


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


def regress(results_dir: str | Path, baseline_dir: str | Path, tolerance: float = 0.005
            ) -> RegressionReport:
    """Check ``results_dir`` against ``baseline_dir``: drops beyond ``tolerance`` and missing
    tasks fail."""
    baseline, now = _scores(baseline_dir), _scores(results_dir)
    if baseline.empty:
        raise UsageError(f"baseline folder {str(baseline_dir)!r} holds no task results")
    rows = [RegressionRow(label, task, float(score),
                          float(now[(label, task)]) if (label, task) in now.index else None,
                          tolerance)
            for (label, task), score in baseline.sort_index().items()]
    new = [f"{label}: {task}" for label, task in now.index.difference(baseline.index)]
    return RegressionReport(str(results_dir), str(baseline_dir), tolerance, rows, sorted(new))
