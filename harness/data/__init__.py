"""Offline task data: the local mirror of hub datasets and importers from original releases."""

from harness.data.importers import FORMATS, ImportSummary, formats_for, import_dataset
from harness.data.mirror import (
    check_data_root,
    data_status,
    local_dataset_dir,
    missing_data_error,
    use_local_data,
)

__all__ = [
    "FORMATS",
    "ImportSummary",
    "check_data_root",
    "data_status",
    "formats_for",
    "import_dataset",
    "local_dataset_dir",
    "missing_data_error",
    "use_local_data",
]
