"""Issue 13's reproductions on the real BIOSSES release (../shared/data/biosses): the reversed
scores give -0.8125 in the same datasets cache, a truncated mirror file fails in one line, and a
changed pooling never reuses the mean-pooled result."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SHARED_DATA, cli, minilm_folder, run_settings, write_files

from harness.data.importers import import_dataset
from harness.results import read_task_result

TASK = "tasks.names=[BIOSSES]"


def test_reversed_biosses_scores_minus_0_8125_and_a_truncated_file_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (SHARED_DATA / "biosses" / "biosses.tsv").read_text(encoding="utf-8").splitlines()
    column = lines[0].split("\t").index("score_mean")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    for row in rows:
        row[column] = repr(4 - float(row[column]))
    reversed_src = write_files(tmp_path / "reversed" / "biosses", {
        "biosses.tsv": "\n".join([lines[0], *("\t".join(row) for row in rows)]) + "\n"})
    import_dataset(SHARED_DATA / "biosses", tmp_path / "root")
    import_dataset(reversed_src, tmp_path / "root_reversed")
    cache = tmp_path / "cache"
    scores = {}
    for name in ("root", "root_reversed"):
        code, _, err = cli(capsys, "run", TASK, *run_settings(tmp_path / name,
                                                              tmp_path / f"out_{name}", cache))
        assert code == 0, err
        scores[name] = read_task_result(minilm_folder(tmp_path / f"out_{name}")
                                        / "BIOSSES.json").get_score()
    assert round(scores["root"], 4) == 0.8125
    assert round(scores["root_reversed"], 4) == -0.8125

    code, out, err = cli(capsys, "run", TASK, "model.pooling=cls",
                         *run_settings(tmp_path / "root", tmp_path / "out_root", cache))
    assert code == 2 and "pooling: mean -> cls" in err and out == ""

    data = tmp_path / "root" / "mteb" / "biosses-sts" / "test.jsonl.gz"
    data.write_bytes(data.read_bytes()[:500])
    code, _, err = cli(capsys, "run", TASK, *run_settings(tmp_path / "root", tmp_path / "out3",
                                                          cache))
    assert code == 1 and err.count("\n") == 1 and str(data) in err
    assert not (tmp_path / "out3").exists()
