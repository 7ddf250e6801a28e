"""Every number transcribed from the seed model cards matches the card text in ../shared/seeds
(tests/unit/test_card_tables.py: the transcribed tables' shape, without the card text)."""

from __future__ import annotations

import pytest
from support import SHARED

from harness.references.cards import card_files, read_card_file

SEEDS = SHARED / "seeds"
CARDS = {name: read_card_file(name) for name in card_files()}
TABLES = [(name, table["id"]) for name, card in CARDS.items() for table in card["tables"]]


def _card_lines(card: dict) -> list[str]:
    path = SEEDS / card["card_file"]
    if not path.is_file():
        pytest.fail(f"seed model card not found at {path}")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def _cells(line: str) -> list[str]:
    """A card table line split into cells (markdown pipes or plain spaces)."""
    return line.replace("|", " ").split()


def _number(cell: str) -> float | None:
    return None if cell == "-" else float(cell)


def _card_rows(lines: list[str], header: list[str]) -> list[list[str]]:
    """The rows printed under ``header`` in the card, up to the first line that is no row."""
    forms = {" ".join(header), "| " + " | ".join(header) + " |"}
    starts = [i for i, line in enumerate(lines) if line in forms]
    assert len(starts) == 1, f"header {header} found {len(starts)} times in the card"
    rows = []
    for line in lines[starts[0] + 1:]:
        if line and set(line) <= set("|-: "):
            continue  # markdown separator
        cells = _cells(line)
        if len(cells) != len(header):
            break
        rows.append(cells)
    return rows


def _table(name: str, table_id: str) -> dict:
    return next(t for t in CARDS[name]["tables"] if t["id"] == table_id)


def test_card_files_name_their_card_and_model() -> None:
    assert sorted(c["card_file"][:3] for c in CARDS.values()) == ["001", "002", "004"]
    for card in CARDS.values():
        assert card["card_model"] in "\n".join(_card_lines(card))


@pytest.mark.parametrize(("name", "table_id"), TABLES)
def test_every_number_matches_the_card_text(name: str, table_id: str) -> None:
    card, table = CARDS[name], _table(name, table_id)
    printed = _card_rows(_card_lines(card), table["header"])
    assert [row[0] for row in table["rows"]] == [row[0] for row in printed]
    for ours, theirs in zip(table["rows"], printed, strict=True):
        assert len(ours) == len(table["header"])
        values = [None if v is None else float(v) for v in ours[1:]]
        assert values == [_number(c) for c in theirs[1:]], f"row {ours[0]} of {table_id}"


@pytest.mark.parametrize(("name", "table_id"), TABLES)
def test_every_printed_model_has_an_id(name: str, table_id: str) -> None:
    table = _table(name, table_id)
    names = table["header"][1:] if table.get("transposed") else [r[0] for r in table["rows"]]
    ids = CARDS[name]["model_ids"]
    assert all(n in ids and "/" in ids[n] for n in names)
