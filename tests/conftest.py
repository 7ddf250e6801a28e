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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)
