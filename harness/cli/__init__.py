"""The ``harness`` command: one module per subcommand, each ``add_parser(sub)`` + ``run(args)``.

``main`` parses, dispatches and turns the harness's errors into one line on stderr: exit code 2
for a usage error (nothing was written), 1 for a runtime failure, 130 on Ctrl-C. ``-v`` prints the
full traceback as well.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import NoReturn

from harness.cli import (
    cache,
    compare,
    data,
    diff,
    encode,
    explain,
    export,
    listing,
    longtext,
    regress,
    report,
    run,
    status,
    table,
)

COMMANDS = (run, encode, explain, status, table, listing, data, compare, regress, diff, report,
            export, cache, longtext)
EXIT_RUNTIME = 1
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """argparse with a bad argument reported in one line (the bad value and the valid choices,
    as argparse words them), without the usage block: ``--help`` still shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = OneLineParser(
        prog="harness", description="Evaluate text-embedding models on MTEB and reproduce "
        "published scores. Exit codes: 0 done, 1 runtime failure, 2 usage error, 130 "
        "interrupted.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the full traceback of an error, and the harness's own logs")
    parser.add_argument("--config-dir", action="append", default=[], metavar="DIR",
                        help="a folder of your own model/ and tasks/ configs, searched after "
                             "the package's (also: $HARNESS_CONFIG_PATH)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``harness`` console script."""
    from harness import api

    parser = build_parser()
    args = parser.parse_args(argv)
    api.quiet_libraries(verbose=args.verbose)
    try:
        for folder in args.config_dir:
            api.add_config_dir(folder)
        return args.func(args)
    except api.HarnessError as exc:
        if args.verbose:
            traceback.print_exception(exc)
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("harness: interrupted; finished task results are saved, rerun to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug or an unforeseen library failure: still one line
        if args.verbose:
            traceback.print_exception(exc)
        hint = "" if args.verbose else " (rerun with -v for the traceback)"
        print(f"harness: error: unexpected {api.one_line(exc)}{hint}", file=sys.stderr)
        return EXIT_RUNTIME


if __name__ == "__main__":
    sys.exit(main())
