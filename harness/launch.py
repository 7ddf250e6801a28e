"""``harness run`` through Hydra's own entry point: sweeps (``-m``) on a launcher, --cfg, --info.

A plain ``harness run`` composes one config and evaluates it in-process (``harness.api.run``).
With ``-m``/``--multirun`` or ``hydra/launcher=NAME`` (which implies ``-m``) every combination of
the sweep overrides becomes one job that Hydra's launcher runs: ``basic`` (one after the other),
``joblib`` or ``local`` (in parallel on this machine) or ``slurm`` (a Slurm job array, through
hydra-submitit-launcher). Every combination is composed and checked first, so a typo anywhere in
the sweep fails in one line before any job starts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:  # the CLI builds its parser from this module: keep Hydra's import for later
    from omegaconf import DictConfig

INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are HarnessErrors (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise HarnessError(f"run: {message}")


def add_hydra_flags(parser: argparse.ArgumentParser) -> None:
    """The Hydra flags ``harness run`` understands (as ``python app.py`` with ``@hydra.main``)."""
    parser.add_argument("-m", "--multirun", action="store_true",
                        help="one job per combination of comma-separated override values")
    parser.add_argument("-c", "--cfg", choices=["job", "hydra", "all"], default=None,
                        help="print the composed config (of every sweep job) and exit")
    parser.add_argument("-i", "--info", nargs="?", const="all", choices=INFO_CHOICES,
                        default=None, help="print Hydra's information about the config")
    parser.add_argument("--resolve", action="store_true", help="resolve ${...} with --cfg")
    parser.add_argument("-p", "--package", default=None, help="with --cfg: only this package")


def parse_run_args(argv: list[str]) -> argparse.Namespace:
    """Hydra flags and overrides, in any order."""
    parser = _Parser(prog="harness run", add_help=False)
    add_hydra_flags(parser)
    parser.add_argument("overrides", nargs="*")
    return parser.parse_intermixed_args(argv)


def flag_args(args: argparse.Namespace) -> list[str]:
    """The flags of a parsed ``harness run`` command line, as arguments again."""
    argv = ["--multirun"] if args.multirun else []
    if args.cfg:
        argv += ["--cfg", args.cfg]
    if args.info is not None:
        argv += ["--info", args.info]
    if args.resolve:
        argv.append("--resolve")
    if args.package:
        argv += ["--package", args.package]
    return argv


def _launcher_override(overrides: list[str]) -> bool:
    return any(o.partition("=")[0].lstrip("+") == "hydra/launcher" for o in overrides)


def needs_hydra(args: argparse.Namespace) -> bool:
    """Whether the command goes to Hydra's entry point rather than the single-run path."""
    return bool(args.multirun or args.cfg or args.info is not None
                or _launcher_override(args.overrides))


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """Every combination of the sweep overrides (Hydra's basic sweeper order)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser, parsed = OverridesParser.create(), []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except HydraException as exc:
            reason = str(exc).split("See https")[0]
            raise HarnessError(f"cannot parse override {text!r}: {' '.join(reason.split())}"
                               ) from None
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def check_jobs(jobs: list[list[str]]) -> list[DictConfig]:
    """Compose every job and resolve its task list: the first mistake is a HarnessError."""
    from omegaconf import OmegaConf

    from harness.config import compose_config
    from harness.tasks import task_objects

    configs, seen = [], set()
    for overrides in jobs:
        try:
            cfg = compose_config(overrides)
            key = json.dumps([OmegaConf.to_container(cfg.tasks), cfg.data_root], default=str)
            if key not in seen:
                task_objects(cfg.tasks, cfg.data_root)
                seen.add(key)
        except HarnessError as exc:
            if len(jobs) == 1:
                raise
            raise HarnessError(f"sweep job {' '.join(overrides)}: {exc}") from None
        configs.append(cfg)
    return configs


def job(cfg: DictConfig) -> None:
    """One sweep job, in the launcher's worker: evaluate and print what it did."""
    from harness.cli import quiet_libraries
    from harness.config import validate
    from harness.runner import evaluate

    quiet_libraries()
    _limit_threads()
    validate(cfg)
    summary = evaluate(cfg)
    shard = f" shard {cfg.shard}" if cfg.shard else ""
    print(f"{cfg.model.name}{shard}: evaluated {len(summary.evaluated)}, already done "
          f"{len(summary.skipped)}, texts encoded {summary.texts_encoded}", flush=True)


def _limit_threads() -> None:
    """Use the launcher's ``cpus_per_task`` as torch's thread count: jobs that share a machine
    (submitit local) must not each start one thread per core."""
    import torch
    from hydra.core.hydra_config import HydraConfig

    cpus = HydraConfig.get().launcher.get("cpus_per_task") if HydraConfig.initialized() else None
    if cpus:
        torch.set_num_threads(int(cpus))


def _hydra_main(argv: list[str]) -> None:
    """Run ``job`` under ``@hydra.main`` with ``argv`` as the command line."""
    import hydra

    from harness.config import CONFIG_DIR, register_configs

    register_configs()
    logging.getLogger().handlers.clear()  # Hydra configures logging itself (--info: to stdout)
    entry = hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base=None)(job)
    saved = sys.argv
    sys.argv = ["harness", *argv]
    try:
        entry()
    finally:
        sys.argv = saved


def launch(args: argparse.Namespace) -> int:
    """Check every job of the command, then show the config(s) or launch the sweep."""
    multirun = args.multirun or (args.cfg is None and args.info is None)
    jobs = sweep_jobs(args.overrides) if multirun else [list(args.overrides)]
    configs = check_jobs(jobs)
    if args.cfg or args.info is not None:
        show = flag_args(argparse.Namespace(**{**vars(args), "multirun": False}))
        for number, overrides in enumerate(jobs if args.cfg else jobs[:1]):
            if len(jobs) > 1 and args.cfg:
                print(f"# sweep job {number}: {' '.join(overrides)}", flush=True)
            _hydra_main([*show, *overrides])
        return 0
    _hydra_main(["--multirun", *args.overrides])
    for folder in sorted({str(c.output_dir) for c in configs}):
        print(f"sweep of {len(jobs)} job(s) finished; results under {folder} "
              f"('harness table {folder}', 'harness status {folder} --tasks LIST')")
    return 0
