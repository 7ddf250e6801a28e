"""Compare our scores with published ones: a results-repo folder, the hub, or the model cards.

Scores stay on mteb's 0-1 scale in the report objects (deltas unrounded); the markdown shows
scores x100 and deltas x100 to mteb's stored precision. See :mod:`harness.report.metrics` for
which split, subsets and metric are read on each side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import mteb
import pandas as pd
from mteb import TaskResult

from harness.errors import UsageError, unknown_choice
from harness.references import (
    download_hub_results,
    load_card_tables,
    published_models,
    published_tasks,
)
from harness.report.gates import check_tolerance
from harness.report.metrics import (
    CARD_METRICS,
    Picked,
    main_score_name,
    our_score,
    pick_pair,
    same_metric,
)
from harness.results import (
    FLOAT32,
    MANIFEST_NAME,
    RunFolder,
    find_run_folders,
    read_task_result,
    run_protocol,
)

CARDS, HUB = "cards", "hub"
EPS = 1e-9  # float noise allowance when testing |delta| against the tolerance
CARD_NOTE = ("Card values are leaderboard scores of the card's date (mteb < 1.12): "
             "PairClassification is compared on cosine_ap (then cos_sim_ap, not max_ap) and "
             "Reranking on map_at_1000 (then map).")


@dataclass(frozen=True)
class ComparisonRow:
    """One task (folder reference) or category/average (card reference) on both sides."""

    task: str
    ours: float | None
    published: float | None
    metric: str
    source: str
    tolerance: float
    tasks: tuple[int, int] | None = None  # (ours, card) task counts of an aggregate row

    @property
    def delta(self) -> float | None:
        """``ours - published`` (0-1 scale), ``None`` when a side has no number."""
        if self.ours is None or self.published is None:
            return None
        return self.ours - self.published

    @property
    def compared(self) -> bool:
        """Both numbers exist and an aggregate row covers all the tasks the card averaged."""
        return self.delta is not None and (self.tasks is None or self.tasks[0] == self.tasks[1])

    @property
    def off(self) -> bool:
        """Compared and further than the tolerance from the published number."""
        return self.compared and abs(self.delta) > self.tolerance + EPS

    @property
    def verdict(self) -> str:
        """``within tolerance``, ``off``, ``incomplete (k/n tasks)`` or ``not comparable``."""
        if self.delta is None:
            return "not comparable"
        if not self.compared:
            return f"incomplete ({self.tasks[0]}/{self.tasks[1]} tasks)"
        return "off" if self.off else "within tolerance"


@dataclass
class ComparisonSection:
    """One of our runs against its matched reference."""

    run: str
    reference: str
    rows: list[ComparisonRow]
    ours_only: list[str]
    published_only: list[str]
    protocol: str = ""  # the protocol id(s) of our run (harness.protocol)


@dataclass
class ComparisonReport:
    """All sections of a comparison; ``ok`` is False when any compared row is off."""

    reference: str
    tolerance: float
    sections: list[ComparisonSection]
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[ComparisonRow]:
        """Every row of every section."""
        return [row for section in self.sections for row in section.rows]

    @property
    def off(self) -> list[ComparisonRow]:
        """Compared rows outside the tolerance."""
        return [row for row in self.rows if row.off]

    @property
    def ok(self) -> bool:
        """No compared row is off (what ``--strict`` turns into the exit code)."""
        return not self.off

    @property
    def compared(self) -> list[ComparisonRow]:
        """Rows with a number on both sides (what a gate can judge)."""
        return [row for row in self.rows if row.compared]

    @property
    def summary(self) -> str:
        """``n within tolerance of m compared``."""
        compared = self.compared
        return f"{len(compared) - len(self.off)} within tolerance of {len(compared)} compared"

    def to_markdown(self, show_missing: bool = False) -> str:
        """The report as markdown: one table per run, the count of tasks found on one side
        only (listed with ``show_missing``), notes."""
        lines = [f"# Comparison with {self.reference}", "",
                 f"**{self.summary}** (tolerance {self.tolerance:g} on mteb's 0-1 scale; "
                 "scores and deltas shown x100)", ""]
        for section in self.sections:
            protocol = f" (protocol {section.protocol})" if section.protocol else ""
            lines += [f"## {section.run}{protocol} vs {section.reference}", "",
                      "| task | ours | published | delta | metric | source | verdict |",
                      "|---|---:|---:|---:|---|---|---|"]
            lines += [f"| {r.task} | {format_pct(r.ours)} | {format_pct(r.published)} | "
                      f"{'-' if r.delta is None else f'{r.delta * 100:+.4f}'} | {r.metric} | "
                      f"{short_source(r.source)} | {r.verdict} |" for r in section.rows]
            for title, names in (("Only in our results", section.ours_only),
                                 ("Only in the published reference", section.published_only)):
                lines += ["", f"{title} ({len(names)}): {', '.join(names) or '-'}"
                          if show_missing or not names else
                          f"{title}: {len(names)} task{'s' * (len(names) > 1)} "
                          "(--show-missing lists them)"]
            lines.append("")
        lines += ["## Notes", "", *[f"- {note}" for note in self.notes]] if self.notes else []
        return "\n".join(lines).rstrip() + "\n"


def format_pct(value: float | None) -> str:
    """A 0-1 score as x100 with 2 decimals (``-`` for none); shared with the HTML report."""
    return "-" if value is None else f"{value * 100:.2f}"


def short_source(source: str) -> str:
    """A 40-hex model revision shortened to 12 characters; other sources as they are."""
    return source[:12] if re.fullmatch(r"[0-9a-f]{40}", source) else source


def name_key(model_id: str) -> str:
    """The case-insensitive name part of ``org/model`` used to match models."""
    return model_id.rsplit("/", 1)[-1].lower()


def select_runs(results_dir: str | Path, model: str | None) -> list[RunFolder]:
    """Our runs to compare: ``model``'s (full id or name part) or all; MRL dim runs only for
    models without a full-dimension run; quantised runs never (nothing publishes them)."""
    runs = find_run_folders(results_dir)
    if not runs:
        raise UsageError(f"no result files under {str(results_dir)!r}")
    if model is not None:
        wanted = [r for r in runs if model.lower() in (r.model.lower(), name_key(r.model))]
        if not wanted:
            raise unknown_choice("model", model, {r.model for r in runs})
        runs = wanted
    runs = [r for r in runs if r.quantize == FLOAT32]
    full = {r.model for r in runs if r.dim is None}
    return [r for r in runs if r.dim is None or r.model not in full]


def _our_results(run: RunFolder, notes: list[str]) -> dict[str, TaskResult]:
    results = {}
    for path in sorted(run.path.glob("*.json")):
        if path.name == MANIFEST_NAME:
            continue
        result = read_task_result(path)
        if result is None:
            notes.append(f"skipped unreadable result file {path}")
        else:
            results[path.stem] = result
    return results


def _picked_metric(picked: Picked) -> str:
    if (picked.split, picked.subsets) == ("test", ("default",)):
        return picked.metric
    n = len(picked.subsets)
    subsets = ", ".join(picked.subsets) if n <= 3 else f"{n} subsets"
    return f"{picked.metric} [{picked.split}: {subsets}]"


def _against_folder(run: RunFolder, ours: dict[str, TaskResult], model_dir: Path,
                    reference: str, tolerance: float, notes: list[str]) -> ComparisonSection:
    published = published_tasks(model_dir, prefer_revision=run.revision)
    rows = []
    for task in sorted(ours.keys() & published.keys()):
        entry = published[task]
        result = read_task_result(entry.path)
        if result is None:
            notes.append(f"skipped unreadable published file {entry.path}")
        picked = None if result is None else pick_pair(task, ours[task], result)
        if picked is None:
            rows.append(ComparisonRow(task, None, None, "no common split, subset and metric",
                                      entry.revision, tolerance))
        else:
            rows.append(ComparisonRow(task, picked.ours, picked.published,
                                      _picked_metric(picked), entry.revision, tolerance))
    return ComparisonSection(f"{run.label} @ {run.revision}", reference, rows,
                             sorted(ours.keys() - published.keys()),
                             sorted(published.keys() - ours.keys()), run_protocol(run.path))


def _card_metric(keys: set[str]) -> str:
    if len(keys) == 1:
        return next(iter(keys))
    overrides = [f"{kind}: {key}" for kind, key in CARD_METRICS.items()
                 if keys & set(same_metric(key))]
    return "; ".join(["main scores", *overrides])


def _against_card(ours: dict[str, TaskResult], cells: pd.DataFrame, tolerance: float
                  ) -> tuple[list[ComparisonRow], set[str], list[str]]:
    """Rows for one card table's cells of our model; the tasks they used; cells we lack."""
    first = cells.iloc[0]
    if isinstance(first["benchmark"], str):
        benchmark = mteb.get_benchmark(first["benchmark"])
        category = {t.metadata.name: t.metadata.type for t in benchmark.tasks}
    else:  # a table of single tasks: each score column is a task name
        category = {key: key for key in cells["key"] if key != "Average"}
    scores: dict[str, tuple[float, str]] = {}
    for task in category.keys() & ours.keys():
        key = first["metric"]
        if key == "main_score":
            key = CARD_METRICS.get(category[task], main_score_name(task))
        found = our_score(task, ours[task], key)
        if found is not None:
            scores[task] = found
    rows, used, missing = [], set(), []
    source = f"{first['table']} (card {first['card_file'][:3]})"
    for cell in cells.itertuples():
        members = sorted(t for t in scores if cell.key in ("Average", category[t]))
        if not members:
            missing.append(f"{cell.column} [{source}]")
            continue
        used.update(members)
        rows.append(ComparisonRow(
            cell.column, sum(scores[t][0] for t in members) / len(members), cell.value / 100,
            _card_metric({scores[t][1] for t in members}), source, tolerance,
            (len(members), int(cell.n_tasks))))
    return rows, used, missing


