"""``harness encode``: store a task list's inputs (or shard i/n of them) in the embedding cache,
score nothing; a later ``harness run`` of the same model scores from the cache."""

from __future__ import annotations

import argparse

from harness.cli.run import add_hydra_flags
from harness.cli.run import run as run_command


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "encode", help="encode a task list's inputs into cache_dir (shard i/n with "
                       "encode_shard=i/n), score nothing")
    add_hydra_flags(parser)
    parser.add_argument("overrides", nargs=argparse.REMAINDER,
                        help="as for harness run, e.g. model=e5-mistral-7b-instruct "
                             "tasks=mteb_eng_v1 cache_dir=/shared/cache encode_shard=0/8; with "
                             "-m a sweep, e.g. encode_shard=0/2,1/2 hydra/launcher=local")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_command(args, "encode_only=true")
