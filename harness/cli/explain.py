"""``harness explain``: the exact model input per task and side, without loading anything."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("explain", help="per task and side, the exact model input and the "
                                            "model settings (loads no weights and no data)")
    parser.add_argument("--format", dest="fmt", choices=api.EXPLAIN_FORMATS, default="md",
                        help="md (tables) or json (one row per task and side)")
    parser.add_argument("--against", choices=api.EXPLAIN_REFERENCES, default=None,
                        help="mteb: where the recipe differs from mteb's own implementation "
                             "of the model (input, pooling, max length, normalisation, revision)")
    parser.add_argument("overrides", nargs=argparse.REMAINDER,
                        help="e.g. model=stella_en_1.5B_v5 tasks.names=[SciFact,STSBenchmark]")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.explain(args.overrides, fmt=args.fmt, against=args.against))
    return 0
