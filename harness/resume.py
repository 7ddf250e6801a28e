"""Which tasks a run still has to score: a task is done only when its folder holds a readable
result of the installed mteb with a finite main score, made under the protocol asked for now.

Before any work, every task's data is identified (:func:`harness.data.mirror.data_identity`) and
its protocol built (:func:`harness.protocol.task_protocol`). A stored result whose protocol
differs stops the run with one line naming the changed settings and the two ways out
(``overwrite=true`` or another ``output_dir``), so a folder never holds results of two protocols
without saying so. A result without a stored protocol (written before protocols were recorded,
or whose record was lost) is recomputed, with one warning line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from harness.data.mirror import DataIdentity, data_identity
from harness.errors import UsageError
from harness.predictions import record_path
from harness.protocol import Protocol, changes, read_protocol, task_protocol, write_protocol
from harness.results import finite_main_score, read_task_result
from harness.schema import RunConfig

log = logging.getLogger(__name__)
Variant = tuple[int | None, str]  # (MRL dim or None for native, storage precision)
SHOWN_CHANGES = 4


@dataclass
class Plan:
    """What a run does per task: the variants to score, those already done, and the data and
    protocol of each."""

    todo: dict[str, list[Variant]] = field(default_factory=dict)
    skipped: list[tuple[str, Variant]] = field(default_factory=list)
    data: dict[str, DataIdentity] = field(default_factory=dict)
    protocols: dict[str, dict[Variant, Protocol]] = field(default_factory=dict)


def _finite_result(folder: Path, task_name: str, mteb_version: str) -> bool:
    """A readable result of this mteb version whose main score is a finite number."""
    result = read_task_result(folder / f"{task_name}.json", mteb_version=mteb_version)
    if result is None:
        return False
    if finite_main_score(result) is None:
        log.warning("recomputing %s in %s: its main score is not a finite number", task_name,
                    folder)
        return False
    return True


def plan_run(cfg: RunConfig, tasks: list, folders: dict[Variant, Path], identity: dict,
             mteb_version: str) -> Plan:
    """Identify every task's data and protocol and decide what is done; a UsageError naming
    the changed settings when a stored result was made under another protocol (unless
    ``overwrite``). Nothing is loaded or encoded."""
    plan = Plan()
    changed: dict[str, list[str]] = {}
    restamp = []
    storage = cfg.cache_storage if cfg.cache_dir else "fp32"  # no cache: fp32 vectors
    for task in tasks:
        name = task.metadata.name
        plan.data[name] = data_identity(task, cfg.data_root)
        plan.protocols[name] = {
            variant: task_protocol(identity, cfg.model, task, dim=variant[0], quantize=variant[1],
                                   cache_storage=storage, mteb_version=mteb_version,
                                   data=plan.data[name])
            for variant in folders}
        pending = []
        for variant, folder in folders.items():
            current = plan.protocols[name][variant]
            if cfg.overwrite or not _finite_result(folder, name, mteb_version):
                pending.append(variant)
                continue
            stored = read_protocol(folder, name)
            if stored is None:
                log.warning("recomputing %s in %s: no protocol is recorded for its result", name,
                            folder)
                pending.append(variant)
            elif stored.settings != current.settings:
                changed.setdefault(name, changes(stored.settings, current.settings))
            elif cfg.save_predictions and not record_path(folder, name).exists():
                pending.append(variant)
            elif stored.id != current.id:  # same task settings under an edited recipe
                restamp.append((folder, name, current))
        plan.skipped += [(name, v) for v in folders if v not in pending]
        if pending:
            plan.todo[name] = pending
    if changed:
        raise _changed_error(cfg.output_dir, changed)
    for folder, name, protocol in restamp:
        write_protocol(folder, name, protocol)
    return plan


def _changed_error(output_dir: str, changed: dict[str, list[str]]) -> UsageError:
    """One line: which tasks, which settings (old -> new), and the two ways out."""
    settings = list(dict.fromkeys(line for lines in changed.values() for line in lines))
    shown = "; ".join(settings[:SHOWN_CHANGES])
    if len(settings) > SHOWN_CHANGES:
        shown += f"; and {len(settings) - SHOWN_CHANGES} more"
    names = list(changed)
    tasks = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return UsageError(
        f"output_dir {output_dir!r} holds results of {tasks} made with other settings "
        f"({shown}); rerun with overwrite=true to replace them, or give another output_dir")
