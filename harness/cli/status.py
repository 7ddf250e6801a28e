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
    parser.add_argument("--cache-dir", default=None,
                        help="also show per task how many of its inputs this cache holds "
                             "(with --model RECIPE; loads each task's data)")
    parser.add_argument("--data-root", default=None, help="with --cache-dir: the data mirror")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.status(args.results_dir, args.tasks, model=args.model,
                     stale_after=args.stale_after, cache_dir=args.cache_dir,
                     data_root=args.data_root))
    return 0