def _card_sections(runs: list[RunFolder], tolerance: float, notes: list[str]
                   ) -> list[ComparisonSection]:
    tables = [t[t["kind"] == "score"] for t in load_card_tables().values()]
    sections = []
    for run in runs:
        ours = _our_results(run, notes)
        rows, used, missing = [], set(), []
        for table in tables:
            cells = table[table["model_id"].map(name_key) == name_key(run.model)]
            if not cells.empty:
                found = _against_card(ours, cells, tolerance)
                rows += found[0]
                used |= found[1]
                missing += found[2]
        if rows or missing:
            sections.append(ComparisonSection(f"{run.label} @ {run.revision}", "model cards",
                                              rows, sorted(ours.keys() - used), missing,
                                              run_protocol(run.path)))
    if sections:
        notes.append(CARD_NOTE)
    return sections


def _folder_sections(runs: list[RunFolder], folder: Path, tolerance: float, notes: list[str]
                     ) -> list[ComparisonSection]:
    models = published_models(folder)
    sections = []
    for run in runs:
        exact = [m for m in models if m.lower() == run.model.lower()]
        match = (exact or [m for m in models if name_key(m) == name_key(run.model)] or [None])[0]
        if match is not None:
            sections.append(_against_folder(run, _our_results(run, notes), models[match],
                                            f"{match} in {folder}", tolerance, notes))
    return sections


