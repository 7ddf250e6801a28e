"""`compare`, `regress`, the CI gate and `report` on synthetic results written with mteb's
TaskResult (tests/integration/ compares against the real published JSONs and screenshots the
report in Chromium)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import mteb
import pytest
from support import (
    MINILM_REVISION,
    REPO,
    assert_self_contained_report,
    cli,
    save_results,
    synthetic_result,
)

from harness.errors import HarnessError
from harness.references import published_tasks
from harness.report.compare import compare
from harness.report.html import write_report
from harness.report.regress import regress
from harness.results import read_task_result, write_task_result

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

MODEL = "org/model-a"
OTHER = "lab/model-b"
REVISION = "0123456789abcdef0123456789abcdef01234567"
METRICS = {"STS12": "cosine_spearman", "SciFact": "ndcg_at_10",
           "Banking77Classification": "accuracy", "BIOSSES": "cosine_spearman",
           "STSBenchmark": "cosine_spearman"}


def results(scores: dict[str, float]) -> list:
    """One synthetic result per task, ``scores[task]`` as its main metric and main score."""
    return [synthetic_result(task, {"default": {METRICS[task]: value, "main_score": value}})
            for task, value in scores.items()]


PUBLISHED = {"STS12": 0.7, "SciFact": 0.6, "Banking77Classification": 0.8, "BIOSSES": 0.75}


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A results-repo folder: MODEL's published scores at one model revision."""
    return save_results(results(PUBLISHED), tmp_path / "published", MODEL, revision=REVISION)


# --- compare ----------------------------------------------------------------------------------


def test_compare_with_a_results_folder(published: Path, tmp_path: Path) -> None:
    ours = save_results(results({"STS12": 0.7004, "SciFact": 0.55, "STSBenchmark": 0.8,
                                 "Banking77Classification": 0.8}), tmp_path / "ours", MODEL)
    report = compare(ours, str(published))
    rows = {r.task: r for r in report.rows}
    assert set(rows) == {"STS12", "SciFact", "Banking77Classification"}
    assert rows["STS12"].delta == pytest.approx(0.0004, abs=1e-12)
    assert rows["STS12"].verdict == "within tolerance"
    assert rows["STS12"].metric == "cosine_spearman" and rows["STS12"].source == REVISION
    assert rows["SciFact"].delta == pytest.approx(-0.05, abs=1e-12)
    assert rows["SciFact"].verdict == "off" and rows["SciFact"].metric == "ndcg_at_10"
    assert rows["Banking77Classification"].delta == 0
    assert report.summary == "2 within tolerance of 3 compared"
    assert not report.ok and [r.task for r in report.off] == ["SciFact"]
    (section,) = report.sections
    assert section.ours_only == ["STSBenchmark"] and section.published_only == ["BIOSSES"]
    markdown = report.to_markdown()
    assert "| SciFact | 55.00 | 60.00 | -5.0000 | ndcg_at_10 | 0123456789ab | off |" in markdown
    assert "Only in our results: 1 task (--show-missing lists them)" in markdown
    assert "Only in our results (1): STSBenchmark" in report.to_markdown(show_missing=True)
    assert report.summary in markdown
    looser = compare(ours, str(published), tolerance=0.06)
    assert looser.ok and looser.summary == "3 within tolerance of 3 compared"


def test_compare_matches_models_by_name_and_rejects_unknown(published: Path,
                                                            tmp_path: Path) -> None:
    ours = save_results(results({"STS12": 0.7}), tmp_path / "ours", "ORG/Model-A")
    save_results(results({"SciFact": 0.6}), ours, OTHER)
    report = compare(ours, str(published))
    assert [s.reference.split(" in ")[0] for s in report.sections] == [MODEL]
    assert report.notes == [f"no published scores for {OTHER} @ local"]
    assert compare(ours, str(published), model="model-a").summary == \
        "1 within tolerance of 1 compared"
    with pytest.raises(HarnessError, match="neither 'cards', 'hub' nor"):
        compare(ours, "card")
    with pytest.raises(HarnessError, match="unknown model 'model-c'"):
        compare(ours, str(published), model="model-c")
    with pytest.raises(HarnessError, match="no published scores"):
        compare(ours, str(published), model=OTHER)


def test_compare_cli_prints_the_report_and_strict_sets_the_exit_code(
        published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ours = save_results(results({"SciFact": 0.5}), tmp_path / "ours", MODEL)
    code, out, err = cli(capsys, "compare", str(ours), "--reference", str(published))
    assert code == 0, err
    assert "**0 within tolerance of 1 compared**" in out
    code, out, _ = cli(capsys, "compare", str(ours), "--reference", str(published), "--strict")
    assert code == 1 and "| SciFact | 50.00 | 60.00 |" in out


def test_hub_offline_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTEB_CACHE", str(tmp_path / "cache"))
    out = save_results(results({"STS12": 0.7}), tmp_path / "ours", MODEL)

    def unreachable(*args: object, **kwargs: object) -> socket.socket:
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    with pytest.raises(HarnessError) as error:
        compare(out, "hub")
    assert "cannot reach github.com" in str(error.value) and "\n" not in str(error.value)

    def clone_fails(self: mteb.ResultCache, *args: object, **kwargs: object) -> Path:
        raise subprocess.CalledProcessError(128, ["git", "clone"])

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: socket.socket())
    monkeypatch.setattr(mteb.ResultCache, "download_from_remote", clone_fails)
    with pytest.raises(HarnessError, match="downloading the mteb results repository failed"):
        compare(out, "hub")


