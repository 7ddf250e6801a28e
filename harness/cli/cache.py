"""``harness cache info|clear``: the embedding cache."""

from __future__ import annotations

import argparse

from harness import api

DEFAULT_CACHE_DIR = "~/.cache/mteb-harness"


def add_parser(sub: argparse._SubParsersAction) -> None:
    cache = sub.add_parser("cache", help="the embedding cache").add_subparsers(
        dest="cache_command", required=True)
    for verb, text in (("info", "entries, size and models"), ("clear", "delete entries")):
        parser = cache.add_parser(verb, help=text)
        parser.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR)
        if verb == "clear":
            parser.add_argument("--model", default=None, help="only this model's entries")
        parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.cache_command == "info":
        print(api.cache_report(args.cache_dir))
    else:
        print(api.clear_cache(args.cache_dir, model=args.model))
    return 0
