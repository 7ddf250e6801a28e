"""``harness table``: the leaderboard table of a results folder."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("table", help="print the leaderboard table of a results folder")
    parser.add_argument("results_dir")
    parser.add_argument("--format", choices=["md", "csv"], default="md")
    parser.add_argument("--layout", choices=api.table_layouts(), default="mteb",
                        help="mteb: averages and categories, then per task (the model cards' "
                             "layout); longtext: the long-text suite, one row per set")
    parser.add_argument("--tasks", default=None,
                        help="a task-list config (e.g. mteb_eng_v1) whose tasks every model "
                             "should have; missing ones mark categories incomplete")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.leaderboard(args.results_dir, tasks=args.tasks, fmt=args.format,
                          layout=args.layout))
    return 0
