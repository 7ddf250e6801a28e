"""``harness regress``: the CI gate, exit 1 when a main score dropped against a baseline."""

from __future__ import annotations

import argparse

from harness import api


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "regress", help="CI gate: exit 1 when a main score dropped",
        description="Exit codes: 0 no baseline task dropped by more than the tolerance (with "
                    "--significance: and significantly; --mode significant: any significant "
                    "drop); 1 a drop or a baseline task missing from the results (the diff is "
                    "printed); 2 usage error, nothing compared (a tolerance that is not a "
                    "finite number >= 0, a missing or empty baseline or results folder, an "
                    "unknown option).")
    parser.add_argument("results_dir")
    parser.add_argument("--baseline", required=True, help="a results folder with golden scores")
    parser.add_argument("--tolerance", type=float, default=0.005,
                        help="largest allowed drop on mteb's 0-1 scale, finite and >= 0 "
                             "(default %(default)s; above 0.1 warns)")
    parser.add_argument("--significance", action="store_true",
                        help="fail only on drops that are also significant (paired bootstrap "
                             "of the per-item records; tasks without them: tolerance only)")
    parser.add_argument("--mode", choices=["both", "significant"], default=None,
                        help="with --significance: both (beyond the tolerance and significant, "
                             "the default) or significant (any significant drop); implies "
                             "--significance")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="significance level of a drop (default %(default)s)")
    parser.add_argument("--resamples", type=int, default=api.DEFAULT_RESAMPLES,
                        help="bootstrap resamples (default %(default)s)")
    parser.add_argument("--seed", type=int, default=api.DEFAULT_SEED,
                        help="bootstrap seed (default %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    mode = args.mode or ("both" if args.significance else "tolerance")
    report = api.regress(args.results_dir, args.baseline, tolerance=args.tolerance, mode=mode,
                         alpha=args.alpha, n_resamples=args.resamples, seed=args.seed)
    print(report.to_markdown())
    return 0 if report.ok else 1
