"""`harness report`: HTML + markdown with tables and plots, built from real published JSONs at
two MRL dims for two models, and checked as rendered by headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from support import SHARED_DATA, assert_self_contained_report, run_cli

from harness.errors import HarnessError
from harness.report.html import ReportFiles, write_report
from harness.results import read_task_result, run_folder, write_task_result

PUBLISHED = SHARED_DATA / "mteb-results"
MODELS = {"thenlper/gte-small": 0.9, "BAAI/bge-small-en-v1.5": 0.8}  # metric factor at dim 64
TASKS = ["STSBenchmark", "BIOSSES", "Banking77Classification", "SciFact",
         "TwentyNewsgroupsClustering"]
DIMS = [64, 256]
IMG = '<img src="data:image/png;base64,'


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Published results of two models at dims 64 (metrics scaled down) and 256 (as published)."""
    if not PUBLISHED.is_dir():
        pytest.fail(f"published results not found at {PUBLISHED}")
    out = tmp_path_factory.mktemp("results")
    for model, factor in MODELS.items():
        for task in TASKS:
            path = sorted((PUBLISHED / model.replace("/", "__")).glob(f"*/{task}.json"))[0]
            for dim in DIMS:
                result = read_task_result(path)
                assert result is not None
                scale = factor if dim == 64 else 1.0
                for entries in result.scores.values():
                    for entry in entries:
                        entry.update({k: v * scale for k, v in entry.items()
                                      if isinstance(v, float)})
                write_task_result(result, run_folder(out, model, None, dim))
    return out


@pytest.fixture(scope="module")
def report(results: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return write_report(results, tmp_path_factory.mktemp("report"), reference=str(PUBLISHED))


LABELS = [f"{model} (dim {dim})" for model in MODELS for dim in DIMS]


def test_report_tables_plots_and_deltas(report: ReportFiles) -> None:
    assert_self_contained_report(report, [*TASKS, *LABELS, "Average (5)", "STS (2)",
                                          "Comparison with"])
    # the dim-64 runs are 10-20% below the published scores: their 10 task rows are off
    for path in (report.html, report.markdown):
        assert "10 within tolerance of 20 compared" in path.read_text(encoding="utf-8")


def test_report_cli_one_model_task_list_no_mrl(results: Path, tmp_path: Path) -> None:
    single = tmp_path / "single"
    shutil.copytree(results / "thenlper__gte-small", single / "thenlper__gte-small")
    shutil.rmtree(single / "thenlper__gte-small" / "local" / "experiments" / "dim_256")
    proc = run_cli("report", str(single), "--model", "gte-small", "--tasks", "mteb_eng_v1",
                   "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert html.count(IMG) == 1 and "MRL curves" not in html
    assert "Average (56)" in html and "(5/56)" in html
    assert "thenlper/gte-small (dim 64)" in html and "bge" not in html
    assert not (tmp_path / "r" / "mrl.png").exists()


def test_report_errors(results: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(HarnessError, match="no readable result JSON|does not exist"):
            write_report(folder, tmp_path / "out")
    with pytest.raises(HarnessError, match="unknown model 'e5-small'"):
        write_report(results, tmp_path / "out", model="e5-small")
    proc = run_cli("report", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no readable result JSON" in proc.stderr


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium, offline and with a throwaway profile."""
    binary = shutil.which("chromium")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found: .ci/run must install it "
                        "(apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=180)


def test_report_renders_in_chromium(report: ReportFiles, tmp_path: Path) -> None:
    url = report.html.resolve().as_uri()
    shot = tmp_path / "shot.png"
    proc = _chromium(f"--screenshot={shot}", "--window-size=1400,3000", url,
                     profile=tmp_path / "profile-shot")
    assert shot.is_file() and shot.stat().st_size > 0, proc.stderr[-2000:]
    pixels = imread(shot)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 10
    proc = _chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert dom.count("<table") >= 3 and dom.count(IMG) >= 2
    for name in [*TASKS, *LABELS]:
        assert name in dom, name
