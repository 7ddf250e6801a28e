"""Data fingerprints: a score is always the score of the rows in the data_root it names.

The tiny BIOSSES of tests/tiny_tasks.py, imported twice: as released and with its gold scores
reversed (``4 - score_mean``). Spearman's rho of reversed ranks is exactly the negated rho, so
the second run must score the negated first score; the texts are the same, so the warm cache of
the tiny tasks serves every vector (no weights load).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import mteb
import pytest
from support import cli, minilm_folder, run_settings, write_files
from tiny_tasks import write_biosses

from harness.data.fingerprint import CHECKSUMS_NAME, file_digests, fingerprint, folder_fingerprint
from harness.data.importers import import_dataset
from harness.data.mirror import data_identity, load_task_data
from harness.errors import DataError
from harness.results import read_manifest, read_task_result

BIOSSES_DIR = Path("mteb") / "biosses-sts"


def reversed_biosses(src: Path) -> Path:
    """A copy of the tiny biosses.tsv whose scores are ``4 - score_mean``."""
    lines = (write_biosses(src / "released") / "biosses.tsv").read_text().splitlines()
    rows = [line.split("\t") for line in lines[1:]]
    flipped = [[*row[:3], f"{4 - float(row[3]):.2f}"] for row in rows]
    return write_files(src / "reversed", {"biosses.tsv": "\n".join(
        [lines[0], *("\t".join(row) for row in flipped)]) + "\n"})


def _score(out: Path) -> float:
    return read_task_result(minilm_folder(out) / "BIOSSES.json").get_score()


def test_reversed_scores_give_the_negated_spearman(tiny_data_root: Path, tiny_cache: Path,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance 1 on the tiny BIOSSES: the second mirror's rows are scored, not the rows
    datasets cached for the first, in the same process and datasets cache."""
    import_dataset(reversed_biosses(tmp_path / "src"), tmp_path / "reversed_root")
    scores = {}
    for name, root in (("released", tiny_data_root), ("reversed", tmp_path / "reversed_root")):
        code, out, err = cli(capsys, "run", "tasks.names=[BIOSSES]",
                             *run_settings(root, tmp_path / name, tiny_cache))
        assert code == 0, err
        assert "texts encoded 0" in out
        scores[name] = _score(tmp_path / name)
    assert 0.3 < scores["released"] < 1
    assert scores["reversed"] == pytest.approx(-scores["released"], abs=1e-6)
    manifests = {name: read_manifest(minilm_folder(tmp_path / name))["tasks"]["BIOSSES"]
                 for name in scores}
    revision = mteb.get_task("BIOSSES").metadata.dataset["revision"]
    for entry in manifests.values():
        assert entry["data"] == "local" and entry["dataset_revision"] == revision
    assert manifests["released"]["data_fingerprint"] == folder_fingerprint(
        tiny_data_root / BIOSSES_DIR)
    assert manifests["released"]["data_fingerprint"] != manifests["reversed"]["data_fingerprint"]


