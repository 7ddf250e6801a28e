"""``harness compare``: our scores against published ones (``--reference``), or run B against
run A (two folders), task by task, optionally with paired-bootstrap significance."""

from __future__ import annotations

import argparse
import sys

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "compare", help="our scores vs published ones, or run B vs run A (--significance)",
        description="harness compare RESULTS --reference REF: against published scores. "
                    "harness compare A B [--significance]: run B against run A (two results "
                    "folders, paired by run label, or two run folders). Exit codes: 0 done "
                    "(with --strict: at least one score compared and every compared score "
                    "within tolerance); 1 with --strict when a score is off or nothing could be "
                    "compared; 2 usage error (a tolerance that is not a finite number >= 0, a "
                    "missing folder or reference, an unknown model or option).")
    parser.add_argument("results_dir", help="our results (A when B is given)")
    parser.add_argument("other", nargs="?", default=None, metavar="B",
                        help="a second results or run folder: compare it against the first")
    parser.add_argument("--reference", default=None,
                        help="a results-repo folder, 'hub' (mteb's ResultCache) or 'cards'")
    parser.add_argument("--model", default=None, help="which of our models (default: all)")
    parser.add_argument("--tolerance", type=float, default=0.001,
                        help="on mteb's 0-1 scale, finite and >= 0 (default %(default)s; above "
                             "0.1 warns)")
    parser.add_argument("--strict", action="store_true",
                        help="with --reference: exit 1 when any score is off")
    parser.add_argument("--significance", action="store_true",
                        help="with B: paired bootstrap per task, category and average "
                             "(needs runs made with save_predictions=true)")
    parser.add_argument("--resamples", type=int, default=api.DEFAULT_RESAMPLES,
                        help="bootstrap resamples (default %(default)s)")
    parser.add_argument("--seed", type=int, default=api.DEFAULT_SEED,
                        help="bootstrap seed (default %(default)s)")
    parser.add_argument("--show-missing", action="store_true",
                        help="list the tasks found on one side only (default: their count)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.other is not None:
        if args.reference is not None or args.strict:
            raise api.UsageError("compare A B compares two runs; --reference and --strict "
                                 "belong to 'harness compare RESULTS --reference REF'")
        report = api.compare_runs(args.results_dir, args.other, model=args.model,
                                  significance=args.significance, n_resamples=args.resamples,
                                  seed=args.seed)
        print(report.to_markdown())
        return 0
    if args.reference is None:
        raise api.UsageError("compare needs --reference REF, or a second folder B to compare "
                             "against (harness compare A B --significance)")
    if args.significance:
        raise api.UsageError("--significance compares two runs: harness compare A B "
                             "--significance")
    report = api.compare(args.results_dir, args.reference, model=args.model,
                         tolerance=args.tolerance)
    print(report.to_markdown(show_missing=args.show_missing))
    if args.strict and not report.compared:
        print("harness: error: --strict: no score could be compared with the reference, so "
              "nothing was checked", file=sys.stderr)
        return 1
    return 1 if args.strict and not report.ok else 0
