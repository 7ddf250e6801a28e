"""Long-text Recall@5 suite (stella model card): build sets from MRC data, register mteb tasks."""

from harness.longtext.build import BuildManifest, build_longtext, longtext_dir
from harness.longtext.positions import DEFAULT_UNIT, UnitCount, threshold_report
from harness.longtext.sets import LONGTEXT_SETS, is_longtext_task
from harness.longtext.tasks import build_set, longtext_task

__all__ = [
    "DEFAULT_UNIT",
    "LONGTEXT_SETS",
    "BuildManifest",
    "UnitCount",
    "build_longtext",
    "build_set",
    "is_longtext_task",
    "longtext_dir",
    "longtext_task",
    "threshold_report",
]
