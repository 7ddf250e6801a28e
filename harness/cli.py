"""The ``harness`` command: parse, call the library, turn user mistakes into one line + exit 2."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from harness.errors import HarnessError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("mteb", "sentence_transformers", "transformers", "datasets", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def cmd_run(args: argparse.Namespace) -> int:
    from harness.api import run

    summary = run(args.overrides)
    for dim, folder in summary.folders.items():
        label = "" if dim is None else f" (dim {dim})"
        print(f"results{label}: {folder}")
    print(f"evaluated {len(summary.evaluated)}, already done {len(summary.skipped)}, "
          f"texts encoded {summary.texts_encoded}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from harness.api import leaderboard

    print(leaderboard(args.results_dir, tasks=args.tasks, fmt=args.format))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from harness.api import list_configs

    print(list_configs(args.what, data_root=args.data_root))
    return 0


def cmd_data_import(args: argparse.Namespace) -> int:
    from harness.data.importers import import_dataset

    for item in import_dataset(Path(args.src), Path(args.out), task=args.task):
        print(item)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate one model on one task list (Hydra overrides)")
    run.add_argument("overrides", nargs=argparse.REMAINDER,
                     help="e.g. model=minilm tasks=quick data_root=data batch_size=64")
    run.set_defaults(func=cmd_run)

    table = sub.add_parser("table", help="print the leaderboard table of a results folder")
    table.add_argument("results_dir")
    table.add_argument("--format", choices=["md", "csv"], default="md")
    table.add_argument("--tasks", default=None,
                       help="a task-list config (e.g. mteb_eng_v1) whose tasks every model "
                            "should have; missing ones mark categories incomplete")
    table.set_defaults(func=cmd_table)

    lister = sub.add_parser("list", help="list model recipes or task lists")
    lister.add_argument("what", choices=["models", "tasks"])
    lister.add_argument("--data-root", default=None, help="show which tasks have local data")
    lister.set_defaults(func=cmd_list)

    data = sub.add_parser("data", help="offline task data").add_subparsers(
        dest="data_command", required=True)
    imp = data.add_parser("import", help="convert original dataset files to the offline layout")
    imp.add_argument("src", help="one dataset folder (with --task) or a folder of them")
    imp.add_argument("--out", required=True, help="the data_root to write into")
    imp.add_argument("--task", default=None, help="the mteb task SRC holds")
    imp.set_defaults(func=cmd_data_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``harness`` console script."""
    _quiet_libraries()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("harness: interrupted; finished task results are saved, rerun to resume",
              file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
