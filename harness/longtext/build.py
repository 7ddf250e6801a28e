"""Build a long-text Recall@5 retrieval set (stella model card protocol) in mteb's local layout.

A pair (question, passage) is long when its earliest span answer starts at or after `threshold`
(see `positions` for the unit). All long pairs are kept and short ones undersampled (seeded) to
`short_long_ratio`. The corpus holds every distinct passage of the source, kept or not, so each
question is retrieved among all the split's passages; queries are the kept questions; each qrel
links a question to its own passage. Output is byte-identical for the same inputs and seed.
Files are only written inside `out` (a symlink leading out of it is refused, a symlink in place
of an output file is replaced, not written through), each by an atomic rename.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.importers.writer import safe_join
from harness.errors import UsageError
from harness.fileio import atomic_write_bytes
from harness.longtext.positions import DEFAULT_TOKENIZER, DEFAULT_UNIT, Unit, answer_positions
from harness.longtext.source import Fmt, read_source

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

HUB_PREFIX = "harness-longtext"
CORPUS, QUERIES, QRELS, CARD, MANIFEST = (
    "corpus.jsonl",
    "queries.jsonl",
    "qrels.jsonl",
    "README.md",
    "manifest.json",
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class BuildManifest:
    """What a build used and produced; written as `manifest.json` next to the data."""

    name: str
    format: str
    position_unit: str
    threshold: int
    short_long_ratio: tuple[int, int]
    seed: int
    tokenizer: str | None
    long_available: int
    long_kept: int
    short_available: int
    short_kept: int
    dropped_unanswerable: int
    dropped_no_span: int
    corpus_size: int
    sources: tuple[tuple[str, str], ...]
    outputs: tuple[tuple[str, str], ...]

    @property
    def checksum(self) -> str:
        """One sha256 over the output files' checksums: equal checksums mean identical outputs."""
        return _sha256("".join(f"{name}={digest}\n" for name, digest in self.outputs).encode())

    def to_json(self) -> str:
        """The manifest as pretty, key-sorted JSON."""
        record: dict[str, Any] = asdict(self)
        record["sources"] = [{"file": f, "sha256": h} for f, h in self.sources]
        record["outputs"] = {f: h for f, h in self.outputs}
        record["checksum"] = self.checksum
        return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def longtext_dir(out: Path, name: str) -> Path:
    """Folder of a built set: `out/harness-longtext/<name>` (the task's dataset path)."""
    return out / HUB_PREFIX / name


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _card(fields: dict[str, Any], n_queries: int) -> bytes:
    """Dataset card whose `configs` let `datasets`/mteb load the three subsets as split `test`."""
    configs = "".join(
        f"- config_name: {config}\n  data_files:\n  - split: test\n    path: {path}\n"
        for config, path in (("corpus", CORPUS), ("queries", QUERIES), ("default", QRELS))
    )
    params = "\n".join(
        f"- {key}: {':'.join(map(str, value)) if key == 'short_long_ratio' else value}"
        for key, value in fields.items()
        if value is not None
    )
    body = (
        f"# {fields['name']}\n\nLong-text retrieval set (stella model card protocol, Recall@5) "
        f"built by mteb-harness: {n_queries} questions (all long pairs, sampled short ones), each "
        f"to be found among all {fields['corpus_size']} distinct passages of the source.\n\n"
        f"{params}\n"
    )
    return f"---\nconfigs:\n{configs}---\n\n{body}".encode()


def _short_target(n_long: int, ratio: tuple[int, int]) -> int:
    """Short pairs wanted next to `n_long` long ones: n_long * short / long, rounded half up."""
    short, long = ratio
    return (2 * n_long * short + long) // (2 * long)


def _validate(name: str, threshold: int, ratio: tuple[int, int], seed: int) -> None:
    if not _NAME.fullmatch(name):
        raise UsageError(f"invalid set name {name!r}: use letters, digits, '.', '_' or '-'")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise UsageError(f"threshold must be a positive integer, got {threshold!r}")
    if len(ratio) != 2 or not all(isinstance(r, int) and r > 0 for r in ratio):
        raise UsageError(f"short_long_ratio must be two positive integers, got {ratio!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"seed must be an integer, got {seed!r}")


def build_longtext(
    src: Path | list[Path],
    fmt: Fmt,
    name: str,
    out: Path,
    position_unit: Unit = DEFAULT_UNIT,
    threshold: int = 512,
    short_long_ratio: tuple[int, int] = (1, 2),
    seed: int = 0,
    tokenizer: PreTrainedTokenizerBase | None = None,
) -> BuildManifest:
    """Build set `name` from MRC file(s) `src` into `longtext_dir(out, name)`; return its manifest.

    `short_long_ratio` is short:long; short pairs are sampled with `random.Random(seed)` and all
    kept pairs stay in source order. The token unit uses `tokenizer` (default: all-MiniLM-L6-v2).
    """
    short_long_ratio = tuple(short_long_ratio)
    _validate(name, threshold, short_long_ratio, seed)
    paths = [Path(src)] if isinstance(src, (str, Path)) else [Path(p) for p in src]
    if not paths:
        raise UsageError("no source file given")
    data = read_source(paths, fmt)
    positions = answer_positions(data, position_unit, tokenizer)
    long_idx = [i for i, pos in enumerate(positions) if pos >= threshold]
    short_idx = [i for i, pos in enumerate(positions) if pos < threshold]
    if not long_idx:
        raise UsageError(
            f"no answer of {', '.join(p.name for p in paths)} starts at or after {position_unit} "
            f"{threshold}: nothing to build (try the other position unit or a lower threshold)"
        )
    short_want = _short_target(len(long_idx), short_long_ratio)
    sampled = random.Random(seed).sample(short_idx, min(short_want, len(short_idx)))
    kept = [data.pairs[i] for i in sorted(long_idx + sampled)]

    ids = [f"p{i:05d}" for i in range(len(data.passages))]
    files = {
        CORPUS: _jsonl(
            [{"_id": ids[i], "title": "", "text": t} for i, t in enumerate(data.passages)]
        ),
        QUERIES: _jsonl([{"_id": p.query_id, "text": p.question} for p in kept]),
        QRELS: _jsonl(
            [{"query-id": p.query_id, "corpus-id": ids[p.passage], "score": 1} for p in kept]
        ),
    }
    fields: dict[str, Any] = {
        "name": name,
        "format": fmt,
        "position_unit": position_unit,
        "threshold": threshold,
        "short_long_ratio": short_long_ratio,
        "seed": seed,
        "tokenizer": None,
        "long_available": len(long_idx),
        "long_kept": len(long_idx),
        "short_available": len(short_idx),
        "short_kept": len(sampled),
        "dropped_unanswerable": data.unanswerable,
        "dropped_no_span": data.no_span,
        "corpus_size": len(data.passages),
    }
    if position_unit == "token":
        fields["tokenizer"] = DEFAULT_TOKENIZER if tokenizer is None else tokenizer.name_or_path
    files[CARD] = _card(fields, len(kept))
    manifest = BuildManifest(
        **fields,
        sources=tuple((p.name, _sha256(p.read_bytes())) for p in paths),
        outputs=tuple((f, _sha256(content)) for f, content in sorted(files.items())),
    )
    folder = safe_join(out, f"{HUB_PREFIX}/{name}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)  # a half-written build must not look complete
        for filename, content in [*files.items(), (MANIFEST, manifest.to_json().encode())]:
            atomic_write_bytes(folder / filename, content)
    except OSError as exc:
        raise UsageError(f"cannot write into --out {out}: {exc.strerror or exc}") from None
    return manifest
