"""Scale benchmark: peak memory and wall time of one retrieval task against corpus size, for the
harness and for plain ``mteb.evaluate(SentenceTransformer)``.

For each size it writes a synthetic BEIR corpus (random passages over a made-up vocabulary, each
query three words of its relevant passage and three random ones), imports it as SciFact's data,
and runs the task in a separate process each: plain mteb, the harness (``cache_dir=null``:
vectors in the temporary per-run store) and the harness with ``dims=`` (three truncation dims
scored from one encode). The model is a random 1-layer BERT (hidden 128 by default) saved as a
sentence-transformers folder. A child's peak RSS is its own ``ru_maxrss``; its time is the
task's (model loading and data loading included, imports not). It also times opening the cache
index of 1M and 5M entries. Prints a table and the acceptance checks, writes JSON and a PNG plot.

    python scripts/bench_scale.py                      # 50k-400k passages, ~40 min on 2 cores
    python scripts/bench_scale.py --sizes 5000,20000 --index-sizes 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's harness, also in the child processes

TASK = "SciFact"
MODEL_NAME = "bench/random-bert"
MAX_LENGTH = 64
RSS_BOUND = 1.2  # harness peak RSS at most this times mteb's (at 200k passages)
GROWTH_SLACK = 1.1  # harness growth 100k -> 400k at most mteb's growth plus 10 %
SCORE_ATOL = 1e-6


# --- data and model ------------------------------------------------------------------------------


def vocabulary(size: int) -> list[str]:
    """Made-up words that the model's WordPiece vocabulary holds whole."""
    return [f"w{index}" for index in range(size)]


def build_model(folder: Path, hidden: int, layers: int, words: list[str], seed: int = 0) -> Path:
    """A random BERT (``layers`` layers of width ``hidden``) with mean pooling, saved as a
    sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    raw = folder / "hf"
    raw.mkdir(parents=True, exist_ok=True)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    (raw / "vocab.txt").write_text("\n".join(special + words) + "\n")
    BertTokenizerFast(str(raw / "vocab.txt")).save_pretrained(raw)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(special) + len(words), hidden_size=hidden,
                        num_hidden_layers=layers, num_attention_heads=max(1, hidden // 64),
                        intermediate_size=hidden, max_position_embeddings=MAX_LENGTH + 2)
    BertModel(config).save_pretrained(raw)
    transformer = models.Transformer(str(raw), max_seq_length=MAX_LENGTH)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), "mean")
    st_folder = folder / "st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_folder))
    return st_folder


def write_corpus(folder: Path, passages: int, queries: int, words: list[str],
                 length: int, seed: int = 0) -> tuple[Path, int]:
    """A BEIR folder of ``passages`` random passages of ``length`` words and ``queries``
    queries (3 words of their passage, 3 random ones); returns (folder, distinct inputs a run
    encodes)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    texts = set()
    with (folder / "corpus.jsonl").open("w") as corpus:
        for number in range(passages):
            text = " ".join(rng.choices(words, k=length))
            texts.add(text)
            corpus.write(json.dumps({"_id": f"d{number}", "title": "", "text": text}) + "\n")
    relevant = rng.sample(range(passages), min(queries, passages))
    asked = set()
    qrels = ["query-id\tcorpus-id\tscore"]
    with (folder / "queries.jsonl").open("w") as out, (folder / "corpus.jsonl").open() as corpus:
        lines = corpus.readlines()
        for number, doc in enumerate(relevant):
            # half the query from its passage, half noise: a random model ranks it well, not
            # perfectly, so equal scores mean equal rankings
            text = " ".join(rng.sample(json.loads(lines[doc])["text"].split(), 3)
                            + rng.choices(words, k=3))
            asked.add(text)
            out.write(json.dumps({"_id": f"q{number}", "text": text}) + "\n")
            qrels.append(f"q{number}\td{doc}\t1")
    (folder / "qrels").mkdir(exist_ok=True)
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return folder, len(texts) + len(asked)


