"""``harness report``: leaderboard, category bars, MRL curves and reproduction deltas, written
as one self-contained ``report.html`` (PNGs inlined as data URIs) and a ``report.md`` whose
PNGs lie beside it. Every figure carries a description of what it draws (its alt text) and
the lines under it (e.g. the tasks outside the tolerance)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from string import Template

import pandas as pd

from harness.errors import UsageError, unknown_choice
from harness.preflight import check_writable_dir
from harness.report import pareto
from harness.report.compare import (
    ComparisonReport,
    ComparisonRow,
    compare,
    format_pct,
    name_key,
    short_source,
)
from harness.report.gates import check_tolerance
from harness.report.plots import (
    Chart,
    all_runs,
    category_chart,
    delta_chart,
    group_means,
    mrl_chart,
    mrl_curves,
)
from harness.report.table import (
    expected_tasks,
    render,
    summary_table,
    task_table,
    with_local_task_types,
)
from harness.results import find_run_folders, load_scores, read_manifest

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
figure { margin: 0.5rem 0 1.5rem; }
figcaption { color: #555; font-size: 0.9rem; }
.note { color: #555; }
</style>
</head>
<body>
<h1>$title</h1>
$body
</body>
</html>
""")


CARD_GROUP = "Card averages"


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

    def figure(self, name: str, chart: Chart, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(chart.png)
        alt = re.sub(r"([\[\]])", r"\\\1", chart.alt)
        self.markdown += [f"![{alt}]({name})", *chart.notes]
        data = base64.b64encode(chart.png).decode("ascii")
        caption = "".join(f"<p>{escape(note)}</p>" for note in chart.notes)
        self.html.append(f'<figure id="{path.stem}"><img src="data:image/png;base64,{data}" '
                         f'alt="{escape(chart.alt)}">'
                         + (f"<figcaption>{caption}</figcaption>" if caption else "")
                         + "</figure>")
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


def _delta_frame(report: ComparisonReport, categories: dict[str, str]) -> pd.DataFrame:
    """The compared rows of ``report`` as :func:`~harness.report.plots.delta_chart` reads them;
    card rows (category and overall averages) form their own group."""
    names = [s.run.rpartition(" @ ")[0] for s in report.sections]
    if len(set(names)) < len(names):  # one model at several revisions: keep them apart
        names = [f"{name} @ {short_source(s.run.rpartition(' @ ')[2])}"
                 for name, s in zip(names, report.sections, strict=True)]
    return pd.DataFrame([
        {"run": name, "task": row.task, "delta": row.delta, "off": row.off,
         "category": CARD_GROUP if row.tasks is not None else categories.get(row.task, "Other")}
        for name, section in zip(names, report.sections, strict=True)
        for row in section.rows if row.compared],
        columns=["run", "task", "category", "delta", "off"])


def _recipe_dims(manifest: dict) -> tuple[int | None, str]:
    """``model.default_dim`` and ``model.dim_mode`` of a run manifest's config."""
    config = manifest.get("config")
    model = config.get("model") if isinstance(config, dict) else None
    model = model if isinstance(model, dict) else {}
    default = model.get("default_dim")
    valid = isinstance(default, int) and not isinstance(default, bool)
    return (default if valid else None), str(model.get("dim_mode", "none"))


def _with_curve_dims(scores: pd.DataFrame, results_dir: str | Path) -> pd.DataFrame:
    """``scores`` with ``default_dim`` (the recipe's, read from each run manifest) and
    ``curve_dim``: the ``experiments/dim_<d>`` folder's dim, or for a plain ``<revision>/``
    folder the recipe's default dim when it truncates or projects (NaN: native, unknown)."""
    recorded = {(run.model, run.revision, run.dim): _recipe_dims(read_manifest(run.path))
                for run in find_run_folders(results_dir)}
    keys = zip(scores["model"], scores["revision"],
               [None if pd.isna(d) else int(d) for d in scores["dim"]], strict=True)
    found = [recorded.get(key, (None, "none")) for key in keys]
    defaults = pd.Series([d for d, _ in found], index=scores.index, dtype="float")
    plain = pd.Series([d if mode != "none" else None for d, mode in found],
                      index=scores.index, dtype="float")
    return scores.assign(default_dim=defaults, curve_dim=scores["dim"].astype(float).fillna(plain))


def _category_section(doc: _Document, scores: pd.DataFrame, expected: dict[str, str],
                      folder: Path) -> list[Path]:
    groups = group_means(scores, expected)
    doc.heading(2, "Categories")
    if groups.means.columns.empty:
        doc.paragraph(f"No task is common to {all_runs(groups.runs)}, so no category figure; "
                      "the leaderboard table holds each run's own averages.")
        return []
    who = "the run has" if groups.runs == 1 else f"{all_runs(groups.runs)} have"
    doc.paragraph(f"Bars average the {groups.shared} tasks {who} (of {len(expected)} expected); "
                  "hatched bars cover only part of their category (k/n tasks in the label). "
                  "Each run's own averages are in the leaderboard table.")
    return [doc.figure("categories.png", category_chart(groups), folder)]


def _mrl_section(doc: _Document, scores: pd.DataFrame, expected: dict[str, str],
                 folder: Path) -> list[Path]:
    curves = mrl_curves(scores, expected)
    if curves is None:
        return []
    doc.heading(2, "MRL curves")
    if curves.groups.means.columns.empty:
        doc.paragraph("No task is common to all runs of the models scored at several dims, "
                      "so no MRL figure.")
        return []
    unknown = [m for m, d in curves.default_dims.items() if d is None]
    doc.paragraph("Models scored at several dims: experiments/dim_<d> folders, and the plain "
                  "folder at the recipe's default dim (model.default_dim in its run manifest), "
                  "averaged over the tasks all runs on the curves have; the star marks the "
                  "default dim. Full-dimension runs of recipes without a default dim are not "
                  "on the curves."
                  + (f" No run manifest records the default dim of {', '.join(unknown)}."
                     if unknown else ""))
    return [doc.figure("mrl.png", mrl_chart(curves), folder)]


def _pareto_section(doc: _Document, scores: pd.DataFrame, expected: dict[str, str],
                    results_dir: str | Path, folder: Path) -> list[Path]:
    points = pareto.pareto_points(scores, expected, pareto.run_bytes(results_dir))
    if points.empty:
        return []
    doc.heading(2, "Score vs bytes per vector")
    doc.paragraph("Every dim and storage precision (none = float32, int8, ubinary) of a model, "
                  "averaged over the tasks all its runs share; the line joins its Pareto front.")
    return [doc.figure(pareto.FIGURE, pareto.pareto_chart(points), folder)]


def write_report(results_dir: str | Path, out: str | Path, *, reference: str | None = None,
                 model: str | None = None, tasks: str | None = None,
                 tolerance: float = 0.001, show_missing: bool = False) -> ReportFiles:
    """Write ``report.html``, ``report.md`` and its PNGs into ``out`` for ``results_dir``.

    ``tasks`` names a task-list config whose tasks every model should have (as for
    ``harness table``); ``reference`` (a results folder, ``hub`` or ``cards``) adds the
    :func:`~harness.report.compare.compare` deltas and their figure; ``model`` keeps one
    model's runs; ``show_missing`` lists the tasks found on one side only in the markdown
    (the HTML always has them in a collapsed block).
    """
    check_writable_dir(out, "--out")
    check_tolerance(tolerance)
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

    doc = _Document()
    doc.paragraph(f"Results folder {results_dir}: {scores['label'].nunique()} runs, "
                  f"{scores['task'].nunique()} tasks. Scores are main scores x100.")
    doc.heading(2, "Leaderboard")
    doc.table(summary_table(scores, benchmark))
    doc.heading(3, "Per task")
    doc.table(task_table(scores, benchmark))
    for stale in ("categories.png", "mrl.png", "deltas.png", pareto.FIGURE):  # earlier report
        (folder / stale).unlink(missing_ok=True)
    images = _category_section(doc, scores, expected, folder)
    unquantized = scores[scores["quantize"] == "none"]
    images += _mrl_section(doc, _with_curve_dims(unquantized, results_dir), expected, folder)
    images += _pareto_section(doc, scores, expected, results_dir, folder)
    if reference is not None:
        report = compare(results_dir, reference, model=model, tolerance=tolerance)
        typed = with_local_task_types(scores).dropna(subset=["task_type"])
        deltas = _delta_frame(report, dict(zip(typed["task"], typed["task_type"], strict=True)))
        if not deltas.empty:
            doc.heading(2, "Reproduction deltas")
            doc.paragraph("Per task, our score minus the published one (x100); the shaded band "
                          "is the tolerance, tasks outside it are ringed in red and named "
                          "below.")
            images.append(doc.figure("deltas.png", delta_chart(deltas, tolerance), folder))
        comparison = report.to_markdown(show_missing=show_missing)
        doc.markdown.append(re.sub(r"^#", "##", comparison, flags=re.MULTILINE))
        doc.html.append(_comparison_html(report))

    title = f"MTEB report: {Path(results_dir).resolve().name}"
    markdown = folder / "report.md"
    markdown.write_text("\n\n".join([f"# {title}", *doc.markdown]).rstrip() + "\n",
                        encoding="utf-8")
    html = folder / "report.html"
    html.write_text(PAGE.substitute(title=escape(title), body="\n".join(doc.html)),
                    encoding="utf-8")
    return ReportFiles(html, markdown, images)