def test_fingerprint_is_the_content_wherever_the_folder_is(tmp_path: Path) -> None:
    """Two imports of the same release into two roots: the same fingerprint (a path or the
    source folder is no part of it); one byte changed at the same size and mtime: another."""
    src = write_biosses(tmp_path / "src")
    for root in ("one", "two"):
        import_dataset(src, tmp_path / root)
    one, two = (tmp_path / root / BIOSSES_DIR for root in ("one", "two"))
    assert folder_fingerprint(one) == folder_fingerprint(two)
    digests = file_digests(one)
    assert set(digests) == {"README.md", "test.jsonl.gz"}  # no hidden marker, no CHECKSUMS.json
    assert fingerprint(digests) == folder_fingerprint(one)
    card = one / "README.md"
    stat = card.stat()
    text = card.read_bytes()
    card.write_bytes(text.replace(b"mirror", b"mirrOr", 1))
    os.utime(card, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert card.stat().st_size == stat.st_size and card.stat().st_mtime_ns == stat.st_mtime_ns
    assert fingerprint(file_digests(one)) != fingerprint(digests)


def test_import_writes_checksums_of_every_data_file(tmp_path: Path) -> None:
    import_dataset(write_biosses(tmp_path / "src"), tmp_path / "root")
    folder = tmp_path / "root" / BIOSSES_DIR
    listed = json.loads((folder / CHECKSUMS_NAME).read_text())
    assert listed["algorithm"] == "sha256"
    assert sorted(listed["files"]) == ["README.md", "test.jsonl.gz"]
    for name, entry in listed["files"].items():
        data = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


@pytest.mark.parametrize("damage", ["truncate", "edit", "remove", "add"])
def test_a_mirror_that_no_longer_matches_fails_in_one_line(damage: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """Acceptance 1, second half: a truncated, edited, missing or added file is named, exit 1,
    before any result is written."""
    import_dataset(write_biosses(tmp_path / "src"), tmp_path / "root")
    folder = tmp_path / "root" / BIOSSES_DIR
    data = folder / "test.jsonl.gz"
    named = data
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif damage == "edit":
        raw = bytearray(data.read_bytes())
        raw[-12] ^= 0x01
        data.write_bytes(bytes(raw))
    elif damage == "remove":
        data.unlink()
    else:
        named = write_files(folder, {"extra.jsonl": "{}\n"}) / "extra.jsonl"
    code, out, err = cli(capsys, "run", "tasks.names=[BIOSSES]",
                         *run_settings(tmp_path / "root", tmp_path / "out"))
    assert code == 1 and err.count("\n") == 1, err
    assert str(named) in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataError, match="CHECKSUMS.json"):
        data_identity(mteb.get_task("BIOSSES"), str(tmp_path / "root"))


def test_unreadable_checksums_are_named(tmp_path: Path) -> None:
    import_dataset(write_biosses(tmp_path / "src"), tmp_path / "root")
    (tmp_path / "root" / BIOSSES_DIR / CHECKSUMS_NAME).write_text("{not json")
    with pytest.raises(DataError, match=r"CHECKSUMS\.json is unreadable"):
        data_identity(mteb.get_task("BIOSSES"), str(tmp_path / "root"))


def test_a_hub_snapshot_without_checksums_is_fingerprinted(tmp_path: Path) -> None:
    """A folder without CHECKSUMS.json (a hub snapshot) is not verified, but fingerprinted;
    a task from the hub is identified by its pinned revision."""
    import_dataset(write_biosses(tmp_path / "src"), tmp_path / "root")
    folder = tmp_path / "root" / BIOSSES_DIR
    (folder / CHECKSUMS_NAME).unlink()
    write_files(folder, {".cache/huggingface/download/x.metadata": "hub bookkeeping"})
    task = mteb.get_task("BIOSSES")
    found = load_task_data(task, str(tmp_path / "root"))
    assert found.source == "local" and found.fingerprint == folder_fingerprint(folder)
    assert task.dataset["test"].num_rows == 20
    hub = data_identity(mteb.get_task("BIOSSES"), None)
    assert hub.source == "hub" and hub.fingerprint == f"hub@{hub.dataset_revision}"


def test_hashes_are_remembered_per_file_stamp(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A second look at an unchanged folder reads no data file (the memo of its stamps, on disk
    under the datasets cache); a rewritten file is read again."""
    from harness.data import fingerprint as module

    import_dataset(write_biosses(tmp_path / "src"), tmp_path / "root")
    folder = tmp_path / "root" / BIOSSES_DIR
    first = file_digests(folder)
    monkeypatch.setattr(module, "_MEMO", {})  # a new process: only the disk memo is left
    read: list[Path] = []
    real = module._sha256
    monkeypatch.setattr(module, "_sha256", lambda path: read.append(path) or real(path))
    assert file_digests(folder) == first and read == []
    write_files(folder, {"README.md": (folder / "README.md").read_text() + "\n"})
    assert file_digests(folder)["README.md"] != first["README.md"]
    assert read == [folder / "README.md"]