# --- the measured processes ----------------------------------------------------------------------


def child(kind: str, data_root: Path, model_dir: Path, out: Path, dims: list[int],
          batch_size: int) -> None:
    """One measured run (in its own process); writes scores, time and peak RSS to ``out``."""
    import resource

    import mteb
    from sentence_transformers import SentenceTransformer

    if kind != "mteb":  # the plain side imports nothing of the harness
        from harness.api import run
        from harness.results import load_scores, read_task_result
    started = time.perf_counter()  # imports done: the task's own time, model loading included
    if kind == "mteb":
        model = SentenceTransformer(str(model_dir), device="cpu")
        task = mteb.get_task(TASK)
        task.metadata = task.metadata.model_copy(deep=True)  # read the imported mirror folder
        task.metadata.dataset["path"] = str(data_root / task.metadata.dataset["path"])
        result = mteb.evaluate(model, task, cache=None, overwrite_strategy="always",
                               show_progress_bar=False,
                               encode_kwargs={"batch_size": batch_size}).task_results[0]
        scores = {"native": result.scores}
        encoded = None
    else:
        extra = ["model.dim_mode=truncate", f"dims=[{','.join(map(str, dims))}]"] \
            if kind == "harness-dims" else []
        summary = run([f"tasks.names=[{TASK}]", f"data_root={data_root}",
                       f"output_dir={out.parent / kind}", "cache_dir=null",
                       f"model.path={model_dir}", f"model.name={MODEL_NAME}",
                       f"model.max_length={MAX_LENGTH}", "model.normalize=false",
                       f"batch_size={batch_size}", "show_progress=false", "overwrite=true",
                       *extra])
        scores = {}
        for (dim, _), folder in summary.folders.items():
            result = read_task_result(folder / f"{TASK}.json")
            scores["native" if dim is None or dim == max(dims) else str(dim)] = result.scores
        assert not load_scores(out.parent / kind).empty
        encoded = summary.texts_encoded
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.write_text(json.dumps({"kind": kind, "seconds": seconds, "peak_rss_mb": peak_kb / 1024,
                               "texts_encoded": encoded, "scores": scores}))


def measure(kind: str, data_root: Path, model_dir: Path, work: Path, args) -> dict:
    """Run ``child`` in a fresh process; its record plus the process's wall time."""
    out = work / f"{kind}.json"
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", kind, "--data-root", str(data_root),
                    "--model-dir", str(model_dir), "--child-out", str(out),
                    "--dims", ",".join(map(str, args.dims)), "--batch-size", str(args.batch_size)],
                   check=True, env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
                                    # datasets caches a local folder by its name: one per size
                                    "HF_DATASETS_CACHE": str(work / "hf-datasets")})
    record = json.loads(out.read_text())
    record["process_s"] = time.perf_counter() - started
    return record


def max_score_diff(ours: dict, reference: dict) -> float:
    """Largest difference over every float metric of every split and subset."""
    worst = 0.0
    for split, entries in reference.items():
        mine = {entry["hf_subset"]: entry for entry in ours[split]}
        for entry in entries:
            for key, value in entry.items():
                if isinstance(value, float):
                    worst = max(worst, abs(mine[entry["hf_subset"]][key] - value))
    return worst


