"""`harness report` figures and tables on small synthetic results: one model on 6 STS tasks, one
on 3 of them, a published reference in the results-repo layout, MRL runs with manifests."""

from __future__ import annotations

import re
from pathlib import Path

import mteb
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from mteb import TaskResult
from support import IMG, chromium, cli, report_figures

from harness.report.compare import compare
from harness.report.html import ReportFiles, write_report
from harness.report.plots import (
    Chart,
    category_figure,
    delta_chart,
    delta_figure,
    group_means,
    mrl_curves,
    mrl_figure,
)
from harness.results import load_scores, run_folder, write_manifest, write_task_result

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

SIX = ["STSBenchmark", "STS12", "STS13", "STS14", "STS15", "BIOSSES"]
THREE = ["STSBenchmark", "STS12", "BIOSSES"]
SIX_MODEL, THREE_MODEL = "org-a/model-six", "org-b/model-three"
ONLY_PUBLISHED = ["SICK-R", "STS16"]
TOLERANCE = 0.001
OFF = {(SIX_MODEL, "STS13"): 0.02, (THREE_MODEL, "STS12"): -0.004}  # ours - published
NEAR = {(THREE_MODEL, "STSBenchmark"): 0.0004}  # inside the tolerance
NOT_PUBLISHED = (THREE_MODEL, "BIOSSES")


def score(model: str, task: str, dim: int | None = None) -> float:
    """Our synthetic main score: per model and task, lower at small dims."""
    base = (0.80 if model == SIX_MODEL else 0.70) + SIX.index(task) * 0.01
    return round(base - (0 if dim is None else (1024 - dim) / 10240), 6)


def sts_result(task: str, value: float) -> TaskResult:
    """A result as mteb 2.x writes it: test split, default subset."""
    return TaskResult.from_task_results(
        mteb.get_task(task), {"test": {"default": {"cosine_spearman": value,
                                                   "main_score": value}}},
        evaluation_time=1.0)


