"""Published reference scores: results-repo folders (or the hub) and model-card tables."""

from harness.references.cards import load_card_tables
from harness.references.results_repo import (
    PublishedTask,
    download_hub_results,
    published_models,
    published_tasks,
)

__all__ = [
    "PublishedTask",
    "download_hub_results",
    "load_card_tables",
    "published_models",
    "published_tasks",
]
