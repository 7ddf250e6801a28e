"""Resume, in-process on small tasks: a run skips tasks that have a result and redoes missing
ones; Ctrl-C (KeyboardInterrupt) keeps every finished task's JSON and the rerun evaluates only
the rest. (tests/integration/test_resume.py sends a real SIGINT to a ``harness run`` process.)"""

from __future__ import annotations

from pathlib import Path

import mteb
import pytest
from support import MINILM, MINILM_REVISION, cli, run_settings, write_files

from harness.results import read_task_result, run_folder
from harness.status import FAILED_DIR, RUNNING_DIR

TASKS = ["BIOSSES", "STSBenchmark"]


def _run(capsys: pytest.CaptureFixture[str], data_root: Path, out: Path, cache: Path,
         *extra: str) -> tuple[int, str, str]:
    """``harness run`` of TASKS with the warm cache of the tiny tasks (no weights loaded)."""
    return cli(capsys, "run", f"tasks.names=[{','.join(TASKS)}]",
               *run_settings(data_root, out, cache), *extra)


def test_rerun_evaluates_only_missing_tasks(tiny_data_root: Path, tiny_results: Path,
                                            tiny_cache: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A result with its protocol record is kept; the other task is scored (from the warm
    cache) and equals the first run's."""
    folder = run_folder(tmp_path, MINILM, MINILM_REVISION)
    for name in ("BIOSSES.json", ".protocol/BIOSSES.json"):
        write_files(folder, {name: (tiny_results / name).read_bytes()})
    stamp = (folder / "BIOSSES.json").stat().st_mtime_ns
    code, out, err = _run(capsys, tiny_data_root, tmp_path, tiny_cache)
    assert code == 0, err
    assert "evaluated 1, already done 1" in out
    assert (folder / "BIOSSES.json").stat().st_mtime_ns == stamp
    assert read_task_result(folder / "STSBenchmark.json").main_score == \
        read_task_result(tiny_results / "STSBenchmark.json").main_score
    code, out, _ = _run(capsys, tiny_data_root, tmp_path, tiny_cache, "overwrite=true")
    assert code == 0 and "evaluated 2, already done 0" in out
    assert (folder / "BIOSSES.json").stat().st_mtime_ns != stamp


def test_ctrl_c_keeps_finished_tasks_then_resumes(tiny_data_root: Path, tiny_cache: Path,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    evaluate = mteb.evaluate
    calls = []

    def interrupted_on_the_second_task(*args, **kwargs):
        calls.append(args[1].metadata.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(mteb, "evaluate", interrupted_on_the_second_task)
    code, _, err = _run(capsys, tiny_data_root, tmp_path, tiny_cache)
    assert code == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["harness: interrupted; finished task results are saved, rerun to resume"]
    folder = run_folder(tmp_path, MINILM, MINILM_REVISION)
    assert [t for t in TASKS if (folder / f"{t}.json").exists()] == [calls[0]]
    assert read_task_result(folder / f"{calls[0]}.json") is not None
    assert not list(folder.glob(".*.tmp"))
    assert not list((folder / RUNNING_DIR).glob("*.json"))
    assert not list((folder / FAILED_DIR).glob("*.json"))  # an interruption is no failure
    stamp = (folder / f"{calls[0]}.json").stat().st_mtime_ns

    monkeypatch.setattr(mteb, "evaluate", evaluate)
    code, out, err = _run(capsys, tiny_data_root, tmp_path, tiny_cache)
    assert code == 0, err
    assert "evaluated 1, already done 1, texts encoded 0" in out
    assert (folder / f"{calls[0]}.json").stat().st_mtime_ns == stamp
    assert all(read_task_result(folder / f"{t}.json") is not None for t in TASKS)
