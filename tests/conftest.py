"""Test tiers: the default tier is ``tests/unit`` (fast, no ../shared); the integration tier is
``tests/integration`` (real data from ../shared/data), collected only with ``--run-integration``,
and the unit-directory modules marked ``pytestmark = pytest.mark.integration`` (no ../shared,
but seconds each: worker processes, wheel builds, sweeps, kill tests, fuzzing, many runs).

``python -m pytest -q`` runs the default tier (marked tests deselected); ``python -m pytest -q
--run-integration -m integration`` the integration tier.
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
    if config.getoption("--run-integration"):
        return
    deselected = [item for item in items if item.get_closest_marker("integration")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("integration")]
