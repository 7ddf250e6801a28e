"""Encode shards on the tiny tasks: two shard jobs at once fill one cache, a scoring run then
encodes nothing and equals the unsharded run to 1e-6; a killed shard's rerun encodes only what it
had not stored; ``harness status --cache-dir`` counts each task's cached inputs; an encode job
covers every task type's inputs (mteb's mock tasks); the sweep composes for the launchers."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import assert_same_scores, cli, minilm_folder, run_settings, write_files
from tiny_tasks import TINY_TASKS

from harness.api import encode, run
from harness.cache import cache_entries
from harness.cache_index import keys_path
from harness.encode_jobs import shard_mask
from harness.models.encoder import HarnessEncoder
from harness.results import read_task_result

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

TASKS = f"tasks.names=[{','.join(TINY_TASKS)}]"


def _settings(data_root: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [TASKS, *run_settings(data_root, out, cache), "batch_size=4", *extra]


def _entries(cache: Path) -> int:
    return sum(entry.entries for entry in cache_entries(cache))


@pytest.fixture(scope="module")
def sharded(tiny_data_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """``harness encode -m encode_shard=0/2,1/2 hydra/launcher=local``: two processes at once
    fill one cache. Returns (cache, shard file of each job)."""
    from harness.cli import main

    cache = tmp_path_factory.mktemp("shared_cache")
    out = tmp_path_factory.mktemp("sweep")
    with pytest.MonkeyPatch.context() as patch:  # the jobs' datasets cache, not the user's
        patch.setenv("HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("jobs_datasets")))
        code = main(["encode", "-m", "encode_shard=0/2,1/2", "hydra/launcher=local",
                     "hydra.launcher.cpus_per_task=1", *_settings(tiny_data_root, out, cache)])
    assert code == 0
    logs = sorted((out / ".hydra").rglob("*_log.out"))
    assert sorted(log.read_text().split(": inputs of")[0].split()[-1] for log in logs) == [
        "0/2", "1/2"]
    assert not [p for p in out.iterdir() if p.name != ".hydra"]  # an encode job scores nothing
    files = {}  # each job's shard file holds the keys of its shard only
    for shard in cache.rglob("shard-*.bin"):
        keys = _keys_of(shard)
        (index,) = [i for i in range(2) if shard_mask(keys, (i, 2)).all()]
        files[index] = shard
    assert sorted(files) == [0, 1]
    return cache, files


def _keys_of(shard: Path) -> list[bytes]:
    """The keys a job stored, from its shard's sidecar."""
    data = keys_path(shard).read_bytes()
    return [data[start:start + 16] for start in range(0, len(data), 16)]


def test_two_shards_at_once_then_a_scoring_run_encodes_nothing(
        sharded, tiny_data_root: Path, tiny_results: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    cache, _ = sharded
    code, out, err = cli(capsys, "run", *_settings(tiny_data_root, tmp_path, cache))
    assert code == 0, err
    assert "evaluated 4, already done 0, texts encoded 0" in out
    for task in TINY_TASKS:
        ours = read_task_result(minilm_folder(tmp_path) / f"{task}.json")
        assert_same_scores(ours, read_task_result(tiny_results / f"{task}.json"))


def _tiny_task_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path / "configs",
                {"tasks/tiny.yaml": f"name: tiny\nnames: [{','.join(TINY_TASKS)}]\n"})
    monkeypatch.setenv("HARNESS_CONFIG_PATH", str(tmp_path / "configs"))


def _cached(capsys: pytest.CaptureFixture[str], out: Path, cache: Path,
            data_root: Path) -> dict[str, tuple[int, int]]:
    """Task -> (inputs, cached), from the coverage table of ``harness status --cache-dir``."""
    code, text, err = cli(capsys, "status", str(out), "--tasks", "tiny", "--model", "minilm",
                          "--cache-dir", str(cache), "--data-root", str(data_root))
    assert code == 0, err
    rows = [line.split("|")[1:-1] for line in text.split("inputs cached in")[1].splitlines()
            if line.startswith("| ") and not line.startswith("| Task")]
    return {cells[0].strip(): (int(cells[1]), int(cells[2])) for cells in rows}