def compare(results_dir: str | Path, reference: str, model: str | None = None,
            tolerance: float = 0.001) -> ComparisonReport:
    """Compare our runs with ``reference``: ``cards``, ``hub`` or a results-layout folder.

    Models match on the case-insensitive name part of ``org/model``; ``model`` restricts the
    comparison to one of our models (``unknown_choice`` when it has no results).
    """
    tolerance = check_tolerance(tolerance)
    runs = select_runs(results_dir, model)
    notes: list[str] = []
    if reference == CARDS:
        sections = _card_sections(runs, tolerance, notes)
    else:
        folder = download_hub_results() if reference == HUB else Path(reference)
        if not folder.is_dir():
            raise UsageError(f"reference {reference!r} is neither {CARDS!r}, {HUB!r} nor an "
                               "existing folder in the embeddings-benchmark/results layout")
        sections = _folder_sections(runs, folder, tolerance, notes)
    if not sections:
        ours = ", ".join(sorted({r.model for r in runs}))
        raise UsageError(f"no published scores in {reference!r} for {ours}")
    matched = {s.run for s in sections}
    notes += [f"no published scores for {r.label} @ {r.revision}" for r in runs
              if f"{r.label} @ {r.revision}" not in matched]
    return ComparisonReport(reference, tolerance, sections, notes)
