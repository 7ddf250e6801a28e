"""Small task sources written in code, in the original release formats the harness imports.

Each ``write_*`` function writes one dataset folder the way its release ships it (STS-B's
``sts-*.csv``, ``biosses.tsv``, a BEIR folder, Banking77's ``train.csv``/``test.csv`` +
``categories.json``), a few dozen rows built from a fixed vocabulary so that the embedded MiniLM
scores them meaningfully: an STS pair with ``k`` words swapped is scored ``5 - k``, a query shares
words with the document it is judged relevant to, a text's words tell its category.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from support import write_files

SUBJECTS = ["A man", "A woman", "The child", "An old dog", "A young cat", "The chef", "A pilot",
            "The teacher", "A farmer", "The doctor"]
VERBS = ["is playing", "is cooking", "is painting", "is reading", "is cleaning", "is watching",
         "is carrying", "is fixing"]
OBJECTS = ["a guitar", "a large meal", "the fence", "a long book", "the kitchen", "the sunset",
           "a heavy box", "an old bicycle", "the garden", "a small boat"]
PLACES = ["in the park.", "at home.", "on the beach.", "near the river.", "in the city.",
          "under a tree."]
CATEGORIES = {  # Banking77 intent names (not in sorted order), with words that tell them apart
    "lost_or_stolen_card": ["lost", "stolen", "missing", "theft", "block", "freeze"],
    "card_arrival": ["card", "arrive", "delivery", "post", "mail", "wait"],
    "exchange_rate": ["rate", "currency", "euro", "dollar", "convert", "exchange"],
}


def _sentence(rng: random.Random) -> list[str]:
    return [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(PLACES)]


def sts_pairs(count: int, seed: int) -> list[tuple[str, str, float]]:
    """(sentence1, sentence2, score): sentence2 has ``k`` of sentence1's four parts replaced
    and ``k`` sets the score (1 to 4 parts -> 4.0 down to 1.0, minus a small offset). No pair
    is two equal sentences: their cosine 1.0 +- float noise would make the rank order (and so
    Spearman's rho) depend on rounding."""
    rng = random.Random(seed)
    pairs = []
    for number in range(count):
        first = _sentence(rng)
        changed = 1 + number % 4
        second = list(first)
        for index in rng.sample(range(4), changed):
            pools = (SUBJECTS, VERBS, OBJECTS, PLACES)[index]
            second[index] = rng.choice([p for p in pools if p != first[index]])
        score = round(5.0 - changed - rng.random() * 0.8, 2)
        pairs.append((" ".join(first), " ".join(second), max(score, 0.0)))
    return pairs


def write_stsbenchmark(folder: Path, count: int = 30) -> Path:
    """``sts-{train,dev,test}.csv`` as the STS-B release ships them (tab-separated, no quoting:
    genre, file, year, id, score, sentence1, sentence2)."""
    files = {}
    for offset, part in enumerate(("train", "dev", "test")):
        rows = sts_pairs(count if part == "test" else 6, seed=offset)
        files[f"sts-{part}.csv"] = "".join(
            f"main-captions\tMSRvid\t2012{part}\t{number:04d}\t{score}\t{one}\t{two}\n"
            for number, (one, two, score) in enumerate(rows))
    return write_files(folder, files)


def write_biosses(folder: Path, count: int = 20) -> Path:
    """``biosses.tsv``: id, sentence1, sentence2, score_mean (0-4, BIOSSES' scale)."""
    rows = "".join(f"{number}\t{one}\t{two}\t{score * 0.8:.2f}\n"
                   for number, (one, two, score) in enumerate(sts_pairs(count, seed=7)))
    return write_files(folder, {"biosses.tsv": "id\tsentence1\tsentence2\tscore_mean\n" + rows})


def write_beir(folder: Path, documents: int = 24, queries: int = 8) -> Path:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/test.tsv``; query ``q{i}``
    rephrases document ``d{i}`` (and ``d{i+8}`` is judged partly relevant)."""
    rng = random.Random(3)
    texts = [" ".join(_sentence(rng)) for _ in range(documents)]
    corpus = [{"_id": f"d{i}", "title": f"Doc {i}", "text": text} for i, text in enumerate(texts)]
    asked = [{"_id": f"q{i}", "text": f"who {' '.join(texts[i].split()[2:])}"}
             for i in range(queries)]
    qrels = "".join(f"q{i}\td{i}\t2\nq{i}\td{i + queries}\t1\n" for i in range(queries))
    return write_files(folder, {
        "corpus.jsonl": "".join(json.dumps(doc) + "\n" for doc in corpus),
        "queries.jsonl": "".join(json.dumps(query) + "\n" for query in asked),
        "qrels/test.tsv": "query-id\tcorpus-id\tscore\n" + qrels,
    })


def classification_rows(count: int, seed: int) -> list[tuple[str, str]]:
    """(text, category): two of the category's words and one of another category's in a
    neutral sentence, so that some texts are ambiguous."""
    rng = random.Random(seed)
    names = sorted(CATEGORIES)
    rows = []
    for number in range(count):
        name = names[number % len(names)]
        other = rng.choice([n for n in names if n != name])
        one, two = rng.sample(CATEGORIES[name], 2)
        foreign = rng.choice(CATEGORIES[other])
        rows.append((f"my {one} and {two} question, not about the {foreign}", name))
    return rows


def write_banking77(folder: Path, train: int = 24, test: int = 15) -> Path:
    """The PolyAI release layout: ``train.csv``/``test.csv`` (text,category) + categories.json."""
    def csv_text(rows: list[tuple[str, str]]) -> str:
        return "text,category\n" + "".join(f'"{text}",{name}\n' for text, name in rows)

    return write_files(folder, {
        "categories.json": json.dumps(list(CATEGORIES)),
        "train.csv": csv_text(classification_rows(train, seed=11)),
        "test.csv": csv_text(classification_rows(test, seed=12)),
    })


TINY_TASKS = ["STSBenchmark", "BIOSSES", "SciFact", "Banking77Classification"]


def write_tiny_sources(src: Path) -> Path:
    """A folder of dataset folders, one per task of ``TINY_TASKS`` (named so that
    ``import_dataset`` recognises each)."""
    write_stsbenchmark(src / "stsbenchmark")
    write_biosses(src / "biosses")
    write_beir(src / "scifact")
    write_banking77(src / "banking77")
    return src


def squad_document(paragraphs: list[tuple[str, list[tuple[str, str, int]]]]) -> dict:
    """A SQuAD v1.1 file: paragraphs of (context, [(question id, question, answer start)])."""
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": [
            {"id": qid, "question": question,
             "answers": [{"text": context[start:start + 5], "answer_start": start}]}
            for qid, question, start in qas]}
        for context, qas in paragraphs]}]}


def longtext_paragraphs(count: int, seed: int) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """Passages of 700-odd characters; each has one question answered early (short) and one
    answered after character 512 (long), asking about the sentence that holds the answer."""
    rng = random.Random(seed)
    paragraphs = []
    for number in range(count):
        sentences = [" ".join(_sentence(rng)) for _ in range(16)]
        context = " ".join(sentences)
        late = next(i for i, s in enumerate(sentences) if context.index(s) >= 520)
        qas = [(f"p{number}-short", f"who {sentences[0].split(' ', 2)[2]}", 0),
               (f"p{number}-long", f"who {sentences[late].split(' ', 2)[2]}",
                context.index(sentences[late]))]
        paragraphs.append((context, qas))
    return paragraphs


def write_longtext_sources(data_dir: Path) -> Path:
    """The source files of LongTextSQuADDev (SQuAD v1.1 in two parts) and LongTextCAIL2019Dev
    (CAIL2019: ``is_impossible`` as a string, YES/NO answers at -1) where the registry expects
    them: 8 and 6 passages with a long and a short question each, among passages without
    questions (so that Recall@5 is not 1 by construction)."""
    squad = longtext_paragraphs(8, seed=21)
    distractors = [(context, []) for context, _ in longtext_paragraphs(24, seed=23)]
    cail = squad_document(longtext_paragraphs(6, seed=22) + distractors[:10])
    qas = cail["data"][0]["paragraphs"][0]["qas"]
    for qa in qas:
        qa["is_impossible"] = "false"
    qas.append({"id": "unanswerable", "question": "why?", "answers": [],
                "is_impossible": "true"})
    qas.append({"id": "yes-no", "question": "is it?", "is_impossible": "false",
                "answers": [{"text": "YES", "answer_start": -1}]})
    return write_files(data_dir, {
        "squad/squad_dev_v1.1.part0.json": json.dumps(squad_document(squad[:5] + distractors[:12])),
        "squad/squad_dev_v1.1.part1.json": json.dumps(squad_document(squad[5:] + distractors[12:])),
        "cail2019_rc/dev_ground_truth.json": json.dumps(cail, ensure_ascii=False),
    })
