"""``harness list models|lists|tasks``: the recipes, the task lists and their tasks on the config
search path."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("list", help="list model recipes, task lists or their tasks")
    parser.add_argument("what", choices=list(LISTINGS),
                        help="models: the recipes; lists: the task lists; tasks: every task of "
                             "every list")
    parser.add_argument("--data-root", default=None, help="show which tasks have local data")
    parser.set_defaults(func=run)


LISTINGS = {
    "models": lambda args: api.list_models(),
    "lists": lambda args: api.list_task_lists(),
    "tasks": lambda args: api.list_tasks(args.data_root),
}


def run(args: argparse.Namespace) -> int:
    print(LISTINGS[args.what](args))
    return 0