def test_overlapping_revisions_prefer_maintainer_runs(tmp_path: Path) -> None:
    for revision, score in (("external", 0.5), ("abc", 0.6)):
        save_results(results({"STS12": score}), tmp_path, MODEL, revision=revision)
    model_dir = tmp_path / "org__model-a"
    assert published_tasks(model_dir)["STS12"].revision == "abc"
    assert published_tasks(model_dir, prefer_revision="external")["STS12"].revision == "external"


# --- regress and the CI gate ------------------------------------------------------------------

BASE = {"STS12": 0.7, "SciFact": 0.6, "Banking77Classification": 0.8}


def test_regress_identical_copy_passes(tmp_path: Path) -> None:
    base = save_results(results(BASE), tmp_path / "base", MODEL)
    now = save_results(results(BASE), tmp_path / "now", MODEL)
    report = regress(now, base)
    assert report.ok and len(report.rows) == 3 and report.failures == []
    assert "**0 of 3 baseline tasks regressed or missing**" in report.to_markdown()


def test_regress_flags_drops_beyond_tolerance_and_missing_tasks(tmp_path: Path) -> None:
    base = save_results(results(BASE), tmp_path / "base", MODEL)
    now = save_results(results({"SciFact": 0.59, "Banking77Classification": 0.85,
                                "BIOSSES": 0.7}), tmp_path / "now", MODEL)
    report = regress(now, base)
    assert not report.ok
    failed = {r.task: r for r in report.failures}
    assert set(failed) == {"SciFact", "STS12"}
    assert failed["SciFact"].delta == pytest.approx(-0.01, abs=1e-9)
    assert failed["STS12"].now is None
    assert report.new_tasks == [f"{MODEL}: BIOSSES"]
    markdown = report.to_markdown()
    assert f"| {MODEL} | SciFact | 60.00 | 59.00 | -1.0000 |" in markdown
    assert f"| {MODEL} | STS12 | 70.00 | missing | - |" in markdown
    assert "Banking77Classification" not in markdown


def test_regress_within_tolerance_and_per_dim(tmp_path: Path) -> None:
    base = save_results(results({"SciFact": 0.6}), tmp_path / "base", MODEL, dim=256)
    now = save_results(results({"SciFact": 0.596}), tmp_path / "now", MODEL)
    report = regress(now, base)  # the dim-256 baseline row has no dim-256 counterpart now
    assert [r.label for r in report.failures] == [f"{MODEL} (dim 256)"]
    save_results(results({"SciFact": 0.6}), now, MODEL, dim=256)
    assert regress(now, save_results(results({"SciFact": 0.6}), tmp_path / "full", MODEL)).ok


def test_lowered_score_fails_the_committed_ci_gate_with_a_diff(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = REPO / "results" / "baselines" / "ci"
    copy = tmp_path / "copy"
    shutil.copytree(baseline, copy)
    path = copy / "sentence-transformers__all-MiniLM-L6-v2" / MINILM_REVISION / "STS13.json"
    result = read_task_result(path)
    assert result is not None
    for entry in result.scores["test"]:
        entry["main_score"] -= 0.01
    write_task_result(result, path.parent)
    code, out, _ = cli(capsys, "regress", str(copy), "--baseline", str(baseline))
    assert code == 1
    assert "STS13" in out and "-1.00" in out.replace("−", "-")
    code, out, _ = cli(capsys, "regress", str(copy), "--baseline", str(baseline),
                       "--tolerance", "0.02")
    assert code == 0, out


# --- report -------------------------------------------------------------------------------------

DIMS = [64, 256]
LABELS = [f"{model} (dim {dim})" for model in (MODEL, OTHER) for dim in DIMS]


@pytest.fixture
def mrl_results(tmp_path: Path) -> Path:
    """Two models at two MRL dims; dim 64 scores 10% below the published ones."""
    out = tmp_path / "results"
    for model in (MODEL, OTHER):
        for dim in DIMS:
            factor = 0.9 if dim == 64 else 1.0
            save_results(results({t: v * factor for t, v in PUBLISHED.items()}), out, model,
                         dim=dim)
    return out


def test_report_tables_plots_and_deltas(mrl_results: Path, published: Path,
                                        tmp_path: Path) -> None:
    report = write_report(mrl_results, tmp_path / "report", reference=str(published))
    assert_self_contained_report(report, [*PUBLISHED, *LABELS, "Average (4)", "STS (2)",
                                          "Comparison with"],
                                 figures=("categories", "mrl", "deltas"))
    # MODEL's two dims against its published scores: the dim-64 rows are off
    for path in (report.html, report.markdown):
        assert "4 within tolerance of 8 compared" in path.read_text(encoding="utf-8")


def test_report_of_one_model_without_mrl(mrl_results: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    single = tmp_path / "single"
    shutil.copytree(mrl_results / "org__model-a", single / "org__model-a")
    shutil.rmtree(single / "org__model-a" / "local" / "experiments" / "dim_256")
    code, _, err = cli(capsys, "report", str(single), "--model", "model-a", "--tasks", "quick",
                       "--out", str(tmp_path / "r"))
    assert code == 0, err
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert html.count('<img src="data:image/png;base64,') == 1 and "MRL curves" not in html
    assert "Average (6)" in html and "(4/6)" in html and OTHER not in html
    assert not (tmp_path / "r" / "mrl.png").exists()


def test_report_errors(mrl_results: Path, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(HarnessError, match="no readable result JSON|does not exist"):
            write_report(folder, tmp_path / "out")
    with pytest.raises(HarnessError, match="unknown model 'model-c'"):
        write_report(mrl_results, tmp_path / "out", model="model-c")
    code, _, err = cli(capsys, "report", str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "no readable result JSON" in err
