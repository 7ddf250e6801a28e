"""Helpers shared by both test tiers: paths, file writing, the CLI in-process and as a user."""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from mteb import TaskResult

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED = REPO.parent / "shared"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"')
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_REVISION = "8b3219a92973c328a8e22fadcfa821b5dc75636a"  # its weights are that revision's
QUICK_TASKS = ["STSBenchmark", "STS12", "STS13", "BIOSSES", "SciFact", "Banking77Classification"]


def minilm_folder(output_dir: Path) -> Path:
    """The run folder of the embedded model's default dim under ``output_dir``."""
    from harness.results import run_folder

    return run_folder(output_dir, MINILM, MINILM_REVISION)


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative name: text or bytes}`` under ``folder`` (text as UTF-8, lone surrogates
    kept so hostile-input tests can write them); returns ``folder``."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return folder


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 1800,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``harness ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``harness ARGS`` in this process: (exit code, stdout, stderr)."""
    from harness.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium, offline and with a throwaway profile; skips the test when it is not
    installed (fails under CI, whose .ci/run installs it)."""
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


def report_figures(html: str) -> dict[str, str]:
    """Figure id -> alt text of every ``<figure>`` of a ``harness report`` page, after checking
    that each holds one PNG that decodes to a real image (not blank, not tiny)."""
    from matplotlib.image import imread

    found = {}
    for name, body in re.findall(r'<figure id="([a-z]+)">(.*?)</figure>', html, flags=re.S):
        ((png, alt),) = IMG.findall(body)
        pixels = imread(io.BytesIO(base64.b64decode(png)))
        assert pixels.shape[0] > 200 and pixels.shape[1] > 300, name
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 10, name
        found[name] = alt
    return found


def run_settings(data_root: Path, out: Path, cache: Path | str | None = None) -> list[str]:
    """The overrides of a quiet offline run into ``out`` (no embedding cache unless given)."""
    return [f"data_root={data_root}", f"output_dir={out}", "show_progress=false",
            f"cache_dir={cache if cache else 'null'}"]


def plain_mteb_result(model: object, task: object) -> TaskResult:
    """``task`` scored by plain ``mteb.evaluate`` (no harness code): the reference side."""
    import mteb

    return mteb.evaluate(model, task, cache=None, overwrite_strategy="always",
                         show_progress_bar=False,
                         encode_kwargs={"batch_size": 32}).task_results[0]


def assert_same_scores(ours: TaskResult, reference: TaskResult, atol: float = 1e-6) -> None:
    """Every metric of every split and subset of ``ours`` equals ``reference`` to ``atol``
    (mteb saves 6 decimals, so a saved result is within 5e-7 of the unsaved one; a metric
    undefined on both sides is NaN on both)."""
    assert ours.task_name == reference.task_name
    assert set(ours.scores) == set(reference.scores)
    for split, entries in reference.scores.items():
        mine = {entry["hf_subset"]: entry for entry in ours.scores[split]}
        assert set(mine) == {entry["hf_subset"] for entry in entries}
        for entry in entries:
            for key, value in entry.items():
                if isinstance(value, float):
                    got = mine[entry["hf_subset"]][key]
                    same = abs(got - value) <= atol or (math.isnan(got) and math.isnan(value))
                    assert same, (split, entry["hf_subset"], key, got, value)


