"""Read reading-comprehension files (SQuAD-style or CAIL2019) into question-passage pairs.

A bad file raises one UsageError line naming the file and the entry (``data[i].paragraphs[j]
.qas[k]``), or the line for text and JSON syntax errors; quoted values are clipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.data.importers.base import shown
from harness.errors import UsageError

Fmt = Literal["squad", "cail"]
FORMATS: tuple[str, ...] = ("squad", "cail")


@dataclass(frozen=True)
class Pair:
    """An answerable question, its passage index and its earliest span answer's char offset."""

    query_id: str
    question: str
    passage: int
    answer_start: int


@dataclass
class SourceData:
    """Distinct passages (first-seen order), answerable pairs, counts of dropped questions."""

    passages: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    unanswerable: int = 0
    no_span: int = 0


def _bad(path: Path, where: str, what: str) -> UsageError:
    return UsageError(f"malformed {path.name}: {where}: {what}")


def _field(path: Path, where: str, obj: Any, key: str, kind: type) -> Any:
    """Return obj[key] checked to be of `kind` (bools are never accepted as ints)."""
    if not isinstance(obj, dict):
        raise _bad(path, where, "expected an object")
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(path, where, f"{key!r} missing or not a {kind.__name__}")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _bad(path, where, f"{key!r} holds an unpaired surrogate "
                                    f"{value[exc.start]!r}") from None
    return value


def _load_json(path: Path) -> list[Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _bad(path, f"line {line}", f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    if not text.strip():
        raise _bad(path, "top level", "file is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"malformed {path.name}: invalid JSON ({exc.msg}, line {exc.lineno})"
                           ) from None
    except RecursionError:
        raise _bad(path, "top level", "invalid JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise _bad(path, "top level", f"invalid JSON ({str(exc)[:100]})") from None
    return _field(path, "top level", doc, "data", list)


def _impossible(path: Path, where: str, qa: dict[str, Any], fmt: Fmt) -> bool:
    """The `is_impossible` flag: a bool in SQuAD 2.0, the string "true"/"false" in CAIL."""
    flag = qa.get("is_impossible", "false" if fmt == "cail" else False)
    allowed = ("true", "false") if fmt == "cail" else (True, False)
    if flag not in allowed or type(flag) is not type(allowed[0]):
        raise _bad(path, where, f"'is_impossible' must be one of {allowed}, got {shown(flag)}")
    return flag in ("true", True)


def _span_starts(path: Path, where: str, qa: dict[str, Any], context: str) -> list[int]:
    """Start offsets of the span answers (YES/NO and unlocated answers carry answer_start -1)."""
    starts = []
    for a, answer in enumerate(_field(path, where, qa, "answers", list)):
        at = f"{where}.answers[{a}]"
        _field(path, at, answer, "text", str)
        start = _field(path, at, answer, "answer_start", int)
        if start > len(context):
            raise _bad(path, at, f"answer_start {start} beyond the passage ({len(context)} chars)")
        if start >= 0:
            starts.append(start)
    return starts


def read_source(paths: list[Path], fmt: Fmt) -> SourceData:
    """Read and concatenate the files (in order), validating every entry used.

    Unanswerable questions and questions without a span answer are dropped (and counted);
    identical passages are merged. Raises UsageError naming the file and entry on bad input.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown source format {fmt!r}; valid choices: {', '.join(FORMATS)}")
    data = SourceData()
    passage_index: dict[str, int] = {}
    seen: dict[str, str] = {}
    for path in paths:
        for i, article in enumerate(_load_json(path)):
            for j, para in enumerate(_field(path, f"data[{i}]", article, "paragraphs", list)):
                where = f"data[{i}].paragraphs[{j}]"
                context = _field(path, where, para, "context", str)
                qas = _field(path, where, para, "qas", list)
                if context not in passage_index:
                    passage_index[context] = len(data.passages)
                    data.passages.append(context)
                for k, qa in enumerate(qas):
                    at = f"{where}.qas[{k}]"
                    qid = _field(path, at, qa, "id", str)
                    question = _field(path, at, qa, "question", str)
                    if qid in seen:
                        raise _bad(path, at,
                                   f"question id {shown(qid)} already used in {seen[qid]}")
                    seen[qid] = path.name
                    impossible = _impossible(path, at, qa, fmt)
                    starts = _span_starts(path, at, qa, context)
                    if impossible or not qa["answers"]:
                        data.unanswerable += 1
                    elif not starts:
                        data.no_span += 1
                    else:
                        pair = Pair(qid, question, passage_index[context], min(starts))
                        data.pairs.append(pair)
    return data
