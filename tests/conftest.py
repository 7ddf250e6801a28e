"""Test tiers: ``tests/unit`` is the default (fast, no ../shared); ``tests/integration`` is
collected only with ``--run-integration`` and reads real data from ../shared/data.

``python -m pytest -q`` runs the unit tier; ``python -m pytest -q --run-integration -m
integration`` the integration tier (every test under ``tests/integration`` is marked).
"""

from __future__ import annotations

from pathlib import Path

import pytest

INTEGRATION = Path(__file__).parent / "integration"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-integration", action="store_true",
                     help="also collect the integration tier (real data from ../shared/data)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("--run-integration"):
        return None
    return True if collection_path == INTEGRATION or INTEGRATION in collection_path.parents \
        else None


@pytest.fixture(scope="session", autouse=True)
def _datasets_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the Arrow files ``datasets`` builds from mirror folders out of the user's cache."""
    import datasets

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("hf")))
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)