def test_killed_shard_rerun_encodes_only_the_rest_and_status_counts_it(
        sharded, tiny_data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, files = sharded
    expected = len(_keys_of(files[0]))  # what job 0 of the sweep stored
    forward, batches = HarnessEncoder._forward, []

    def killed_after_three_batches(self, texts, positions):
        if len(batches) == 3:
            raise KeyboardInterrupt
        batches.append(len(texts))
        return forward(self, texts, positions)

    cache, out = tmp_path / "cache", tmp_path / "out"
    settings = _settings(tiny_data_root, out, cache, "encode_shard=0/2")
    monkeypatch.setattr(HarnessEncoder, "_forward", killed_after_three_batches)
    with pytest.raises(KeyboardInterrupt):
        run(settings)
    assert _entries(cache) == sum(batches) == 12
    _tiny_task_list(tmp_path, monkeypatch)
    killed = _cached(capsys, out, cache, tiny_data_root)
    assert sorted(killed) == sorted(TINY_TASKS)
    assert 12 <= sum(cached for _, cached in killed.values()) < expected

    monkeypatch.setattr(HarnessEncoder, "_forward", forward)
    code, text, err = cli(capsys, "encode", *settings)
    assert code == 0, err
    assert f"texts encoded {expected - 12}, already cached 12" in text
    assert _entries(cache) == expected
    code, text, err = cli(capsys, "encode", *settings)
    assert f"texts encoded 0, already cached {expected}" in text
    half = _cached(capsys, out, cache, tiny_data_root)
    assert cli(capsys, "encode", *settings[:-1], "encode_shard=1/2")[0] == 0
    full = _cached(capsys, out, cache, tiny_data_root)
    assert all(inputs == cached for inputs, cached in full.values())
    assert all(0 < half[t][1] < full[t][1] for t in TINY_TASKS)  # shard 0 holds about half


def test_an_encode_job_covers_every_task_type(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """mteb's mock tasks of the types the tiny tasks lack (bitext mining, clustering, pair
    classification, reranking, summarization, multilingual STS): after an encode job, their
    scoring run encodes nothing."""
    from test_equivalence_tiny import MOCK_TASKS

    import harness.tasks

    registered = harness.tasks.mteb_task
    monkeypatch.setattr(harness.tasks, "mteb_task",
                        lambda name: MOCK_TASKS[name]() if name in MOCK_TASKS else registered(name))
    settings = [f"tasks.names=[{','.join(MOCK_TASKS)}]", f"output_dir={tmp_path / 'out'}",
                f"cache_dir={tmp_path / 'cache'}", "show_progress=false"]
    stored = encode(settings)
    assert stored.texts_encoded > 0 and len(stored.encoded_tasks) == len(MOCK_TASKS)
    scored = run(settings)
    assert scored.texts_encoded == 0 and len(scored.evaluated) == len(MOCK_TASKS)


@pytest.mark.parametrize("command", [["encode"], ["run", "encode_only=true"]])
def test_encode_shard_sweep_composes_for_the_launchers(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *command, "-m", "encode_shard=0/2,1/2", "hydra/launcher=local",
                         "tasks=mteb_eng_v1", "cache_dir=/shared/cache", "--cfg", "job")
    assert code == 0, err
    assert out.count("encode_only: true") == 2
    assert "encode_shard: 0/2" in out and "encode_shard: 1/2" in out


@pytest.mark.parametrize(("override", "names"), [
    ("encode_shard=2/2", ["encode_shard", "i/n"]),
    ("encode_shard=x", ["encode_shard=0/3"]),
    ("cache_dir=null", ["cache_dir", "null"]),
])
def test_bad_encode_settings_fail_in_one_line(override: str, names: list[str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "encode", "tasks=quick", f"output_dir={tmp_path}", override)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert all(name in lines[0] for name in names)
    assert not any(tmp_path.iterdir())
