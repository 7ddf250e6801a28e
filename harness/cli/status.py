"""``harness status``: which tasks of a (sweep) run are done, running, dead, failed or missing."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="which tasks of a (sweep) run are done, running, "
                                           "dead, failed or missing")
    parser.add_argument("results_dir")
    parser.add_argument("--tasks", required=True, help="the task-list config (e.g. mteb_eng_v1)")
    parser.add_argument("--model", default=None, help="a model id or recipe (default: all seen)")
    parser.add_argument("--stale-after", default="30m",
                        help="a running task silent this long is dead (90s, 30m, 2h)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.status(args.results_dir, args.tasks, model=args.model,
                     stale_after=args.stale_after))
    return 0
