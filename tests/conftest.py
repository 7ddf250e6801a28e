"""Shared fixtures: real task data imported once from ../shared/data, the harness CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
QUICK_TASKS = ["STSBenchmark", "STS12", "STS13", "BIOSSES", "SciFact", "Banking77Classification"]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The six quick tasks imported from ../shared/data into a fresh offline mirror."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real task data not found at {SHARED_DATA} (../shared/data beside the repo)")
    from harness.data.importers import import_dataset

    root = tmp_path_factory.mktemp("data_root")
    import_dataset(SHARED_DATA, root)
    return root


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


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 1800
            ) -> subprocess.CompletedProcess[str]:
    """Run ``harness ARGS`` in a subprocess, as a user would."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def harness_results(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded model's results on the six quick tasks (one harness run per session)."""
    from harness.api import run
    from harness.results import run_folder

    out = tmp_path_factory.mktemp("results")
    run([f"data_root={data_root}", f"output_dir={out}", "show_progress=false",
         f"cache_dir={tmp_path_factory.mktemp('cache')}"])
    return run_folder(out, "sentence-transformers/all-MiniLM-L6-v2", None)
