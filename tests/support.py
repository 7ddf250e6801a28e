"""Helpers shared by both test tiers: paths, file writing, the CLI in-process and as a user."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED = REPO.parent / "shared"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"')
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
