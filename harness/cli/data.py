"""``harness data import``: original dataset files into the offline mirror."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="offline task data").add_subparsers(
        dest="data_command", required=True)
    parser = data.add_parser("import", help="convert original dataset files to the offline "
                                            "layout")
    parser.add_argument("src", help="one dataset folder (with --task) or a folder of them")
    parser.add_argument("--out", required=True, help="the data_root to write into")
    parser.add_argument("--task", default=None, help="the mteb task SRC holds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for summary in api.import_data(args.src, args.out, task=args.task):
        print(summary)
    return 0
