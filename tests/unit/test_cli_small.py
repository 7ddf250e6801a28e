"""The ``harness`` command in-process: how errors reach the user (one line, ``-v`` for the
traceback, exit codes), ``harness cache info/clear`` and ``harness list tasks --data-root``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import MINILM, cli
from tiny_tasks import TINY_TASKS

from harness import api
from harness.longtext import LONGTEXT_SETS


def test_usage_error_is_one_line_and_verbose_adds_the_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nothing")
    code, out, err = cli(capsys, "table", missing)
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("harness: error: ") and missing in err
    code, _, err = cli(capsys, "-v", "table", missing)
    assert code == 2 and "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("harness: error: ")


@pytest.mark.parametrize("argv, bad", [
    (["nope"], "'nope'"),
    (["run", "--cfg", "nope"], "'nope'"),
    (["list", "nope"], "'nope'"),
    (["cache", "nope"], "'nope'"),
    (["table"], "results"),
    (["regress", "--tolerance", "x", "a", "b"], "'x'"),
])
def test_a_bad_argument_is_one_line_naming_it_exit_2(
        argv: list[str], bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's usage block is not printed: one line, the bad value, exit 2."""
    with pytest.raises(SystemExit) as exit_info:
        cli(capsys, *argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert len(err.strip().splitlines()) == 1 and bad in err, err


def test_unexpected_failure_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("a bug\nover two lines")

    monkeypatch.setattr(api, "leaderboard", broken)
    code, _, err = cli(capsys, "table", str(tmp_path))
    assert code == 1
    assert err == ("harness: error: unexpected ValueError: a bug over two lines "
                   "(rerun with -v for the traceback)\n")
    code, _, err = cli(capsys, "-v", "table", str(tmp_path))
    assert code == 1 and "Traceback" in err and "(rerun with -v" not in err


def test_a_flag_after_the_overrides_is_parsed_as_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "run", "model=minilm", "--cfg", "nope")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("harness: error: run: argument -c/--cfg: invalid choice: 'nope'")
    code, out, err = cli(capsys, "run", "tasks=ci", "--cfg", "job")
    assert code == 0, err
    assert "name: ci" in out and "- BIOSSES" in out


def test_cache_info_and_clear(tiny_cache: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    cache = shutil.copytree(tiny_cache, tmp_path / "cache")
    code, out, err = cli(capsys, "cache", "info", "--cache-dir", str(cache))
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if MINILM in line]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[2]) > 100 and cells[4:] == ["fp32", "fp32", "384"]
    code, _, err = cli(capsys, "cache", "clear", "--cache-dir", str(cache), "--model", "me/other")
    assert code == 2 and "unknown cached model 'me/other'" in err and MINILM in err
    code, out, _ = cli(capsys, "cache", "clear", "--cache-dir", str(cache), "--model", MINILM)
    assert code == 0 and out.startswith("removed 1 cache namespace(s), ")
    code, out, _ = cli(capsys, "cache", "info", "--cache-dir", str(cache))
    assert code == 0 and out == f"cache {cache} is empty\n"


def test_list_tasks_says_where_each_task_would_come_from(
        tiny_data_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "list", "tasks", "--data-root", str(tiny_data_root))
    assert code == 0, err
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()[2:]]
    quick = {task: data for name, task, _, data in rows if name == "quick"}
    assert {task: quick[task] for task in TINY_TASKS} == dict.fromkeys(TINY_TASKS, "local")
    assert quick["STS12"] == "importable"
    longtext = {task: data for name, task, _, data in rows if name == "longtext"}
    assert set(longtext) == set(LONGTEXT_SETS)
    assert all(data.startswith("not built") for data in longtext.values())
