"""Offline task data: the local mirror of hub datasets and importers from original releases."""

from harness.data.importers import ImportSummary, import_dataset, importable_tasks
from harness.data.mirror import (
    check_data_root,
    data_status,
    local_dataset_dir,
    missing_data_error,
    use_local_data,
)

__all__ = [
    "ImportSummary",
    "check_data_root",
    "data_status",
    "import_dataset",
    "importable_tasks",
    "local_dataset_dir",
    "missing_data_error",
    "use_local_data",
]
