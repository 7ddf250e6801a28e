"""Helpers shared by both test tiers: paths, file writing, the CLI in-process and as a user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED = REPO.parent / "shared"
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
