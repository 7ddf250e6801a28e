"""Task markers written by the runner and ``harness status``: done, running, dead, failed, missing.

While a task runs, ``<folder>/.running/<Task>.json`` holds its pid, host and start time; it is
removed when the task ends, and touched every minute meanwhile (a heartbeat). A task that raises
leaves ``<folder>/.failed/<Task>.json`` with the one-line error (removed again when the task
later succeeds). A running marker silent for longer than ``stale_after`` (default 30 min), or
whose pid no longer exists on this host, belongs to a job that was killed (out of memory, time
limit, node failure): ``harness status`` calls it dead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from harness.config import config_files, load_config
from harness.errors import UsageError, one_line, unknown_choice
from harness.fileio import atomic_write_text, pid_alive, read_json
from harness.results import (
    find_run_folders,
    finite_main_score,
    read_task_result,
    run_folder,
    run_folder_of,
)

RUNNING_DIR = ".running"
FAILED_DIR = ".failed"
DEFAULT_STALE_AFTER = 30 * 60.0  # no heartbeat for this long: the job is dead
HEARTBEAT_S = 60.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _job_fields() -> dict:
    """Who runs the task: pid, host and the scheduler's job id when there is one."""
    job = os.environ.get("SLURM_ARRAY_JOB_ID") or os.environ.get("SLURM_JOB_ID")
    if job and os.environ.get("SLURM_ARRAY_TASK_ID"):
        job = f"{job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return {"pid": os.getpid(), "host": socket.gethostname(), "job_id": job}


def _heartbeat(paths: list[Path], stop: threading.Event) -> None:
    """Touch the running markers every ``HEARTBEAT_S`` until ``stop`` is set."""
    while not stop.wait(HEARTBEAT_S):
        for path in paths:
            with suppress(OSError):
                os.utime(path)


@contextmanager
def task_markers(folders: list[Path], task_name: str) -> Iterator[None]:
    """Mark ``task_name`` running in every folder for the block (touched every minute); on an
    exception, record it as failed there and re-raise; on success, clear an earlier failure."""
    record = {**_job_fields(), "task": task_name, "started": time.time()}
    running = [f / RUNNING_DIR / f"{task_name}.json" for f in folders]
    failed = [f / FAILED_DIR / f"{task_name}.json" for f in folders]
    for path in running:
        atomic_write_text(path, json.dumps(record))
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(running, stop), daemon=True)
    beat.start()
    try:
        yield
    except Exception as exc:
        for path in failed:
            atomic_write_text(path, json.dumps({**record, "failed": time.time(),
                                                "error": one_line(exc, 300)}))
        raise
    else:
        for path in failed:
            path.unlink(missing_ok=True)
    finally:
        stop.set()
        beat.join()
        for path in running:
            path.unlink(missing_ok=True)


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h`` or ``1d`` -> seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if not match:
        raise UsageError(f"--stale-after must look like 90s, 30m, 2h or 1d, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _read_marker(path: Path) -> dict | None:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def _since(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def task_state(folder: Path, task_name: str, stale_after: float = DEFAULT_STALE_AFTER,
               now: float | None = None) -> dict:
    """The state of one task in one results folder, with who/since/error details."""
    now = time.time() if now is None else now
    marker = _read_marker(folder / RUNNING_DIR / f"{task_name}.json")
    if marker is not None:
        started = float(marker.get("started", 0))
        here = marker.get("host") == socket.gethostname()
        gone = here and not pid_alive(int(marker.get("pid", 0)))
        try:
            silent = now - (folder / RUNNING_DIR / f"{task_name}.json").stat().st_mtime
        except OSError:  # the task ended while we looked
            return task_state(folder, task_name, stale_after, now)
        stale = silent > stale_after
        where = f"{marker.get('host')}:{marker.get('pid')}"
        if marker.get("job_id"):
            where += f" (job {marker['job_id']})"
        if not (gone or stale):
            return {"state": "running", "since": _since(started), "where": where, "error": ""}
        reason = "process gone" if gone else f"no heartbeat for {silent / 60:.0f} min"
        return {"state": "dead", "since": _since(started), "where": where, "error": reason}
    result = read_task_result(folder / f"{task_name}.json")
    if result is not None and finite_main_score(result) is not None:
        return {"state": "done", "since": "", "where": "", "error": ""}
    failure = _read_marker(folder / FAILED_DIR / f"{task_name}.json")
    if failure is not None:
        where = f"{failure.get('host')}:{failure.get('pid')}"
        return {"state": "failed", "since": _since(failure.get("failed")), "where": where,
                "error": failure.get("error", "")}
    return {"state": "missing", "since": "", "where": "", "error": ""}


def _marked_folders(root: Path) -> set[Path]:
    """Run folders known by their markers only (a first task still running, or failed)."""
    return {m.parent for pattern in (RUNNING_DIR, FAILED_DIR) for m in root.rglob(pattern)
            if m.is_dir()}


def _model_name(model: str) -> str:
    """A recipe name -> the model id it loads (inheritance resolved); ids pass through."""
    if model in config_files("model"):
        return load_config([f"model={model}"]).model.name
    return model


def status_table(results_dir: str | Path, task_names: list[str], model: str | None = None,
                 stale_after: float = DEFAULT_STALE_AFTER) -> pd.DataFrame:
    """One row per (run folder, task): Model, Task, State, Since, Where, Error. With ``model``
    (an id or a recipe name) only its folders; one that has not started shows all missing."""
    root = Path(results_dir)
    if not root.is_dir():
        raise UsageError(f"results folder {str(root)!r} does not exist")
    runs = {r.path: r for r in find_run_folders(root)}
    for folder in _marked_folders(root) - set(runs):
        run = run_folder_of(root, folder)
        if run is not None:
            runs[folder] = run
    folders = sorted(((r.label, r.path) for r in runs.values()), key=lambda item: item[0])
    if model is not None:
        name = _model_name(model)
        folders = [(label, path) for label, path in folders if runs[path].model == name]
        if not folders and name == model:
            raise unknown_choice("model", model, {r.model for r in runs.values()} | set(
                config_files("model")))
        folders = folders or [(name, run_folder(root, name, None))]
    if not folders:
        raise UsageError(f"no run has started under {str(root)!r} yet (--model NAME lists "
                           "a model's tasks as missing)")
    rows = []
    for label, folder in folders:
        for task in task_names:
            state = task_state(folder, task, stale_after)
            rows.append({"Model": label, "Task": task, "State": state["state"],
                         "Since": state["since"], "Where": state["where"],
                         "Error": state["error"]})
    return pd.DataFrame(rows, columns=["Model", "Task", "State", "Since", "Where", "Error"])


def render_status(table: pd.DataFrame) -> str:
    """Per-model counts, then the tasks that are not done (markdown)."""
    order = ["done", "running", "dead", "failed", "missing"]
    counts = table.groupby("Model", sort=False)["State"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=order, fill_value=0).reset_index()
    open_tasks = table[table["State"] != "done"]
    open_tasks = open_tasks.loc[:, (open_tasks != "").any()]  # drop all-empty detail columns
    parts = [counts.to_markdown(index=False)]
    if not open_tasks.empty:
        parts.append(open_tasks.to_markdown(index=False))
    return "\n\n".join(parts)