def bench_size(passages: int, args, model_dir: Path, work: Path, words: list[str]) -> dict:
    """Every measured run for one corpus size; one row of the table."""
    from harness.api import import_data

    folder = work / f"data-{passages}"
    source, distinct = write_corpus(folder / "beir", passages, args.queries, words,
                                    args.passage_words)
    import_data(source, folder / "root", task=TASK)
    runs = {kind: measure(kind, folder / "root", model_dir, folder, args)
            for kind in ("mteb", "harness", "harness-dims")}
    reference = runs["mteb"]["scores"]["native"]
    row = {"passages": passages, "queries": args.queries, "distinct_inputs": distinct,
           "main_score": reference["test"][0]["main_score"]}
    for kind, record in runs.items():
        key = kind.replace("-", "_")
        row[f"{key}_rss_mb"] = round(record["peak_rss_mb"], 1)
        row[f"{key}_s"] = round(record["seconds"], 2)
        row[f"{key}_texts_encoded"] = record["texts_encoded"]
        if kind != "mteb":
            row[f"{key}_score_diff"] = max_score_diff(record["scores"]["native"], reference)
            row[f"{key}_rss_ratio"] = round(record["peak_rss_mb"] / runs["mteb"]["peak_rss_mb"],
                                            3)
            row[f"{key}_time_ratio"] = round(record["seconds"] / runs["mteb"]["seconds"], 3)
    return row


# --- the cache index -----------------------------------------------------------------------------


