"""Label values of a classification import: written the way the task's hub data holds them.

mteb 2.x keeps no label list per task except the counts in its descriptive statistics
(``label_statistics.labels``), which are the values after the task's ``dataset_transform``:
names for some tasks (``alarm_query``, ...), ids for most (``0``..``5``). A source label is kept
when it is one of those values. A name for a task whose data holds ids is encoded with the names
in id order: ``labels.json`` in the source folder (a JSON list, or an object name -> id) or, for
the tasks below, the hub dataset's own ClassLabel names. A task with a ``dataset_transform`` of its
own may map labels itself (e.g. ``formal`` -> 1), so there a label outside the list is kept too;
the import then checks what the transform makes of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness._compat import stats_labels
from harness.data.importers.base import (
    own_transform,
    parse_json,
    read_text,
    shown,
    source_error,
)

if TYPE_CHECKING:
    from mteb.abstasks import AbsTask

LABELS_FILE = "labels.json"

_EMOTION = ("sadness", "joy", "love", "anger", "fear", "surprise")
HUB_LABEL_NAMES: dict[str, tuple[str, ...]] = {
    # dair-ai/emotion's ClassLabel names; mteb/emotion keeps its ids (the test split's counts per
    # id in mteb's statistics are dair-ai's per name: 581 sadness, 695 joy, 159 love, ...)
    "EmotionClassification": _EMOTION,
    "EmotionClassification.v2": _EMOTION,
}
"""Label names in id order for tasks whose hub data stores ids, where mteb does not say."""


class LabelCoder:
    """Encodes one task's source labels; see the module docstring for the rules."""

    def __init__(self, task: AbsTask, src: Path):
        self.task_name = task.metadata.name
        self.known = stats_labels(task.metadata.descriptive_stats)
        self.ids = self.known is not None and all(_is_int(label) for label in self.known)
        self.free = own_transform(task)
        path = src / LABELS_FILE
        names = HUB_LABEL_NAMES.get(self.task_name)
        self.names = _names_file(path) if path.is_file() else {
            name: index for index, name in enumerate(names or ())}
        self._by_id = {index: name for name, index in self.names.items()}
        self.origin = path.name if path.is_file() else "mteb's hub data"

    def encode(self, value: Any, path: Path, line: int) -> int | str:
        """The label to write for ``value`` read at ``path:line``."""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise source_error(path, line, f"label {shown(value)} is not a name or an integer id")
        text = str(value).strip()
        if not text:
            raise source_error(path, line, "empty label")
        if self.known is None or text in self.known or self.free and text not in self.names:
            return int(text) if _is_int(text) else text
        if text in self.names:
            label = self.names[text]
            if str(label) not in self.known:
                raise source_error(path, line, f"label {shown(text)} has id {label} in "
                                   f"{self.origin}, which {self.task_name} does not use")
            return label
        listed = _listing(self.known)
        hint = (f"; its data stores ids: give ids, or list the names in id order in "
                f"{LABELS_FILE} beside the table files" if self.ids and not _is_int(text) else "")
        raise source_error(path, line, f"label {shown(text)} is not one of {self.task_name}'s "
                                       f"labels ({listed}){hint}")

    def name_of(self, label: int | str) -> str | None:
        """The name of an encoded id, when the names are known."""
        return self._by_id.get(label) if isinstance(label, int) else None


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _listing(labels: set[str]) -> str:
    """``0..76`` for consecutive ids, else the first 20 labels."""
    if all(map(_is_int, labels)):
        ids = sorted(map(int, labels))
        if len(ids) > 3 and ids == list(range(ids[0], ids[-1] + 1)):
            return f"{ids[0]}..{ids[-1]}"
        return ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
    names = sorted(labels)
    return ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")


def _names_file(path: Path) -> dict[str, int]:
    """``labels.json``: a list of distinct names (index = id) or an object name -> integer id."""
    data = parse_json(read_text(path), path, None)
    if isinstance(data, list) and all(isinstance(name, str) for name in data):
        names = {name: index for index, name in enumerate(data)}
        if len(names) == len(data):
            return names
    elif isinstance(data, dict) and len(set(data.values())) == len(data) and all(
            isinstance(i, int) and not isinstance(i, bool) for i in data.values()):
        return dict(data)
    raise source_error(path, None, "expected a JSON list of distinct label names in id order, "
                                   "or an object mapping each name to a distinct integer id")
