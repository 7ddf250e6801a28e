"""Fixtures of the unit tier: small task data written here (never ../shared), imported with
``harness data import``, and runs of the embedded MiniLM on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import write_files
from tiny import beir_source, classification_source, sts_source


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
