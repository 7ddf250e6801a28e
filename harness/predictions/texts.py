"""The texts of a record's items, read from the task's data (for ``harness diff`` and to check
that two runs, or a run and the data read back, hold the same items)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from harness import _compat


def item_texts(task: Any, kind: str, data: Any, ids: list) -> list[tuple[str, ...]]:
    """Per item id: (sentence1, sentence2) for STS and pair classification, (query,) for
    retrieval, (text,) for classification; ``data`` is the subset's split as mteb evaluated it."""
    if kind == "sts":
        first, second = task.column_names
        columns = [data[first], data[second]]
    elif kind == "pair":
        data = _compat.single_row_pairs(data)
        columns = [data[task.input1_column_name], data[task.input2_column_name]]
    elif kind == "retrieval":
        queries = data["queries"]
        text = dict(zip(queries["id"], queries["text"], strict=True))
        return [(str(text[qid]),) for qid in ids]
    elif kind == "classification":
        columns = [data[task.input_column_name]]
    else:
        return []
    return [tuple(str(column[i]) for column in columns) for i in ids]


def texts_digest(task: Any, kind: str, data: Any, ids: list) -> str:
    """sha256 of the items' ids and texts, in record order."""
    texts = item_texts(task, kind, data, ids)
    return hashlib.sha256(json.dumps([list(map(str, ids)), texts]).encode("utf-8")).hexdigest()
