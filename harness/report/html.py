"""``harness report``: leaderboard, category bars, MRL curves and reproduction deltas, written
as one self-contained ``report.html`` (PNGs inlined as data URIs) and a ``report.md`` whose
PNGs lie beside it."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from string import Template

import pandas as pd

from harness.errors import UsageError, unknown_choice
from harness.report import pareto
from harness.report.compare import (
    ComparisonReport,
    ComparisonRow,
    compare,
    format_pct,
    name_key,
    short_source,
)
from harness.report.plots import category_chart, category_means, mrl_chart, mrl_means
from harness.report.table import expected_tasks, render, summary_table, task_table
from harness.results import load_scores

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1300px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
.note { color: #555; }
</style>
</head>
<body>
<h1>$title</h1>
$body
</body>
</html>
""")
FIGURES = {"categories.png": "Mean main score per MTEB category",
           "mrl.png": "MRL curves: main score vs embedding dim",
           pareto.FIGURE: pareto.TITLE}


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    markdown: Path
    images: list[Path]


@dataclass
class _Document:
    """The report built twice in step: markdown parts and HTML parts."""

    markdown: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.markdown.append(f"{'#' * level} {text}")
        self.html.append(f"<h{level}>{escape(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        self.markdown.append(text)
        self.html.append(f'<p class="note">{escape(text)}</p>')

    def table(self, table: pd.DataFrame) -> None:
        self.markdown.append(render(table, "md"))
        table = table.rename_axis(columns=None)  # no header row for the columns' name
        self.html.append(table.to_html(index=False, border=0, na_rep="-",
                                       float_format=lambda v: f"{v:.2f}"))

    def figure(self, name: str, png: bytes, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(png)
        self.markdown.append(f"![{FIGURES[name]}]({name})")
        data = base64.b64encode(png).decode("ascii")
        self.html.append(f'<img src="data:image/png;base64,{data}" alt="{FIGURES[name]}">')
        return path


def _only_model(scores: pd.DataFrame, model: str | None) -> pd.DataFrame:
    """Rows of ``model`` (full id or name part, any case); all rows when ``None``."""
    if model is None:
        return scores
    keep = scores["model"].map(lambda m: model.lower() in (m.lower(), name_key(m)))
    if not keep.any():
        raise unknown_choice("model", model, set(scores["model"]))
    return scores[keep]


def _deltas(section_rows: list[ComparisonRow]) -> pd.DataFrame:
    """A comparison section as the table :meth:`ComparisonReport.to_markdown` prints."""
    return pd.DataFrame([{
        "task": r.task, "ours": format_pct(r.ours), "published": format_pct(r.published),
        "delta": "-" if r.delta is None else f"{r.delta * 100:+.4f}", "metric": r.metric,
        "source": short_source(r.source), "verdict": r.verdict} for r in section_rows])


def _comparison_html(report: ComparisonReport) -> str:
    parts = [f"<h2>Comparison with {escape(report.reference)}</h2>",
             f"<p><strong>{escape(report.summary)}</strong> (tolerance {report.tolerance:g} on "
             "mteb's 0-1 scale; scores and deltas shown x100)</p>"]
    for section in report.sections:
        parts += [f"<h3>{escape(section.run)} vs {escape(section.reference)}</h3>",
                  _deltas(section.rows).to_html(index=False, border=0)]
        for title, names in (("Only in our results", section.ours_only),
                             ("Only in the published reference", section.published_only)):
            parts.append(f"<details><summary>{title} ({len(names)})</summary>"
                         f'<p class="note">{escape(", ".join(names) or "-")}</p></details>')
    if report.notes:
        items = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
        parts += ["<h3>Notes</h3>", f"<ul>{items}</ul>"]
    return "\n".join(parts)


def write_report(results_dir: str | Path, out: str | Path, *, reference: str | None = None,
                 model: str | None = None, tasks: str | None = None,
                 tolerance: float = 0.001) -> ReportFiles:
    """Write ``report.html``, ``report.md`` and its PNGs into ``out`` for ``results_dir``.

    ``tasks`` names a task-list config whose tasks every model should have (as for
    ``harness table``); ``reference`` (a results folder, ``hub`` or ``cards``) adds the
    :func:`~harness.report.compare.compare` deltas; ``model`` keeps one model's runs.
    """
    scores = load_scores(results_dir)
    if scores.empty:
        raise UsageError(f"no readable result JSON under {str(results_dir)!r}")
    scores = _only_model(scores, model).sort_values(["model", "dim"], na_position="first",
                                                    kind="stable")
    benchmark = None
    if tasks:
        from harness.tasks import task_list_types

        benchmark = task_list_types(tasks)
    expected = expected_tasks(scores, benchmark)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    doc, images = _Document(), []
    doc.paragraph(f"Results folder {results_dir}: {scores['label'].nunique()} runs, "
                  f"{scores['task'].nunique()} tasks. Scores are main scores x100.")
    doc.heading(2, "Leaderboard")
    doc.table(summary_table(scores, benchmark))
    doc.heading(3, "Per task")
    doc.table(task_table(scores, benchmark))
    doc.heading(2, "Categories")
    doc.paragraph("Bars average the tasks each run has; the summary table marks incomplete "
                  "categories.")
    images.append(doc.figure("categories.png", category_chart(category_means(scores, expected)),
                             folder))
    curves = mrl_means(scores[scores["quantize"] == "none"], expected)
    if curves.empty:
        (folder / "mrl.png").unlink(missing_ok=True)
    else:
        doc.heading(2, "MRL curves")
        doc.paragraph("Runs in experiments/dim_<d> folders of models scored at several dims; "
                      "full-dimension runs are not on the curves.")
        images.append(doc.figure("mrl.png", mrl_chart(curves), folder))
    points = pareto.pareto_points(scores, expected, pareto.run_bytes(results_dir))
    if points.empty:
        (folder / pareto.FIGURE).unlink(missing_ok=True)
    else:
        doc.heading(2, "Score vs bytes per vector")
        doc.paragraph("Every dim and storage precision (none = float32, int8, ubinary) of a "
                      "model; the line joins its Pareto front.")
        images.append(doc.figure(pareto.FIGURE, pareto.pareto_chart(points), folder))
    if reference is not None:
        report = compare(results_dir, reference, model=model, tolerance=tolerance)
        doc.markdown.append(re.sub(r"^#", "##", report.to_markdown(), flags=re.MULTILINE))
        doc.html.append(_comparison_html(report))

    title = f"MTEB report: {Path(results_dir).resolve().name}"
    markdown = folder / "report.md"
    markdown.write_text("\n\n".join([f"# {title}", *doc.markdown]).rstrip() + "\n",
                        encoding="utf-8")
    html = folder / "report.html"
    html.write_text(PAGE.substitute(title=escape(title), body="\n".join(doc.html)),
                    encoding="utf-8")
    return ReportFiles(html, markdown, images)
