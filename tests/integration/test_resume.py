"""Acceptance: Ctrl-C keeps every finished task's JSON, and the rerun evaluates only the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from support import MINILM, MINILM_REVISION, REPO, run_cli

from harness.results import read_task_result, run_folder

TASKS = ["BIOSSES", "STS13", "STSBenchmark", "STS12"]


def test_ctrl_c_then_resume(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["run", f"tasks.names=[{','.join(TASKS)}]", f"data_root={data_root}",
            f"output_dir={out}", "show_progress=false"]
    folder = run_folder(out, MINILM, MINILM_REVISION)
    first = folder / "BIOSSES.json"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.time() + 300
    while not first.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert first.exists(), proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    done = [t for t in TASKS if (folder / f"{t}.json").exists()]
    assert "BIOSSES" in done and len(done) < len(TASKS)
    assert all(read_task_result(folder / f"{t}.json") is not None for t in done)
    assert not list(folder.glob(".*.tmp"))
    stamp = first.stat().st_mtime_ns

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert f"evaluated {len(TASKS) - len(done)}, already done {len(done)}" in rerun.stdout
    assert first.stat().st_mtime_ns == stamp
    assert all(read_task_result(folder / f"{t}.json") is not None for t in TASKS)