def bench_index(entries: int, work: Path, dim: int = 4, batch: int = 100_000) -> dict:
    """Write a cache of ``entries`` vectors, then time opening its index (a fresh handle's
    first lookup) and one lookup of 50,000 keys."""
    import numpy as np

    from harness.cache import EmbeddingCache

    folder = work / f"index-{entries}"
    identity = {"name": "bench/index"}
    rng = np.random.default_rng(0)
    writer = EmbeddingCache(folder, identity)
    probe = []
    for start in range(0, entries, batch):
        count = min(batch, entries - start)
        keys = [bytes(row) for row in rng.integers(0, 256, (count, 16), dtype=np.uint8)]
        writer.put(keys, rng.standard_normal((count, dim), dtype=np.float32))
        probe += keys[:: max(1, entries // 50_000)][: 50_000 - len(probe)]
    writer.close()
    reader = EmbeddingCache(folder, identity)
    started = time.perf_counter()
    reader.contains(probe[:1])
    opened = time.perf_counter() - started
    started = time.perf_counter()
    _, found = reader.lookup(probe)
    looked = time.perf_counter() - started
    assert found.all()
    return {"entries": entries, "open_s": round(opened, 3),
            "index_bytes_per_entry": round(reader.index_bytes() / entries, 2),
            "lookup_50k_s": round(looked, 3)}


# --- report --------------------------------------------------------------------------------------


def checks(rows: list[dict]) -> list[tuple[str, bool, str]]:
    """The issue's acceptance: (what, passed, measured)."""
    by_size = {row["passages"]: row for row in rows}
    at = 200_000 if 200_000 in by_size else max(by_size)
    low, high = (100_000, 400_000) if {100_000, 400_000} <= set(by_size) else (min(by_size),
                                                                               max(by_size))
    result = []
    for kind, label in (("harness", "harness"), ("harness_dims", "harness dims=[...]")):
        ratio = by_size[at][f"{kind}_rss_ratio"]
        result.append((f"{label}: peak RSS at {at:,} passages <= {RSS_BOUND}x mteb's",
                       ratio <= RSS_BOUND, f"{ratio:.2f}x"))
        if high > low:
            ours = by_size[high][f"{kind}_rss_mb"] - by_size[low][f"{kind}_rss_mb"]
            theirs = by_size[high]["mteb_rss_mb"] - by_size[low]["mteb_rss_mb"]
            extra = (ours - theirs) * 2**20 / (high - low)  # bytes an added passage
            result.append((f"{label}: RSS growth {low:,} -> {high:,} <= mteb's + 10 %",
                           ours <= GROWTH_SLACK * max(theirs, 0.0) + 1e-9,
                           f"{ours:.0f} MB vs {theirs:.0f} MB, {extra:+.0f} B an added passage"))
        worst = max(row[f"{kind}_score_diff"] for row in rows)
        result.append((f"{label}: scores equal mteb's to {SCORE_ATOL:g}", worst <= SCORE_ATOL,
                       f"max diff {worst:.1e}"))
    once = all(row["harness_dims_texts_encoded"] == row["distinct_inputs"] for row in rows)
    result.append(("harness dims=[...]: each text encoded once", once,
                   ", ".join(str(row["harness_dims_texts_encoded"]) for row in rows)))
    return result


def plot(rows: list[dict], path: Path) -> None:
    """Peak RSS and wall time against corpus size, both sides (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [row["passages"] for row in rows]
    figure, (memory, wall) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label, style in (("mteb", "plain mteb", "o-"), ("harness", "harness", "s-"),
                              ("harness_dims", "harness, 3 dims", "^--")):
        memory.plot(sizes, [row[f"{key}_rss_mb"] / 1024 for row in rows], style, label=label)
        wall.plot(sizes, [row[f"{key}_s"] for row in rows], style, label=label)
    for row in rows:
        memory.annotate(f"{row['harness_rss_ratio']:.2f}x",
                        (row["passages"], row["harness_rss_mb"] / 1024),
                        textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    memory.set(xlabel="passages", ylabel="peak RSS (GB)", title="Peak memory (harness/mteb)")
    wall.set(xlabel="passages", ylabel="seconds", title="Wall time of the task")
    for axis in (memory, wall):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)


def write_report(args, rows: list[dict], index: list[dict]) -> list[tuple[str, bool, str]]:
    """Write the JSON and the plot of the rows measured so far; returns the checks."""
    verdicts = checks(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "task": TASK, "model": {"hidden": args.hidden, "layers": args.layers,
                                "max_length": MAX_LENGTH}, "queries": args.queries,
        "passage_words": args.passage_words, "dims": args.dims, "batch_size": args.batch_size,
        "cpu_count": os.cpu_count(), "load_average": os.getloadavg(), "rows": rows,
        "index_open": index,
        "checks": [{"check": w, "passed": p, "measured": m} for w, p, m in verdicts]}, indent=2))
    plot(rows, args.out.with_suffix(".png"))
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,100000,200000,400000",
                        help="corpus sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--passage-words", type=int, default=20)
    parser.add_argument("--vocabulary", type=int, default=5000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dims", default="32,64,128", help="the harness dims= run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--index-sizes", default="1000000,5000000",
                        help="cache index entries to time opening ('' to skip)")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "bench" / "scale.json")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.dims = [int(d) for d in str(args.dims).split(",")]
    if args.child:
        child(args.child, args.data_root, args.model_dir, args.child_out, args.dims,
              args.batch_size)
        return
    if max(args.dims) != args.hidden:
        parser.error("--dims must include the model's native dim (--hidden) to compare scores")

    import pandas as pd

    rows: list[dict] = []
    index: list[dict] = []
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        words = vocabulary(args.vocabulary)
        model_dir = build_model(work / "model", args.hidden, args.layers, words)
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(bench_size(size, args, model_dir, work, words))
            print(f"{size:,} passages: mteb {rows[-1]['mteb_rss_mb']:.0f} MB, harness "
                  f"{rows[-1]['harness_rss_mb']:.0f} MB ({rows[-1]['harness_rss_ratio']:.2f}x)",
                  flush=True)
            write_report(args, rows, index)  # a run stopped later keeps the sizes done
        index = [bench_index(int(n), work) for n in filter(None, args.index_sizes.split(","))]
    table = pd.DataFrame(rows)
    columns = ["passages", "main_score", "mteb_rss_mb", "harness_rss_mb", "harness_rss_ratio",
               "harness_dims_rss_mb", "harness_dims_rss_ratio", "mteb_s", "harness_s",
               "harness_time_ratio", "harness_dims_s", "harness_score_diff",
               "harness_dims_texts_encoded"]
    print(table[columns].to_markdown(index=False, floatfmt=".3g"))
    if index:
        print(pd.DataFrame(index).to_markdown(index=False))
    for what, passed, measured in write_report(args, rows, index):
        print(f"{'PASS' if passed else 'FAIL'}  {what}: {measured}")
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
