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


def quiet_libraries() -> None:
    """Keep library logs and warnings off the user's terminal (errors still show)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("mteb", "sentence_transformers", "transformers", "datasets", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # importing transformers reset its logger's level
    hf_logging.disable_progress_bar()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def cmd_run(args: argparse.Namespace) -> int:
    from harness.api import run
    from harness.launch import flag_args, launch, needs_hydra, parse_run_args

    # flags after the first override land in args.overrides: parse the whole line again
    args = parse_run_args(flag_args(args) + args.overrides)
    if needs_hydra(args):
        return launch(args)
    summary = run(args.overrides)
    for dim, folder in summary.folders.items():
        label = "" if dim is None else f" (dim {dim})"
        print(f"results{label}: {folder}")
    print(f"evaluated {len(summary.evaluated)}, already done {len(summary.skipped)}, "
          f"texts encoded {summary.texts_encoded}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from harness.api import task_list_types
    from harness.status import parse_duration, render_status, status_table

    table = status_table(args.results_dir, list(task_list_types(args.tasks)), model=args.model,
                         stale_after=parse_duration(args.stale_after))
    print(render_status(table))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from harness.explain import explain

    print(explain(args.overrides))
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from harness.api import leaderboard

    print(leaderboard(args.results_dir, tasks=args.tasks, fmt=args.format, layout=args.layout))
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


def cmd_cache(args: argparse.Namespace) -> int:
    from harness.api import cache_report
    from harness.cache import clear_cache

    if args.cache_command == "info":
        print(cache_report(args.cache_dir))
    else:
        removed = clear_cache(args.cache_dir, model=args.model)
        print(f"removed {len(removed)} cache namespace(s), "
              f"{sum(e.entries for e in removed)} entries")
    return 0


def cmd_longtext_build(args: argparse.Namespace) -> int:
    from harness.api import build_longtext_sets
    from harness.longtext import longtext_dir

    for manifest in build_longtext_sets(
        Path(args.src), Path(args.out), fmt=args.format, name=args.name,
        position_unit=args.position_unit, threshold=args.threshold,
        ratio=args.short_long_ratio, seed=args.seed,
    ):
        folder = longtext_dir(Path(args.out), manifest.name)
        print(f"{manifest.name}: {manifest.long_kept} long + {manifest.short_kept} short queries "
              f"(answer at {manifest.position_unit} >= {manifest.threshold}), corpus "
              f"{manifest.corpus_size} passages -> {folder}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.report.compare import compare

    report = compare(args.results_dir, args.reference, model=args.model,
                     tolerance=args.tolerance)
    print(report.to_markdown())
    return 1 if args.strict and not report.ok else 0


def cmd_regress(args: argparse.Namespace) -> int:
    from harness.report.regress import regress

    report = regress(args.results_dir, args.baseline, tolerance=args.tolerance)
    print(report.to_markdown())
    return 0 if report.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report.html import write_report

    files = write_report(args.results_dir, args.out, reference=args.reference, model=args.model,
                         tasks=args.tasks, tolerance=args.tolerance)
    print(f"report: {files.html}\nmarkdown: {files.markdown} (+ {len(files.images)} PNGs)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="evaluate one model on one task list (Hydra overrides)")
    from harness.launch import add_hydra_flags

    add_hydra_flags(run)
    run.add_argument("overrides", nargs=argparse.REMAINDER,
                     help="e.g. model=minilm tasks=quick data_root=data batch_size=64; with -m "
                          "a sweep, e.g. model=minilm,gte-small shard=0/2,1/2")
    run.set_defaults(func=cmd_run)

    ex = sub.add_parser("explain", help="per task and side, the exact model input and the "
                                        "model settings (loads no weights and no data)")
    ex.add_argument("overrides", nargs=argparse.REMAINDER,
                    help="e.g. model=stella_en_1.5B_v5 tasks.names=[SciFact,STSBenchmark]")
    ex.set_defaults(func=cmd_explain)

    status = sub.add_parser("status", help="which tasks of a (sweep) run are done, running, "
                                           "dead, failed or missing")
    status.add_argument("results_dir")
    status.add_argument("--tasks", required=True, help="the task-list config (e.g. mteb_eng_v1)")
    status.add_argument("--model", default=None, help="a model id or recipe (default: all seen)")
    status.add_argument("--stale-after", default="30m",
                        help="a running task silent this long is dead (90s, 30m, 2h)")
    status.set_defaults(func=cmd_status)

    table = sub.add_parser("table", help="print the leaderboard table of a results folder")
    table.add_argument("results_dir")
    table.add_argument("--format", choices=["md", "csv"], default="md")
    table.add_argument("--layout", choices=["mteb", "longtext"], default="mteb",
                       help="longtext: the long-text suite, one row per set (stella's card)")
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

    comp = sub.add_parser("compare", help="our scores vs published ones, task by task")
    comp.add_argument("results_dir")
    comp.add_argument("--reference", required=True,
                      help="a results-repo folder, 'hub' (mteb's ResultCache) or 'cards'")
    comp.add_argument("--model", default=None, help="which of our models (default: all)")
    comp.add_argument("--tolerance", type=float, default=0.001, help="on the 0-1 scale")
    comp.add_argument("--strict", action="store_true", help="exit 1 when any score is off")
    comp.set_defaults(func=cmd_compare)

    reg = sub.add_parser("regress", help="CI gate: exit 1 when a main score dropped")
    reg.add_argument("results_dir")
    reg.add_argument("--baseline", required=True, help="a results folder with golden scores")
    reg.add_argument("--tolerance", type=float, default=0.005, help="on the 0-1 scale")
    reg.set_defaults(func=cmd_regress)

    rep = sub.add_parser("report", help="HTML + markdown report: tables, plots, reproduction")
    rep.add_argument("results_dir")
    rep.add_argument("--out", required=True, help="folder for report.html, report.md and PNGs")
    rep.add_argument("--reference", default=None,
                     help="add deltas vs a results-repo folder, 'hub' or 'cards'")
    rep.add_argument("--model", default=None, help="only this model (default: all)")
    rep.add_argument("--tasks", default=None, help="a task-list config every model should have")
    rep.add_argument("--tolerance", type=float, default=0.001, help="on the 0-1 scale")
    rep.set_defaults(func=cmd_report)

    cache = sub.add_parser("cache", help="the embedding cache").add_subparsers(
        dest="cache_command", required=True)
    for verb, text in (("info", "entries, size and models"), ("clear", "delete entries")):
        p = cache.add_parser(verb, help=text)
        p.add_argument("--cache-dir", default="~/.cache/mteb-harness")
        if verb == "clear":
            p.add_argument("--model", default=None, help="only this model's entries")
        p.set_defaults(func=cmd_cache)

    longtext = sub.add_parser("longtext", help="stella's long-text Recall@5 suite").add_subparsers(
        dest="longtext_command", required=True)
    build = longtext.add_parser(
        "build", help="build long-text retrieval sets from reading-comprehension data")
    build.add_argument("src", help="a data folder holding the known sets (e.g. ../shared/data), "
                                   "or with --format: the source file(s) of one set")
    build.add_argument("--out", required=True, help="the data_root to write into")
    build.add_argument("--format", choices=["squad", "cail"], default=None)
    build.add_argument("--name", default=None, help="set (task) name")
    build.add_argument("--position-unit", choices=["char", "token"], default="char")
    build.add_argument("--threshold", type=int, default=512)
    build.add_argument("--short-long-ratio", default="1:2")
    build.add_argument("--seed", type=int, default=0)
    build.set_defaults(func=cmd_longtext_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``harness`` console script."""
    quiet_libraries()
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
