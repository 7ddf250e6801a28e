"""``harness list models|tasks``: the recipes and task lists on the config search path."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("list", help="list model recipes or task lists")
    parser.add_argument("what", choices=["models", "tasks"])
    parser.add_argument("--data-root", default=None, help="show which tasks have local data")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(api.list_models() if args.what == "models" else api.list_tasks(args.data_root))
    return 0
