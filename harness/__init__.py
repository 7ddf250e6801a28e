"""mteb-harness: evaluate text-embedding models on MTEB and reproduce published scores.

The public API is :mod:`harness.api`; its names are importable from here too
(``from harness import run, explain, compare``), loaded on first use so ``import harness`` stays
cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def _api() -> Any:
    return importlib.import_module("harness.api")


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return list(_api().__all__)
    if not name.startswith("_") and name in _api().__all__:
        return getattr(_api(), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_api().__all__])
