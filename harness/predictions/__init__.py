"""Per-item records of a run (``save_predictions=true``): built from mteb's prediction files,
scored with mteb's metrics, read back by ``harness compare --significance``, ``regress`` and
``diff``."""

from harness.predictions.records import (
    PREDICTIONS_DIR,
    SubsetRecord,
    TaskRecord,
    build_record,
    kind_of,
    mteb_prediction_folder,
    read_record,
    record_path,
    save_predictions,
)
from harness.predictions.scorers import Scorer, scorer_for
from harness.predictions.texts import item_texts, texts_digest

__all__ = ["PREDICTIONS_DIR", "Scorer", "SubsetRecord", "TaskRecord", "build_record",
           "item_texts", "kind_of", "mteb_prediction_folder", "read_record", "record_path",
           "save_predictions", "scorer_for", "texts_digest"]