def save(folder: Path, model: str, tasks: list[str], dim: int | None = None) -> None:
    for task in tasks:
        write_task_result(sts_result(task, score(model, task, dim)),
                          run_folder(folder, model, None, dim))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results")
    save(out, SIX_MODEL, SIX)
    save(out, THREE_MODEL, THREE)
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference in the results-repo layout: our scores shifted by OFF and NEAR, plus
    tasks we never ran."""
    out = tmp_path_factory.mktemp("published")
    for model, tasks in ((SIX_MODEL, SIX), (THREE_MODEL, THREE)):
        folder = out / model.replace("/", "__") / "0123abcd"
        for task in [*tasks, *ONLY_PUBLISHED]:
            if (model, task) == NOT_PUBLISHED:
                continue
            ours = score(model, task) if task in SIX else 0.5
            shift = OFF.get((model, task), NEAR.get((model, task), 0.0))
            write_task_result(sts_result(task, round(ours - shift, 6)), folder)
    return out


@pytest.fixture(scope="module")
def report(results: Path, published: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> ReportFiles:
    return write_report(results, tmp_path_factory.mktemp("report"), reference=str(published),
                        tolerance=TOLERANCE)


def expected_sts() -> dict[str, str]:
    return dict.fromkeys(SIX, "STS")


def test_category_bars_average_the_shared_tasks_only(results: Path) -> None:
    groups = group_means(load_scores(results), expected_sts())
    assert list(groups.means.columns) == ["STS"]  # one category: no redundant Average
    assert groups.counts == {"STS": (3, 6)} and groups.partial("STS")
    for model in (SIX_MODEL, THREE_MODEL):
        mean = np.mean([score(model, t) for t in THREE]) * 100
        assert groups.means.loc[model, "STS"] == pytest.approx(mean, abs=1e-9)
    ax = category_figure(groups).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["STS\n3/6 tasks"]
    bars = [p for p in ax.patches if p.get_height() > 0 and p.get_width() < 1]
    assert len(bars) == 2 and all(p.get_hatch() == "///" for p in bars)
    assert "partial" in ax.get_legend().get_texts()[-1].get_text()


def test_category_bars_full_and_average_when_all_runs_share() -> None:
    rows = [{"label": m, "task": t, "main_score": score(m, t)}
            for m in (SIX_MODEL, THREE_MODEL) for t in THREE]
    rows.append({"label": SIX_MODEL, "task": "Banking77Classification", "main_score": 0.5})
    expected = {**dict.fromkeys(THREE, "STS"), "Banking77Classification": "Classification"}
    groups = group_means(pd.DataFrame(rows), expected)
    # Classification has no task both runs have: not drawn, named in the description
    assert list(groups.means.columns) == ["STS"]
    assert "Classification (0/1 tasks)" in groups.describe()
    rows.append({"label": THREE_MODEL, "task": "Banking77Classification", "main_score": 0.4})
    groups = group_means(pd.DataFrame(rows), expected)
    assert list(groups.means.columns) == ["Average", "Classification", "STS"]
    assert not any(groups.partial(g) for g in groups.means.columns)
    mean = np.mean([score(THREE_MODEL, t) for t in THREE] + [0.4]) * 100
    assert groups.means.loc[THREE_MODEL, "Average"] == pytest.approx(mean, abs=1e-9)
    ax = category_figure(groups).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "Average\n4 tasks", "Classification\n1 task", "STS\n3 tasks"]
    assert not any(p.get_hatch() for p in ax.patches)


def test_report_figures_tables_and_reference_counts(report: ReportFiles) -> None:
    html = report.html.read_text(encoding="utf-8")
    markdown = report.markdown.read_text(encoding="utf-8")
    assert [p.name for p in report.images] == ["categories.png", "deltas.png"]
    alts = report_figures(html)
    assert list(alts) == ["categories", "deltas"]
    assert "STS (3/6 tasks, partial)" in alts["categories"]
    assert "tolerance band ±0.1 shaded; 2 tasks outside it: STS12, STS13." in alts["deltas"]
    under = (f"Outside the tolerance (±0.1): STS12 ({THREE_MODEL} -0.40); "
             f"STS13 ({SIX_MODEL} +2.00)")
    assert f"<figcaption><p>{under}</p></figcaption>" in html
    assert f"](deltas.png)\n\n{under}" in markdown
    for text in (html, markdown):
        assert not re.search(r"\bnan\b", IMG.sub("", text), flags=re.I)
        assert "6 within tolerance of 8 compared" in text
    # the per-task table: the 3-task model's missing tasks as "-"
    assert re.search(r"\| STS13 +\| STS +\| +82\.00 \| +- +\|", markdown)
    assert "Only in the published reference: 2 tasks (--show-missing lists them)" in markdown
    assert "SICK-R" not in markdown
    assert "<summary>Only in the published reference (2)</summary>" in html
    assert "SICK-R, STS16" in html


def test_delta_figure_band_highlight_and_error_bars(results: Path, published: Path) -> None:
    report = compare(results, str(published), tolerance=TOLERANCE)
    deltas = pd.DataFrame([{"run": s.run.rpartition(" @ ")[0], "task": r.task,
                            "category": "STS", "delta": r.delta, "off": r.off}
                           for s in report.sections for r in s.rows])
    ax = delta_figure(deltas, TOLERANCE).axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["STS", *sorted(SIX)]  # the category header, then its tasks
    red = {t.get_text() for t in ax.get_yticklabels() if t.get_color() == "#c62828"}
    assert red == {"STS12", "STS13"}
    (band,) = ax.patches
    assert (band.get_x(), band.get_width()) == pytest.approx((-0.1, 0.2))
    assert ax.get_xscale() == "symlog" and ax.get_xlim() == pytest.approx((-3.6, 3.6))
    assert [len(c.get_offsets()) for c in ax.collections] == [6, 1, 2, 1]  # dots, rings
    assert [t.get_text() for t in ax.texts] == ["-0.40", "+2.00"]  # right margin, off tasks
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]
    intervals = {(SIX_MODEL, "STS13"): (0.015, 0.025), (THREE_MODEL, "STS12"): (-0.01, 0.0)}
    ax = delta_figure(deltas, TOLERANCE, intervals).axes[0]
    bars = [c.get_segments() for c in ax.collections if isinstance(c, LineCollection)]
    drawn = [seg[:, 0].tolist() for segs in bars for seg in segs if len(seg)]  # no NaN bars
    assert drawn == [pytest.approx([1.5, 2.5]), pytest.approx([-1.0, 0.0])]
    chart = delta_chart(deltas.assign(off=False), 0.05)  # the verdicts come with the rows
    assert isinstance(chart, Chart) and chart.notes == ["Every task is within the tolerance (±5)."]
    assert chart.alt.endswith("tolerance band ±5 shaded; 0 tasks outside it.")


def _mrl_results(folder: Path) -> Path:
    """MRL model A at dims 64 and 256 in experiments/, its default 1024 in the plain folder
    (issue 12's layout, default from the manifest); model B at 64 and 256, default 256
    recorded in the dim_256 manifest; a full-dim model C without default dim."""
    for model, dims, manifest_dim in ((SIX_MODEL, [None, 64, 256], None),
                                      (THREE_MODEL, [64, 256], 256)):
        for dim in dims:
            save(folder, model, THREE, dim)
            if dim == manifest_dim:
                write_manifest(run_folder(folder, model, None, dim), {"config": {"model": {
                    "default_dim": 256, "dim_mode": "truncate"}}, "tasks": {}})
        if dims[0] is None:
            write_manifest(run_folder(folder, model, None), {"config": {"model": {
                "default_dim": 1024, "dim_mode": "head"}}, "tasks": {}})
    save(folder, "org-c/plain", THREE)
    return folder


def test_mrl_curves_default_dim_from_manifest(tmp_path: Path) -> None:
    from harness.report.html import _with_curve_dims

    folder = _mrl_results(tmp_path / "results")
    scores = _with_curve_dims(load_scores(folder), folder)
    curves = mrl_curves(scores, dict.fromkeys(THREE, "STS"))
    assert curves is not None
    assert curves.default_dims == {SIX_MODEL: 1024, THREE_MODEL: 256}
    assert sorted(curves.points.itertuples(index=False)) == sorted([
        (SIX_MODEL, 1024), (SIX_MODEL, 64), (SIX_MODEL, 256), (THREE_MODEL, 64),
        (THREE_MODEL, 256)])
    ax = mrl_figure(curves).axes[0]
    stars = [line.get_xydata().tolist() for line in ax.get_lines()
             if line.get_marker() == "*" and len(line.get_xydata())]
    six = np.mean([score(SIX_MODEL, t) for t in THREE]) * 100
    three = np.mean([score(THREE_MODEL, t, 256) for t in THREE]) * 100
    assert stars == [[[1024, pytest.approx(six)]], [[256, pytest.approx(three)]]]
    files = write_report(folder, tmp_path / "report")
    assert [p.name for p in files.images] == ["categories.png", "mrl.png"]
    alts = report_figures(files.html.read_text(encoding="utf-8"))
    assert f"default dim starred: {SIX_MODEL} 1024, {THREE_MODEL} 256" in alts["mrl"]


def test_compare_and_report_cli_show_missing(results: Path, published: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "compare", str(results), "--reference", str(published))
    assert code == 0 and "Only in our results: 1 task (--show-missing lists them)" in out
    assert "Only in the published reference: 2 tasks (--show-missing lists them)" in out
    assert "SICK-R" not in out
    code, out, _ = cli(capsys, "compare", str(results), "--reference", str(published),
                       "--show-missing")
    assert code == 0
    assert "Only in the published reference (2): SICK-R, STS16" in out
    assert "Only in our results (1): BIOSSES" in out
    assert "Only in our results (0): -" in out
    code, out, _ = cli(capsys, "report", str(results), "--reference", str(published),
                       "--out", str(tmp_path), "--show-missing")
    assert code == 0 and "(+ 2 PNGs)" in out
    assert "(2): SICK-R, STS16" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_table_shows_missing_cells_as_dash(results: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    code, out, _ = cli(capsys, "table", str(results))
    assert code == 0 and "nan" not in out
    assert re.search(r"\| STS14 +\| STS +\| +83\.00 \| +- +\|", out)


def test_report_renders_in_chromium(report: ReportFiles, tmp_path: Path) -> None:
    proc = chromium("--dump-dom", report.html.resolve().as_uri(), profile=tmp_path / "profile")
    assert proc.returncode == 0, proc.stderr[-2000:]
    alts = report_figures(proc.stdout)
    assert list(alts) == ["categories", "deltas"]
    assert "STS (3/6 tasks, partial)" in alts["categories"]
    assert "STS13" in alts["deltas"] and "Outside the tolerance" in proc.stdout
