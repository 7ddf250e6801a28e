"""``harness diff``: the items of one task whose outcome moved most between two runs."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diff", help="the queries/pairs/items of a task that moved most between two runs",
        description="Needs the per-item records of both runs (save_predictions=true). "
                    "Exit codes: 0 done, 1 runtime failure, 2 usage error.")
    parser.add_argument("a", metavar="A", help="a results or run folder (the base)")
    parser.add_argument("b", metavar="B", help="a results or run folder (change = B - A)")
    parser.add_argument("--task", required=True, help="the task, e.g. STSBenchmark")
    parser.add_argument("--top", type=int, default=20, help="items to list (default 20)")
    parser.add_argument("--format", choices=["md", "csv"], default="md")
    parser.add_argument("--model", default=None, help="which model, when A or B hold several")
    parser.add_argument("--data-root", default=None,
                        help="where the task's data is (default: run A's data_root)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.diff(args.a, args.b, args.task, model=args.model, top=args.top,
                   data_root=args.data_root, fmt=args.format), end="")
    return 0
