"""``harness run``: evaluate a model on a task list, or a sweep of them through Hydra."""

from __future__ import annotations

import argparse

from harness import api


class _Parser(argparse.ArgumentParser):
    """A parser whose mistakes are usage errors (one line, exit 2), not argparse's usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise api.UsageError(f"run: {message}")


def add_hydra_flags(parser: argparse.ArgumentParser) -> None:
    """The Hydra flags ``harness run`` understands (as ``python app.py`` with ``@hydra.main``)."""
    parser.add_argument("-m", "--multirun", action="store_true",
                        help="one job per combination of comma-separated override values")
    parser.add_argument("-c", "--cfg", choices=api.CFG_CHOICES, default=None,
                        help="print the composed config (of every sweep job) and exit")
    parser.add_argument("-i", "--info", nargs="?", const="all", choices=api.INFO_CHOICES,
                        default=None, help="print Hydra's information about the config")
    parser.add_argument("--resolve", action="store_true", help="resolve ${...} with --cfg")
    parser.add_argument("-p", "--package", default=None, help="with --cfg: only this package")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="evaluate one model on one task list (Hydra overrides)")
    add_hydra_flags(parser)
    parser.add_argument("overrides", nargs=argparse.REMAINDER,
                        help="e.g. model=minilm tasks=quick data_root=data batch_size=64; with -m "
                             "a sweep, e.g. model=minilm,gte-small shard=0/2,1/2")
    parser.set_defaults(func=run)


def _request(args: argparse.Namespace) -> api.SweepRequest:
    """Flags may follow the first override (argparse then leaves them in ``overrides``):
    parse the whole line again, in any order."""
    parser = _Parser(prog="harness run", add_help=False)
    add_hydra_flags(parser)
    parser.add_argument("overrides", nargs="*")
    flags = api.SweepRequest(multirun=args.multirun, cfg=args.cfg, info=args.info,
                             resolve=args.resolve, package=args.package).flags()
    parsed = parser.parse_intermixed_args(flags + args.overrides)
    return api.SweepRequest(overrides=parsed.overrides, multirun=parsed.multirun, cfg=parsed.cfg,
                            info=parsed.info, resolve=parsed.resolve, package=parsed.package)


def run(args: argparse.Namespace, *settings: str) -> int:
    """``harness run`` (and ``harness encode``, which adds ``settings``)."""
    request = _request(args)
    request.overrides = [*settings, *request.overrides]
    if api.needs_hydra(request):
        for line in api.launch(request):
            print(line)
        return 0
    summary = api.run(request.overrides)
    if summary.encode_only:
        print(f"stored the inputs of {len(summary.encoded_tasks)} task(s): texts encoded "
              f"{summary.texts_encoded}, already cached {summary.cache_hits}")
        return 0
    for variant, folder in summary.folders.items():
        label = api.variant_label(*variant)
        print(f"results{f' ({label})' if label else ''}: {folder}")
    print(f"evaluated {len(summary.evaluated)}, already done {len(summary.skipped)}, "
          f"texts encoded {summary.texts_encoded}")
    return 0
