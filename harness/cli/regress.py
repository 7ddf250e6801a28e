"""``harness regress``: the CI gate, exit 1 when a main score dropped against a baseline."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "regress", help="CI gate: exit 1 when a main score dropped",
        description="Exit codes: 0 no baseline task dropped by more than the tolerance, 1 a "
                    "drop or a missing task (the diff is printed), 2 usage error.")
    parser.add_argument("results_dir")
    parser.add_argument("--baseline", required=True, help="a results folder with golden scores")
    parser.add_argument("--tolerance", type=float, default=0.005, help="on the 0-1 scale")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = api.regress(args.results_dir, args.baseline, tolerance=args.tolerance)
    print(report.to_markdown())
    return 0 if report.ok else 1
