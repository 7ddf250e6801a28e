"""``harness data import``: dataset files into the offline mirror."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="offline task data").add_subparsers(
        dest="data_command", required=True)
    parser = data.add_parser(
        "import", help="convert dataset files to the offline layout",
        description="Write the offline mirror of a task from its files: an original release "
                    "(recognised without --task), or for any STS, pair-classification, "
                    "classification or retrieval task a folder of <split>.<csv|tsv|jsonl> "
                    "tables or a BEIR folder (see docs/offline-data.md).")
    parser.add_argument("src", help="one dataset folder (with --task) or a folder of them")
    parser.add_argument("--out", required=True, help="the data_root to write into")
    parser.add_argument("--task", default=None, help="the mteb task SRC holds")
    formats = "; ".join(f"{name} ({serves})" for name, serves in api.import_formats().items())
    parser.add_argument("--format", default=None, dest="fmt",
                        help=f"source format (default: from the files and the task): {formats}")
    parser.add_argument("--column", action="append", default=[], metavar="NEW=OLD",
                        help="read the table column OLD as NEW, e.g. score=relatedness_score "
                             "(repeatable)")
    parser.add_argument("--delimiter", default=None,
                        help="field separator of CSV/TSV tables (default , for .csv, tab for "
                             ".tsv; \\t for a tab)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for summary in api.import_data(args.src, args.out, task=args.task, fmt=args.fmt,
                                   columns=args.column, delimiter=args.delimiter):
        print(summary)
    return 0
