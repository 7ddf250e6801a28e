"""Helpers shared by both test tiers: paths, file writing, the CLI in-process and as a user."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mteb import TaskResult

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED = REPO.parent / "shared"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
QUICK_TASKS = ["STSBenchmark", "STS12", "STS13", "BIOSSES", "SciFact", "Banking77Classification"]


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
