"""Benchmark task lists come from mteb; user mistakes give one line on stderr and exit code 2
(test_architecture.py composes every shipped config)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import cli
from tiny_tasks import write_stsbenchmark

from harness.config import load_config


def test_benchmark_lists_come_from_mteb() -> None:
    from harness.tasks import task_objects

    eng = task_objects(load_config(["tasks=mteb_eng_v1"]).tasks)
    cmn = task_objects(load_config(["tasks=cmteb"]).tasks)
    assert len(eng) == 56
    assert len({t.metadata.type for t in eng}) == 7
    assert all("zho" in t.metadata.languages or "cmn" in str(t.metadata.eval_langs) for t in cmn)


@pytest.mark.parametrize(
    ("args", "must_name"),
    [
        (["run", "model=nope"], ["'nope'", "minilm"]),
        (["run", "tasks=nope"], ["'nope'", "quick"]),
        (["run", "tasks.names=[NotATask]"], ["'NotATask'", "valid choices"]),
        (["run", "model.pooling=max"], ["'max'", "cls", "last_token", "mean"]),
        (["run", "model.poolng=mean"], ["'model.poolng'", "model.pooling"]),
        (["run", "batch_size=-3"], ["batch_size", "-3"]),
        (["run", "device=tpu"], ["'tpu'", "cpu", "cuda"]),
        (["run", "precision=fp8"], ["'fp8'", "bf16", "fp16"]),
        (["run", "data_root=/no/such/folder"], ["/no/such/folder"]),
        (["table", "/no/such/results"], ["/no/such/results"]),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], must_name: list[str],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for fragment in must_name:
        assert fragment in lines[0]


def test_malformed_data_file_names_file_and_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = write_stsbenchmark(tmp_path / "stsb")
    good = (src / "sts-test.csv").read_text().splitlines()
    (src / "sts-test.csv").write_text("\n".join(good[:5] + ["main-captions\tbroken"]) + "\n")
    code, _, err = cli(capsys, "data", "import", str(src), "--out", str(tmp_path / "out"),
                       "--task", "STSBenchmark")
    assert code == 2, err
    assert "Traceback" not in err
    assert "sts-test.csv" in err and ":6" in err
    assert not (tmp_path / "out").exists()
