"""Tables transcribed from the seed model cards (``card_*.yaml`` beside this module).

Each YAML file names the card file it came from and the card's model id; every table keeps the
card's header and rows verbatim (values x100 as printed), plus our annotations: the benchmark
a table averages over, the metric, and the Hugging Face id of each printed model name.
"""

from __future__ import annotations

import re
from importlib import resources

import pandas as pd
import yaml

COLUMNS = ["card_file", "card_model", "table", "title", "benchmark", "metric", "model",
           "model_id", "column", "key", "n_tasks", "kind", "value"]

# Card column labels (English and the Chinese translation of card 002) -> mteb task types.
CATEGORY_KEYS = {
    "Average": "Average", "平均": "Average",
    "Classification": "Classification", "分类": "Classification",
    "Clustering": "Clustering", "聚类": "Clustering",
    "Pair Classification": "PairClassification", "配对分类": "PairClassification",
    "Reranking": "Reranking", "重排": "Reranking",
    "Retrieval": "Retrieval", "检索": "Retrieval",
    "STS": "STS",
    "Summarization": "Summarization", "摘要": "Summarization",
}
AVERAGE = "Average"
_COUNTED = re.compile(r"^(?P<name>.+?) \((?P<n>\d+)\)$")


def card_files() -> list[str]:
    """Names of the packaged ``card_*.yaml`` files, sorted."""
    package = resources.files(__package__)
    return sorted(p.name for p in package.iterdir() if re.fullmatch(r"card_.*\.yaml", p.name))


def read_card_file(name: str) -> dict:
    """One packaged card file, parsed."""
    return yaml.safe_load(resources.files(__package__).joinpath(name).read_text("utf-8"))


def column_key(label: str) -> tuple[str, int | None]:
    """``"Pair Classification (3)"`` -> ``("PairClassification", 3)``; other labels as they are."""
    match = _COUNTED.match(label)
    name, n = (match["name"], int(match["n"])) if match else (label, None)
    return CATEGORY_KEYS.get(name, name), n


def _table_frame(card: dict, table: dict) -> pd.DataFrame:
    header, transposed = table["header"], table.get("transposed", False)
    records = []
    for row in table["rows"]:
        for index, (label, value) in enumerate(zip(header[1:], row[1:], strict=True)):
            model, column = (label, row[0]) if transposed else (row[0], label)
            key, n_tasks = column_key(column)
            records.append({
                "card_file": card["card_file"], "card_model": card["card_model"],
                "table": table["id"], "title": table["title"],
                "benchmark": table.get("benchmark"), "metric": table["metric"],
                "model": model, "model_id": card["model_ids"][model], "column": column,
                "key": key, "n_tasks": n_tasks,
                "kind": "info" if index < table["info_columns"] else "score",
                "value": value,
            })
    frame = pd.DataFrame(records, columns=COLUMNS)
    # An "Average" without a printed task count averages every other score column of its table.
    scores = frame["kind"] == "score"
    n_keys = frame.loc[scores & (frame["key"] != AVERAGE), "key"].nunique()
    frame.loc[scores & (frame["key"] != AVERAGE) & frame["n_tasks"].isna(), "n_tasks"] = 1
    frame.loc[scores & (frame["key"] == AVERAGE) & frame["n_tasks"].isna(), "n_tasks"] = n_keys
    frame["n_tasks"] = frame["n_tasks"].astype("Int64")
    frame["value"] = pd.to_numeric(frame["value"]).astype(float)
    return frame


def load_card_tables() -> dict[str, pd.DataFrame]:
    """Every transcribed table as a tidy frame (one row per model and column), by table id.

    Columns: see :data:`COLUMNS`; ``kind`` is ``score`` (``value`` x100 as on the card; ``key``
    an mteb task type, ``Average`` or a task name, ``n_tasks`` how many tasks it averages) or
    ``info`` (model size, dimension, sequence length).
    """
    tables = {}
    for name in card_files():
        card = read_card_file(name)
        for table in card["tables"]:
            tables[table["id"]] = _table_frame(card, table)
    return tables
