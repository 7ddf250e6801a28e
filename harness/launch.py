"""``harness run`` through Hydra's own entry point: sweeps (``-m``) on a launcher, --cfg, --info.

A plain ``harness run`` composes one config and evaluates it in-process (:func:`harness.api.run`).
With ``-m``/``--multirun`` or ``hydra/launcher=NAME`` (which implies ``-m``) every combination of
the sweep overrides becomes one job that Hydra's launcher runs: ``basic`` (one after the other),
``joblib`` or ``local`` (in parallel on this machine) or ``slurm`` (a Slurm job array, through
hydra-submitit-launcher). Every combination is composed and checked first, so a typo anywhere in
the sweep fails in one line before any job starts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness._compat import split_sweep
from harness.config import (
    hydra_main_args,
    load_config,
    model_overrides,
    register_configs,
    to_run_config,
)
from harness.errors import HarnessError, UsageError
from harness.logs import quiet_libraries
from harness.schema import RunConfig

if TYPE_CHECKING:
    from omegaconf import DictConfig

INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")
CFG_CHOICES = ("job", "hydra", "all")


@dataclass
class SweepRequest:
    """A ``harness run`` command line that goes to Hydra: overrides and Hydra's own flags."""

    overrides: list[str] = field(default_factory=list)
    multirun: bool = False
    cfg: str | None = None  # job | hydra | all: print the composed config(s)
    info: str | None = None  # one of INFO_CHOICES: print Hydra's information
    resolve: bool = False
    package: str | None = None

    def flags(self, multirun: bool | None = None) -> list[str]:
        """The Hydra flags as command-line arguments again."""
        argv = ["--multirun"] if (self.multirun if multirun is None else multirun) else []
        argv += ["--cfg", self.cfg] if self.cfg else []
        argv += ["--info", self.info] if self.info is not None else []
        argv += ["--resolve"] if self.resolve else []
        argv += ["--package", self.package] if self.package else []
        return argv


def needs_hydra(request: SweepRequest) -> bool:
    """Whether the command goes to Hydra's entry point rather than the single-run path."""
    launcher = any(o.partition("=")[0].lstrip("+") == "hydra/launcher" for o in request.overrides)
    return bool(request.multirun or request.cfg or request.info is not None or launcher
                or request.resolve or request.package)  # the last two: refused without --cfg


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """Every combination of the sweep overrides (Hydra's basic sweeper order)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser, parsed = OverridesParser.create(), []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except HydraException as exc:
            reason = str(exc).split("See https")[0]
            raise UsageError(f"cannot parse override {text!r}: {' '.join(reason.split())}"
                             ) from None
    return split_sweep(parsed)


def check_jobs(jobs: list[list[str]]) -> list[RunConfig]:
    """Compose every job and resolve its task list: the first mistake is a UsageError."""
    from harness.tasks import task_objects

    configs, seen = [], set()
    for overrides in jobs:
        try:
            cfg = load_config(overrides)
            key = json.dumps([dataclasses.asdict(cfg.tasks), cfg.data_root], default=str)
            if key not in seen:
                task_objects(cfg.tasks, cfg.data_root)
                seen.add(key)
        except UsageError as exc:
            if len(jobs) == 1:
                raise
            raise UsageError(f"sweep job {' '.join(overrides)}: {exc}") from None
        configs.append(cfg)
    return configs


class JobFailed(BaseException):
    """A sweep job's HarnessError, carried past Hydra: Hydra catches every ``Exception`` of a
    job and prints it with a traceback, but lets a ``BaseException`` through."""

    def __init__(self, error: HarnessError, overrides: list[str]):
        super().__init__(str(error))
        self.error = error
        self.overrides = overrides

    def one_line(self) -> HarnessError:
        """The job's error, naming the job."""
        job = " ".join(self.overrides) or "(no overrides)"
        return type(self.error)(f"sweep job {job}: {self.error}")


