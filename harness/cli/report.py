"""``harness report``: HTML + markdown report with tables, plots and reproduction deltas."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="HTML + markdown report: tables, plots, reproduction")
    parser.add_argument("results_dir")
    parser.add_argument("--out", required=True, help="folder for report.html, report.md and PNGs")
    parser.add_argument("--reference", default=None,
                        help="add deltas vs a results-repo folder, 'hub' or 'cards'")
    parser.add_argument("--model", default=None, help="only this model (default: all)")
    parser.add_argument("--tasks", default=None, help="a task-list config every model should have")
    parser.add_argument("--tolerance", type=float, default=0.001,
                        help="on mteb's 0-1 scale, finite and >= 0 (default %(default)s)")
    parser.add_argument("--show-missing", action="store_true",
                        help="list the tasks found on one side only in report.md (default: "
                             "their count; report.html always lists them in a collapsed block)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = api.write_report(args.results_dir, args.out, reference=args.reference,
                             model=args.model, tasks=args.tasks, tolerance=args.tolerance,
                             show_missing=args.show_missing)
    print(f"report: {files.html}\nmarkdown: {files.markdown} (+ {len(files.images)} PNGs)")
    return 0
