"""Acceptance on the real STS Benchmark: MiniLM at max_length 256 vs 32 with per-item records;
``compare --significance``, ``regress --significance`` and ``diff`` (about 2 minutes a run on
2 cores)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from support import MINILM_REVISION, SHARED_DATA, cli

from harness.api import compare_runs, run
from harness.predictions import read_record
from harness.results import run_folder

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def runs(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    found = {}
    for length in (256, 32):
        out = tmp_path_factory.mktemp(f"len{length}")
        run([f"data_root={data_root}", f"output_dir={out}", "show_progress=false",
             "cache_dir=null", "tasks.names=[STSBenchmark]", "save_predictions=true",
             f"model.max_length={length}"])
        found[length] = out
    return found


def test_compare_reports_delta_interval_and_p(runs, capsys):
    report = compare_runs(runs[256], runs[32], significance=True)
    [row] = report.sections[0].rows
    low, high = row.stat.interval
    assert row.stat.observed == pytest.approx(row.b - row.a, abs=1e-6) and row.stat.observed < 0
    assert low < row.stat.observed < high < 0 and row.stat.p_value < 0.05
    record = read_record(run_folder(runs[256], MODEL, MINILM_REVISION), "STSBenchmark")
    assert record.subsets[0].entry["reproduced"]
    code, out, _ = cli(capsys, "compare", str(runs[256]), str(runs[256]), "--significance")
    assert code == 0 and "| +0.00 | [+0.00, +0.00] | 1.000 | items (1379) |" in out


def test_regress_passes_itself_and_fails_the_short_run(runs, capsys):
    code, _, _ = cli(capsys, "regress", str(runs[256]), "--baseline", str(runs[256]),
                     "--significance")
    assert code == 0
    for extra in (["--mode", "significant"], ["--significance", "--tolerance", "0.001"]):
        code, out, _ = cli(capsys, "regress", str(runs[32]), "--baseline", str(runs[256]),
                           *extra)
        assert code == 1 and "FAIL |" in out, extra


def test_diff_lists_the_pairs_that_moved_most(runs, capsys):
    code, out, _ = cli(capsys, "diff", str(runs[256]), str(runs[32]), "--task", "STSBenchmark",
                       "--top", "10", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    source = (SHARED_DATA / "stsbenchmark" / "sts-test.csv").read_text().splitlines()
    assert code == 0 and len(rows) == 10
    changes = [abs(float(r["change"])) for r in rows]
    assert changes == sorted(changes, reverse=True) and changes[0] > 0.1
    for row in rows:
        assert source[int(row["id"])].split("\t")[5:7] == [row["sentence1"], row["sentence2"]]
