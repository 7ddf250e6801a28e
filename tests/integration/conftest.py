"""Shared fixtures: real task data imported once from ../shared/data, the harness CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import MINILM, MINILM_REVISION, SHARED_DATA


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The six quick tasks imported from ../shared/data into a fresh offline mirror."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real task data not found at {SHARED_DATA} (../shared/data beside the repo)")
    from harness.data.importers import import_dataset

    root = tmp_path_factory.mktemp("data_root")
    import_dataset(SHARED_DATA, root)
    return root


@pytest.fixture(scope="session")
def harness_results(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded model's results on the six quick tasks (one harness run per session)."""
    from harness.api import run
    from harness.results import run_folder

    out = tmp_path_factory.mktemp("results")
    run([f"data_root={data_root}", f"output_dir={out}", "show_progress=false",
         f"cache_dir={tmp_path_factory.mktemp('cache')}"])
    return run_folder(out, MINILM, MINILM_REVISION)
