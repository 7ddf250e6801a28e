"""The model cards' tables transcribed in harness/references: their categories are mteb's
benchmark and load_card_tables gives one tidy row per cell (the numbers are checked against the
card text by tests/integration/test_references.py)."""

from __future__ import annotations

from collections import Counter

import mteb

from harness.references import load_card_tables
from harness.references.cards import card_files, column_key, read_card_file

CARDS = {name: read_card_file(name) for name in card_files()}
TABLES = [(name, table["id"]) for name, card in CARDS.items() for table in card["tables"]]


def _table(name: str, table_id: str) -> dict:
    return next(t for t in CARDS[name]["tables"] if t["id"] == table_id)


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