def job(cfg: DictConfig) -> None:
    """One sweep job, in the launcher's worker: evaluate and print what it did."""
    from hydra.core.hydra_config import HydraConfig

    from harness.runner import evaluate

    quiet_libraries()
    _limit_threads()
    try:
        typed = to_run_config(cfg)
        summary = evaluate(typed)
    except HarnessError as exc:
        overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
        raise JobFailed(exc, overrides) from exc
    shard = f" shard {typed.shard}" if typed.shard else ""
    if summary.encode_only:
        part = f" encode shard {typed.encode_shard}" if typed.encode_shard else ""
        print(f"{typed.model.name}{shard}{part}: inputs of {len(summary.encoded_tasks)} task(s), "
              f"texts encoded {summary.texts_encoded}, already cached {summary.cache_hits}",
              flush=True)
        return
    print(f"{typed.model.name}{shard}: evaluated {len(summary.evaluated)}, already done "
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

    register_configs()
    config_dir, searchpath = hydra_main_args()
    logging.getLogger().handlers.clear()  # Hydra configures logging itself (--info: to stdout)
    entry = hydra.main(config_path=config_dir, config_name="config", version_base=None)(job)
    saved = sys.argv
    sys.argv = ["harness", *argv, *searchpath]
    try:
        entry()
    finally:
        sys.argv = saved


def check_flags(request: SweepRequest) -> None:
    """The Hydra flags that only work together (Hydra itself raises a bare ValueError)."""
    if request.cfg and request.info is not None:
        raise UsageError("--cfg and --info cannot be combined: give one of them")
    if request.resolve and not request.cfg:
        raise UsageError("--resolve needs --cfg (it resolves ${...} in the config --cfg prints)")
    if request.package and not request.cfg:
        raise UsageError("--package needs --cfg (it prints one package of the config)")
    if request.resolve and request.cfg == "hydra":
        raise UsageError("--cfg hydra --resolve cannot resolve ${output_dir} (a run setting, not "
                         "Hydra's); use --cfg all --resolve")


def check_package(request: SweepRequest, cfg: DictConfig) -> None:
    """``--package`` must name a node of the config ``--cfg`` prints (Hydra exits with a bare
    message otherwise): of the composed run config ``cfg``, or of Hydra's own."""
    from hydra.conf import HydraConf
    from omegaconf import OmegaConf

    package = request.package
    if not package or package == "_global_":
        return
    if package == "hydra" or package.startswith("hydra."):
        shown = request.cfg in ("hydra", "all")
        plugin = package.split(".")[1] in ("launcher", "sweeper") if "." in package else False
        known = OmegaConf.select(OmegaConf.create({"hydra": OmegaConf.structured(HydraConf)}),
                                 package) is not None
        if shown and (plugin or known):
            return
    elif request.cfg in ("job", "all") and OmegaConf.select(cfg, package) is not None:
        return
    raise UsageError(f"--package {package!r} is not in the config --cfg {request.cfg} prints "
                     "(e.g. --package model, or --package hydra.run with --cfg hydra)")


def launch(request: SweepRequest) -> list[str]:
    """Check every job of the command, then show the config(s) or launch the sweep; returns
    the closing lines to print (Hydra prints configs and job output itself)."""
    check_flags(request)
    multirun = request.multirun or (request.cfg is None and request.info is None)
    overrides = model_overrides(list(request.overrides))
    request = dataclasses.replace(request, overrides=overrides)
    jobs = sweep_jobs(overrides) if multirun else [list(overrides)]
    configs = check_jobs(jobs)
    if request.cfg and request.package:
        from harness.config import compose_dict

        check_package(request, compose_dict(jobs[0]))
    if request.cfg or request.info is not None:
        show = request.flags(multirun=False)
        for number, overrides in enumerate(jobs if request.cfg else jobs[:1]):
            if len(jobs) > 1 and request.cfg:
                print(f"# sweep job {number}: {' '.join(overrides)}", flush=True)
            _hydra_main([*show, *overrides])
        return []
    try:
        _hydra_main(["--multirun", *request.overrides])
    except JobFailed as failed:
        raise failed.one_line() from failed.error
    if all(c.encode_only or c.encode_shard for c in configs):
        return [f"sweep of {len(jobs)} encode job(s) finished; vectors in {folder} (a "
                f"'harness run' of the same model and cache_dir scores from them; 'harness status "
                f"RESULTS --tasks LIST --model RECIPE --cache-dir {folder}' counts them)"
                for folder in sorted({str(c.cache_dir) for c in configs})]
    return [f"sweep of {len(jobs)} job(s) finished; results under {folder} "
            f"('harness table {folder}', 'harness status {folder} --tasks LIST')"
            for folder in sorted({str(c.output_dir) for c in configs})]
