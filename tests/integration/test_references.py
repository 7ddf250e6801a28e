"""Every number transcribed from the seed model cards matches the card text."""

from __future__ import annotations

from collections import Counter

import mteb
import pytest
from support import SHARED

from harness.references import load_card_tables
from harness.references.cards import card_files, column_key, read_card_file

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


def test_category_columns_match_the_mteb_benchmark() -> None:
    """The per-category task counts of the English MTEB tables are mteb's MTEB(eng, v1)."""
    benchmark = Counter(t.metadata.type for t in mteb.get_benchmark("MTEB(eng, v1)").tasks)
    for name, table_id in TABLES:
        table = _table(name, table_id)
        if table.get("benchmark") != "MTEB(eng, v1)":
            continue
        keys = dict(column_key(label) for label in table["header"][1 + table["info_columns"]:])
        assert keys.pop("Average") == sum(benchmark.values())
        assert keys == dict(benchmark), table_id


def test_load_card_tables_is_tidy() -> None:
    tables = load_card_tables()
    assert set(tables) == {t for _, t in TABLES}
    gte = tables["gte-small/mteb"]
    assert len(gte) == 14 * 11
    row = gte[(gte["model"] == "gte-small") & (gte["key"] == "PairClassification")].iloc[0]
    assert (row["model_id"], row["n_tasks"], row["kind"], row["value"]) == (
        "thenlper/gte-small", 3, "score", 83.54)
    ada = gte[(gte["model"] == "text-embedding-ada-002") & (gte["column"] == "Model Size (GB)")]
    assert ada["value"].isna().all() and (ada["kind"] == "info").all()
    long_text = tables["stella/long-text"]
    cell = long_text[(long_text["model"] == "stella-base-zh") & (long_text["key"] == "Average")]
    assert (cell["n_tasks"].item(), cell["value"].item()) == (6, 78.96)
    loco = tables["gte-large-en-v1.5/loco"]
    mine = loco[(loco["model_id"] == "Alibaba-NLP/gte-large-en-v1.5") & (loco["kind"] == "score")]
    assert dict(zip(mine["key"], mine["value"], strict=True))["Average"] == 86.71
    assert mine["n_tasks"].tolist() == [5, 1, 1, 1, 1, 1]