def read_jsonl(path: Path) -> list[dict]:
    """The records of a UTF-8 JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_manifest_describes_run(folder: Path, tasks: list[str]) -> None:
    """The run manifest of ``folder`` names the versions, device, precision and every task of a
    CPU fp32 run of the embedded model on local data."""
    manifest = json.loads((folder / "run_manifest.json").read_text())
    assert manifest["versions"]["mteb"].startswith("2.")
    assert manifest["device"] == "cpu" and manifest["precision"] == "fp32"
    assert set(manifest["tasks"]) == set(tasks)
    assert all(t["data"] == "local" and t["wall_time_s"] > 0 for t in manifest["tasks"].values())
    assert manifest["config"]["model"]["pooling"] == "mean"
    assert manifest["config"]["model"]["name"] == MINILM


def assert_longtext_table(text: str, scores: dict[str, float], sets: list[str]) -> None:
    """``harness table --layout longtext`` output: one row per set in ``sets`` order, then the
    Average, each the main score x100."""
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    names = [row.split("|")[1].strip() for row in rows if not row.startswith("|:")]
    assert names == [*sets, "Average"]
    for row in rows:
        name, value = (cell.strip() for cell in row.split("|")[1:3])
        expected = sum(scores.values()) / len(scores) if name == "Average" else scores[name]
        assert value == f"{expected * 100:.2f}"


def assert_longtext_build_rules(name: str, data_dir: Path, tmp_path: Path) -> None:
    """Set ``name`` built twice from ``data_dir`` is the same bytes; it keeps every question
    answered at character 512 or later, half as many short ones (rounded up), every passage."""
    from harness.longtext import LONGTEXT_SETS, build_set, longtext_dir
    from harness.longtext.positions import answer_positions
    from harness.longtext.source import read_source

    first = build_set(name, data_dir, tmp_path / "a")
    second = build_set(name, data_dir, tmp_path / "b")
    assert first.checksum == second.checksum
    for filename in ("README.md", "corpus.jsonl", "manifest.json", "qrels.jsonl",
                     "queries.jsonl"):
        a = (longtext_dir(tmp_path / "a", name) / filename).read_bytes()
        assert a == (longtext_dir(tmp_path / "b", name) / filename).read_bytes()
    spec = LONGTEXT_SETS[name]
    source = read_source([data_dir / s for s in spec.sources], spec.fmt)
    position = dict(
        zip((p.query_id for p in source.pairs), answer_positions(source, "char"), strict=True))
    kept = [q["_id"] for q in read_jsonl(longtext_dir(tmp_path / "a", name) / "queries.jsonl")]
    long_kept = [q for q in kept if position[q] >= 512]
    assert len(long_kept) == first.long_kept == sum(pos >= 512 for pos in position.values()) > 0
    assert len(kept) - len(long_kept) == first.short_kept == (first.long_kept + 1) // 2
    assert first.short_available >= first.short_kept
    assert first.corpus_size == len(source.passages)


def assert_same_tables(merged: Path, serial: Path, tasks: list[str]) -> None:
    """The embedded model's rows for ``tasks`` in results folder ``merged`` (e.g. written by a
    sweep) give the same per-task and summary tables as those in ``serial``."""
    import numpy as np

    from harness.report.table import summary_table, task_table
    from harness.results import load_scores

    def scores(results: Path):
        found = load_scores(results)
        return found[found["task"].isin(tasks)].reset_index(drop=True)

    ours, ref = scores(merged), scores(serial)
    assert sorted(ours["task"]) == sorted(tasks)
    mine, theirs = task_table(ours), task_table(ref)
    assert list(mine["Task"]) == list(theirs["Task"])
    assert np.allclose(mine[MINILM], theirs[MINILM], atol=1e-4, rtol=0)  # x100: 1e-6 on 0-1
    assert summary_table(ours).equals(summary_table(ref))


def synthetic_result(task: str, scores: dict[str, dict[str, float]],
                     split: str = "test") -> TaskResult:
    """A result as mteb 2.x writes it for ``task``: one split, ``subset -> {metric: value}``."""
    import mteb
    from mteb import TaskResult

    return TaskResult.from_task_results(mteb.get_task(task), {split: scores},
                                        evaluation_time=1.0)


def save_results(results: list[TaskResult], out: Path, model: str,
                 dim: int | None = None, revision: str | None = None) -> Path:
    """Write ``results`` as ``model``'s run folder under ``out`` (results-repo layout, whose
    revision folders may also be ``external``: not only the commit hashes a run writes)."""
    from harness.results import run_folder, variant_name, write_task_result

    folder = run_folder(out, model, None, dim)
    if revision is not None:
        variant = variant_name(dim)
        folder = out / model.replace("/", "__") / revision
        folder = folder if variant is None else folder / "experiments" / variant
    for result in results:
        write_task_result(result, folder)
    return out


def assert_self_contained_report(report: object, names: list[str],
                                 figures: tuple[str, ...] = ("categories", "mrl")) -> None:
    """A ``write_report`` result: ``names`` in both the HTML and the markdown; the HTML holds
    tables and exactly ``figures`` inline (no external resource); each PNG is linked from the
    markdown and is a real picture (over 100 px each way, more than 10 colours)."""
    import numpy as np
    from matplotlib.image import imread

    html = report.html.read_text(encoding="utf-8")
    markdown = report.markdown.read_text(encoding="utf-8")
    for text in (html, markdown):
        for name in names:
            assert name in text, name
    assert list(report_figures(html)) == list(figures)
    assert "<table" in html and 'src="http' not in html and "<link" not in html
    assert [p.name for p in report.images] == [f"{name}.png" for name in figures]
    for image in report.images:
        assert f"]({image.name})" in markdown
        pixels = imread(image)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 10


def _succeeds(*command: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr[-2000:]}"


def wheel_venv(tmp: Path) -> Path:
    """Build the wheel of this checkout and install it into a fresh virtualenv under ``tmp``
    that reuses the installed dependencies (``--system-site-packages``); returns the venv's
    ``bin`` folder. Builds from a copy of the sources, so no ``build/`` lands in the checkout;
    nothing is downloaded (the installed setuptools builds it)."""
    import shutil

    src = tmp / "src"
    shutil.copytree(REPO / "harness", src / "harness",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    _succeeds(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
              "--no-index", "-q", "-w", str(tmp / "dist"), str(src), env=env)
    (wheel,) = (tmp / "dist").glob("mteb_harness-*.whl")
    _succeeds(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
              str(tmp / "venv"))
    python = tmp / "venv" / "bin" / "python"  # runs the system pip (a system site-package)
    _succeeds(str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
              "-q", str(wheel), env=env)
    return python.parent


def run_installed(bin_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None,
                  timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run ``bin_dir/harness ARGS`` from ``cwd`` as a user of the installed package would: no
    PYTHONPATH and no user config folders unless ``env`` names them."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HARNESS_CONFIG_PATH")}
    return subprocess.run([str(bin_dir / "harness"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout,
                          env={**clean, "HF_HUB_OFFLINE": "1", **(env or {})})
