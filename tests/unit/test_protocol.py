"""Protocol fingerprints: a result is done only under the protocol that made it.

Runs of the tiny BIOSSES (tests/tiny_tasks.py) with the warm cache of the tiny tasks: a rerun
under the same settings encodes nothing; one under other settings stops before any work with
exit 2, naming each changed setting and the two ways out.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import pytest
from support import MINILM, cli, minilm_folder, run_settings

from harness import runner
from harness.protocol import PROTOCOL_DIR, changes, read_protocol, task_protocol
from harness.results import MANIFEST_NAME, load_scores, read_manifest, read_task_result

TASK = "tasks.names=[BIOSSES]"


@pytest.fixture(scope="module")
def done(tiny_data_root: Path, tiny_cache: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output_dir holding BIOSSES scored by the default MiniLM recipe."""
    from harness.api import run

    out = tmp_path_factory.mktemp("done")
    run([TASK, *run_settings(tiny_data_root, out, tiny_cache)])
    return out


def _copy(done: Path, tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    shutil.copytree(done, out)
    return out, minilm_folder(out)


def _no_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("weights loaded")

    monkeypatch.setattr(runner, "load_backend", refuse)


def test_changed_pooling_stops_then_another_folder_or_overwrite(
        done: Path, tiny_data_root: Path, tiny_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance 2: the mean-pooled score is never reported as the cls one."""
    out, folder = _copy(done, tmp_path)
    before = (folder / "BIOSSES.json").read_bytes()
    settings = run_settings(tiny_data_root, out, tiny_cache)
    with monkeypatch.context() as patch:
        _no_weights(patch)
        code, stdout, err = cli(capsys, "run", TASK, "model.pooling=cls", *settings)
    assert code == 2 and err.count("\n") == 1 and stdout == "", err
    assert "BIOSSES" in err and "pooling: mean -> cls" in err
    assert "overwrite=true" in err and "another output_dir" in err
    assert (folder / "BIOSSES.json").read_bytes() == before
    mean = read_task_result(folder / "BIOSSES.json").get_score()

    other = tmp_path / "cls"
    code, stdout, err = cli(capsys, "run", TASK, "model.pooling=cls",
                            *run_settings(tiny_data_root, other, "null"))
    assert code == 0 and "evaluated 1, already done 0" in stdout, err
    cls = read_task_result(minilm_folder(other) / "BIOSSES.json").get_score()
    assert abs(cls - mean) > 1e-4
    ids = {read_protocol(f, "BIOSSES").id for f in (folder, minilm_folder(other))}
    assert len(ids) == 2

    code, stdout, err = cli(capsys, "run", TASK, "model.pooling=cls", "overwrite=true",
                            *run_settings(tiny_data_root, out, "null"))
    assert code == 0 and "evaluated 1" in stdout, err
    assert read_task_result(folder / "BIOSSES.json").get_score() == pytest.approx(cls, abs=1e-6)
    assert read_protocol(folder, "BIOSSES").settings["pooling"] == "cls"
    with monkeypatch.context() as patch:
        _no_weights(patch)
        code, stdout, err = cli(capsys, "run", TASK, "model.pooling=cls",
                                *run_settings(tiny_data_root, out, "null"))
    assert code == 0 and "evaluated 0, already done 1" in stdout, err


@pytest.mark.parametrize(("override", "named"), [
    ("model.max_length=16", "max_length: 256 -> 16"),
    ("precision=bf16", "precision: fp32 -> bf16"),
    ("model.normalize=false", "normalize: true -> false"),
    ("+model.prompts.STS=sts: ", "prompt.symmetric: '' -> sts: "),
    ("cache_storage=fp16", "cache_storage: fp32 -> fp16"),
])
def test_every_vector_setting_is_named(override: str, named: str, done: Path,
                                       tiny_data_root: Path, tiny_cache: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _copy(done, tmp_path)
    _no_weights(monkeypatch)
    code, _, err = cli(capsys, "run", TASK, override,
                       *run_settings(tiny_data_root, out, tiny_cache))
    assert code == 2 and err.count("\n") == 1, err
    assert named in err


def test_a_result_without_its_protocol_is_recomputed(done: Path, tiny_data_root: Path,
                                                     tiny_cache: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A result written before protocols were recorded (or whose record is lost) is scored
    again, with one warning, and then carries its protocol."""
    out, folder = _copy(done, tmp_path)
    shutil.rmtree(folder / PROTOCOL_DIR)
    with caplog.at_level(logging.WARNING, logger="harness"):
        code, stdout, err = cli(capsys, "run", TASK, *run_settings(tiny_data_root, out,
                                                                   tiny_cache))
    assert code == 0 and "evaluated 1, already done 0, texts encoded 0" in stdout, err
    assert [r.getMessage() for r in caplog.records if "no protocol" in r.getMessage()]
    assert read_protocol(folder, "BIOSSES") == read_protocol(minilm_folder(done),
                                                             "BIOSSES")


def test_a_prompt_for_other_tasks_keeps_results_under_the_new_recipe_id(
        done: Path, tiny_data_root: Path, tiny_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A recipe edit that changes no input of BIOSSES (a retrieval query prompt) keeps its
    result, now stamped with the new recipe's id (the id table and compare show)."""
    out, folder = _copy(done, tmp_path)
    old = read_protocol(folder, "BIOSSES")
    _no_weights(monkeypatch)
    code, stdout, err = cli(capsys, "run", TASK, "+model.prompts.Retrieval-query=query",
                            *run_settings(tiny_data_root, out, tiny_cache))
    assert code == 0 and "evaluated 0, already done 1" in stdout, err
    new = read_protocol(folder, "BIOSSES")
    assert new.settings == old.settings and new.id != old.id
    code, stdout, _ = cli(capsys, "table", str(out))
    assert new.id in stdout and old.id not in stdout


def test_non_finite_main_score_is_not_done_and_table_agrees(
        done: Path, tiny_data_root: Path, tiny_cache: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out, folder = _copy(done, tmp_path)
    path = folder / "BIOSSES.json"
    data = json.loads(path.read_text())
    for entry in data["scores"]["test"]:
        entry["main_score"] = math.nan
    path.write_text(json.dumps(data))
    assert load_scores(out).empty
    code, _, err = cli(capsys, "table", str(out))
    assert code == 2 and "no readable result JSON" in err
    code, stdout, err = cli(capsys, "status", str(out), "--tasks", "ci")
    assert code == 0, err
    (row,) = [line for line in stdout.splitlines() if "| BIOSSES " in line]
    assert "| missing " in row
    code, stdout, err = cli(capsys, "run", TASK, *run_settings(tiny_data_root, out, tiny_cache))
    assert code == 0 and "evaluated 1, already done 0" in stdout, err
    assert math.isfinite(read_task_result(path).get_score())
    assert list(load_scores(out)["task"]) == ["BIOSSES"]


def test_a_garbage_manifest_is_rebuilt_from_the_results(
        done: Path, tiny_data_root: Path, tiny_cache: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out, folder = _copy(done, tmp_path)
    (folder / MANIFEST_NAME).write_text("[1, 2")
    code, stdout, err = cli(capsys, "run", "tasks.names=[BIOSSES,STSBenchmark]",
                            *run_settings(tiny_data_root, out, tiny_cache))
    assert code == 0 and "evaluated 1, already done 1" in stdout, err
    tasks = read_manifest(folder)["tasks"]
    assert set(tasks) == {"BIOSSES", "STSBenchmark"}
    assert tasks["BIOSSES"]["rebuilt"] and "rebuilt" not in tasks["STSBenchmark"]
    score = read_task_result(folder / "BIOSSES.json").get_score()
    assert tasks["BIOSSES"]["main_score"] == pytest.approx(score)
    assert tasks["BIOSSES"]["protocol"] == tasks["STSBenchmark"]["protocol"] == \
        read_protocol(folder, "BIOSSES").id


def test_table_and_compare_show_the_protocol_of_each_run(
        done: Path, tiny_results: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = minilm_folder(done)
    ident = read_protocol(folder, "BIOSSES").id
    code, stdout, err = cli(capsys, "table", str(done), "--format", "csv")
    assert code == 0, err
    head, row = stdout.splitlines()[:2]
    assert head.endswith(",Protocol") and row.endswith(f",{ident}")
    code, stdout, err = cli(capsys, "compare", str(folder), str(folder))
    assert code == 0, err
    assert stdout.count(f"(protocol {ident})") == 2
    code, stdout, err = cli(capsys, "compare", str(done), "--reference", str(done))
    assert code == 0, err
    assert f"(protocol {ident}) vs" in stdout
    mixed = tmp_path / "mixed"
    shutil.copytree(done, mixed)
    shutil.copy(tiny_results / "STSBenchmark.json", minilm_folder(mixed))
    code, stdout, err = cli(capsys, "table", str(mixed))  # a result without its record
    assert code == 0 and f"- (1 task), {ident} (1 task)" in stdout, err


def test_the_protocol_is_built_from_the_cache_identity_generically(tiny_data_root: Path) -> None:
    """Every entry of the cache identity is a setting (a new one included, nested ones
    flattened), so whatever the identity learns to hold is compared too."""
    import mteb

    from harness.config import load_config
    from harness.data.mirror import data_identity

    cfg = load_config([TASK])
    task = mteb.get_task("BIOSSES")
    data = data_identity(task, str(tiny_data_root))
    identity = {"name": MINILM, "pooling": "mean", "forward_kwargs": {"scale": 2}}
    first = task_protocol(identity, cfg.model, task, dim=None, quantize="none",
                          cache_storage="fp32", mteb_version="2.x", data=data)
    second = task_protocol({**identity, "forward_kwargs": {"scale": 3}, "autocast": True},
                           cfg.model, task, dim=256, quantize="int8", cache_storage="fp32",
                           mteb_version="2.x", data=data)
    assert first.settings["forward_kwargs.scale"] == "2"
    assert first.settings["data"] == data.fingerprint
    assert first.settings["prompt.symmetric"] == ""
    assert changes(first.settings, second.settings) == [
        "autocast: (absent) -> true", "dim: native -> 256", "forward_kwargs.scale: 2 -> 3",
        "quantize: none -> int8"]
    assert first.id != second.id
