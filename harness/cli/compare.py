"""``harness compare``: our scores against published ones, task by task."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "compare", help="our scores vs published ones, task by task",
        description="Exit codes: 0 (with --strict: every compared score within tolerance), "
                    "1 with --strict when a score is off, 2 usage error.")
    parser.add_argument("results_dir")
    parser.add_argument("--reference", required=True,
                        help="a results-repo folder, 'hub' (mteb's ResultCache) or 'cards'")
    parser.add_argument("--model", default=None, help="which of our models (default: all)")
    parser.add_argument("--tolerance", type=float, default=0.001, help="on the 0-1 scale")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any score is off")
    parser.add_argument("--show-missing", action="store_true",
                        help="list the tasks found on one side only (default: their count)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = api.compare(args.results_dir, args.reference, model=args.model,
                         tolerance=args.tolerance)
    print(report.to_markdown(show_missing=args.show_missing))
    return 1 if args.strict and not report.ok else 0
