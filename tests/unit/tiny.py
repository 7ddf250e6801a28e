"""Small task data written in code (never ../shared): an STS-Benchmark release file, a BEIR
folder and a Banking77-layout release, for the unit tier"s runs of the embedded MiniLM."""

from __future__ import annotations

import json
import random

WORDS = [
    "cat", "dog", "man", "woman", "child", "plays", "guitar", "runs", "park", "eats", "food",
    "car", "drives", "road", "reads", "book", "sun", "shines", "rain", "falls", "city", "night",
    "music", "loud", "river", "flows", "boat", "sails", "sea", "bird", "sings", "tree", "grows",
    "garden", "horse", "field", "train", "station", "bridge", "snow",
]
TOPICS = {
    "card_arrival": ["card", "arrive", "mail", "delivery", "post", "week", "ordered", "waiting"],
    "exchange_rate": ["rate", "currency", "euro", "dollar", "convert", "exchange", "pound", "fee"],
    "lost_or_stolen_card": ["lost", "stolen", "wallet", "missing", "thief", "block", "freeze",
                            "stop"],
}
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def sts_source(n: int = 60, seed: int = 0) -> dict[str, str]:
    """An STS-Benchmark release file: pairs sharing k of 6 words, gold 5 k / 6."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        first = rng.sample(WORDS, 6)
        shared = rng.randint(0, 6)
        second = first[:shared] + rng.sample([w for w in WORDS if w not in first], 6 - shared)
        rng.shuffle(second)
        lines.append(f"main-captions\tMSRvid\t2012test\t{i:04d}\t{5 * shared / 6:.3f}\t"
                     f"A {' '.join(first)}.\tA {' '.join(second)}.")
    return {"sts-test.csv": "\n".join(lines) + "\n"}


def beir_source(docs: int = 60, queries: int = 24, seed: int = 1) -> dict[str, str]:
    """A BEIR folder: each query is three words of its relevant document plus one other."""
    rng = random.Random(seed)
    corpus = [{"_id": f"d{i}", "title": "", "text": " ".join(rng.sample(WORDS, 8))}
              for i in range(docs)]
    rows, qrels = [], ["query-id\tcorpus-id\tscore"]
    for i in range(queries):
        doc = corpus[rng.randrange(docs)]
        rows.append({"_id": f"q{i}", "text": " ".join(
            rng.sample(doc["text"].split(), 3) + rng.sample(WORDS, 1))})
        qrels.append(f"q{i}\t{doc['_id']}\t1")
    return {"corpus.jsonl": "\n".join(json.dumps(c) for c in corpus) + "\n",
            "queries.jsonl": "\n".join(json.dumps(q) for q in rows) + "\n",
            "qrels/test.tsv": "\n".join(qrels) + "\n"}


def classification_source(train: int = 10, test: int = 6, seed: int = 2) -> dict[str, str]:
    """A Banking77-layout release with three intents of distinct vocabularies."""
    rng = random.Random(seed)

    def rows(n: int) -> str:
        return "".join(f"{' '.join(rng.sample(words, 4))} {rng.choice(WORDS)},{name}\n"
                       for name, words in TOPICS.items() for _ in range(n))

    return {"train.csv": "text,category\n" + rows(train), "test.csv": "text,category\n"
            + rows(test), "categories.json": json.dumps(list(TOPICS))}
