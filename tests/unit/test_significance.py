"""Per-item records, ``harness compare A B --significance``, ``regress --significance`` and
``diff`` on MiniLM runs of the small in-code data at max_length 256 (A) and 4 (B)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from support import MINILM_REVISION, cli
from tiny import MODEL, sts_source

from harness.api import compare_runs, regress
from harness.predictions import read_record
from harness.results import load_scores, main_score, read_manifest, read_task_result, run_folder

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

TASKS = ["Banking77Classification", "SciFact", "STSBenchmark"]


def folder(runs: dict[str, Path], name: str) -> Path:
    return run_folder(runs[name], MODEL, MINILM_REVISION)


@pytest.mark.parametrize("task", TASKS)
def test_records_reproduce_mteb_main_scores(tiny_runs, task: str):
    run = folder(tiny_runs, "a")
    record = read_record(run, task)
    stored = main_score(read_task_result(run / f"{task}.json"))  # mteb writes 6 decimals
    scorer = record.scorers()[("test", "default")]
    entry = record.subsets[0].entry
    assert entry["reproduced"] and round(entry["main_score"], 6) == stored
    if record.kind == "retrieval":  # mteb rounds the mean of pytrec_eval's measure to 5
        assert round(scorer.score(), 5) == entry["main_score"]
    else:
        assert scorer.score() == pytest.approx(entry["main_score"], abs=1e-12)
    assert read_manifest(run)["tasks"][task]["predictions"] == f"predictions/{task}.json.gz"


def test_records_keep_ids_gold_and_every_experiment(tiny_runs):
    run = folder(tiny_runs, "a")
    sts = read_record(run, "STSBenchmark").subsets[0].entry
    gold = [float(line.split("\t")[4]) / 5 for line in sts_source()["sts-test.csv"].splitlines()]
    assert sts["ids"] == list(range(60)) and sts["labels"] == pytest.approx(gold)
    assert len(sts["predictions"]["cosine_scores"]) == 60
    classification = read_record(run, "Banking77Classification").subsets[0].entry
    assert np.asarray(classification["predictions"]).shape == (10, 18)  # mteb's 10 seeds
    retrieval = read_record(run, "SciFact").subsets[0].entry
    assert retrieval["measure"] == "ndcg_cut_10" and len(retrieval["values"]) == 24


def test_compare_significance_reports_delta_interval_and_p(tiny_runs, capsys):
    report = compare_runs(tiny_runs["a"], tiny_runs["b"], significance=True)
    scores = load_scores(tiny_runs["b"]).set_index("task")["main_score"] - load_scores(
        tiny_runs["a"]).set_index("task")["main_score"]
    rows = {r.name: r for r in report.sections[0].rows}
    for task in TASKS:
        stat = rows[task].stat
        low, high = stat.interval
        assert stat.observed == pytest.approx(scores[task], abs=1e-5)  # retrieval: 5 decimals
        assert low <= stat.observed <= high and 0 < stat.p_value <= 1
    sts = rows["STSBenchmark"].stat
    assert sts.interval[1] < 0 and sts.p_value == pytest.approx(2 / 1001)
    average = report.sections[0].aggregates[-1]
    assert average.name == "Average" and average.stat.observed == pytest.approx(
        np.mean([rows[t].stat.observed for t in TASKS]))
    code, out, _ = cli(capsys, "compare", str(tiny_runs["a"]), str(tiny_runs["b"]),
                       "--significance")
    assert code == 0 and "| STSBenchmark | STS |" in out and "95% CI" in out
    assert "items (60)" in out and "items (18) x experiments (10)" in out


def test_a_run_against_itself_has_delta_zero_and_p_one(tiny_runs, capsys):
    code, out, _ = cli(capsys, "compare", str(folder(tiny_runs, "a")),
                       str(folder(tiny_runs, "a")), "--significance")
    task_rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert code == 0 and len(task_rows) == 4
    for line in task_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[4:7] == ["+0.00", "[+0.00, +0.00]", "1.000"], line


def test_compare_usage_errors(tiny_runs, capsys):
    a, b = str(tiny_runs["a"]), str(tiny_runs["b"])
    for args in ([a, b, "--reference", "hub"], [a, "--significance"], [a]):
        code, out, err = cli(capsys, "compare", *args)
        assert code == 2 and out == "" and err.count("\n") == 1, args


def test_regress_significance_passes_itself_and_fails_the_short_run(tiny_runs, capsys):
    a, b = str(tiny_runs["a"]), str(tiny_runs["b"])
    code, out, _ = cli(capsys, "regress", a, "--baseline", a, "--significance")
    assert code == 0 and "**0 of 3 baseline tasks" in out
    code, out, _ = cli(capsys, "regress", b, "--baseline", a, "--significance")
    assert code == 1 and "| STSBenchmark |" in out and "FAIL |" in out
    report = regress(b, a, mode="both")
    verdicts = {r.task: r.failed for r in report.rows}
    tolerance_only = {r.task: r.failed for r in regress(b, a).rows}
    # Banking77 drops beyond the tolerance but not significantly: only the plain gate fails it
    assert verdicts == {"Banking77Classification": False, "SciFact": True, "STSBenchmark": True}
    assert tolerance_only == {t: True for t in TASKS}
    assert {r.task: r.failed for r in regress(b, a, mode="significant").rows} == verdicts


def test_regress_without_records_falls_back_to_the_tolerance(tiny_runs, tmp_path: Path):
    baseline = shutil.copytree(tiny_runs["a"], tmp_path / "baseline")
    shutil.rmtree(run_folder(baseline, MODEL, MINILM_REVISION) / "predictions")
    rows = regress(tiny_runs["b"], baseline, mode="both").rows
    assert all(r.stat is None and r.failed for r in rows)
    assert "no per-item records in A" in rows[0].note


def test_diff_lists_the_pairs_that_moved_most_with_their_texts(tiny_runs, capsys):
    code, out, _ = cli(capsys, "diff", str(tiny_runs["a"]), str(tiny_runs["b"]), "--task",
                       "STSBenchmark", "--top", "5", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    a = read_record(folder(tiny_runs, "a"), "STSBenchmark").subsets[0].entry
    b = read_record(folder(tiny_runs, "b"), "STSBenchmark").subsets[0].entry
    moved = np.abs(np.subtract(b["predictions"]["cosine_scores"],
                               a["predictions"]["cosine_scores"]))
    lines = sts_source()["sts-test.csv"].splitlines()
    assert code == 0 and len(rows) == 5
    assert [int(r["id"]) for r in rows] == list(np.argsort(-moved, kind="stable")[:5])
    for row in rows:
        item = int(row["id"])
        assert float(row["change"]) == pytest.approx(float(row["B"]) - float(row["A"]))
        assert [row["sentence1"], row["sentence2"]] == lines[item].split("\t")[5:7]
    code, out, _ = cli(capsys, "diff", str(tiny_runs["a"]), str(tiny_runs["b"]), "--task",
                       "SciFact", "--top", "3")
    assert code == 0 and "| id " in out and "top doc A" in out and out.count("\n| q") == 3


def test_diff_needs_records(tiny_runs, capsys, tmp_path: Path):
    plain = shutil.copytree(tiny_runs["a"], tmp_path / "plain")
    shutil.rmtree(run_folder(plain, MODEL, MINILM_REVISION) / "predictions")
    code, _, err = cli(capsys, "diff", str(plain), str(tiny_runs["b"]), "--task", "SciFact")
    assert code == 2 and "save_predictions=true" in err


def test_save_predictions_reruns_a_task_that_has_no_record(tiny_runs, tiny_data, tmp_path):
    from harness.api import run

    out = shutil.copytree(tiny_runs["a"], tmp_path / "out")
    shutil.rmtree(run_folder(out, MODEL, MINILM_REVISION) / "predictions")
    args = [f"data_root={tiny_data}", f"output_dir={out}", "show_progress=false",
            "cache_dir=null", "tasks.names=[STSBenchmark]"]
    assert run(args).evaluated == []  # done, and no records asked for
    summary = run([*args, "save_predictions=true"])
    assert summary.evaluated == [("STSBenchmark", (None, "none"))]
    assert read_record(run_folder(out, MODEL, MINILM_REVISION), "STSBenchmark").subsets[0].entry[
        "reproduced"]


def test_records_are_gzipped_json(tiny_runs):
    import gzip

    path = folder(tiny_runs, "a") / "predictions" / "SciFact.json.gz"
    record = json.loads(gzip.decompress(path.read_bytes()))
    assert record["format"] == "harness-predictions/1" and record["kind"] == "retrieval"
    ranking = record["subsets"][0]["predictions"]
    assert len(ranking) == 24 and all(len(docs) <= 100 for docs in ranking.values())
