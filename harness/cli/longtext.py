"""``harness longtext build``: stella's long-text Recall@5 sets from reading-comprehension data."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    longtext = sub.add_parser("longtext", help="stella's long-text Recall@5 suite"
                              ).add_subparsers(dest="longtext_command", required=True)
    parser = longtext.add_parser(
        "build", help="build long-text retrieval sets from reading-comprehension data")
    parser.add_argument("src", help="a data folder holding the known sets (e.g. ../shared/data), "
                                    "or with --format: the source file(s) of one set")
    parser.add_argument("--out", required=True, help="the data_root to write into")
    parser.add_argument("--format", choices=api.longtext_formats(), default=None)
    parser.add_argument("--name", default=None, help="set (task) name")
    parser.add_argument("--position-unit", choices=["char", "token"], default="char")
    parser.add_argument("--threshold", type=int, default=512)
    parser.add_argument("--short-long-ratio", default="1:2")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    for manifest in api.build_longtext_sets(
        Path(args.src), out, fmt=args.format, name=args.name,
        position_unit=args.position_unit, threshold=args.threshold,
        ratio=args.short_long_ratio, seed=args.seed,
    ):
        print(f"{manifest.name}: {manifest.long_kept} long + {manifest.short_kept} short queries "
              f"(answer at {manifest.position_unit} >= {manifest.threshold}), corpus "
              f"{manifest.corpus_size} passages -> {api.longtext_folder(out, manifest.name)}")
    return 0
