"""``harness export``: a model's results as an embeddings-benchmark/results submission."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export", help="a model's results as a results-repo submission (+ model card)",
        description="Writes results/<org__model>/<revision>/ with model_meta.json (by mteb's "
                    "ResultCache), model_card.md with the model-index block and .eval_results/, "
                    "and reads them back with mteb's loaders. Exit codes: 0 done, 1 the "
                    "export did not read back, 2 usage error.")
    parser.add_argument("results_dir", help="a results folder (or one run folder)")
    parser.add_argument("--model", required=True, help="the model id, e.g. org/model")
    parser.add_argument("--out", required=True, help="the submission folder to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.export(args.results_dir, args.model, args.out))
    return 0
