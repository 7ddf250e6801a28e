"""Offline task data on small releases written in code: the importers, the mirror layout and
mteb loading (tests/integration/test_data_import.py checks the same on the real releases)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import mteb
import pytest
from support import write_files
from tiny_tasks import CATEGORIES, TINY_TASKS, write_tiny_sources

from harness._compat import EagerColumnDataset
from harness.data import (
    data_status,
    import_dataset,
    local_dataset_dir,
    missing_data_error,
    use_local_data,
)
from harness.data.importers import writer
from harness.data.mirror import load_task_data
from harness.errors import HarnessError


def loaded(name: str, root: Path) -> mteb.AbsTask:
    task = mteb.get_task(name)
    assert use_local_data(task, root)
    task.load_data()
    return task


# --- the tiny mirror (tests/unit/conftest.py imports it once) ----------------------------------


def test_folder_of_folders_detects_each_dataset(tmp_path: Path) -> None:
    src = write_tiny_sources(tmp_path / "src")
    write_files(src / "notes", {"readme.txt": "not a dataset"})
    summaries = import_dataset(src, tmp_path / "out")
    imported = {s.task: s for s in summaries if s.task}
    assert sorted(imported) == sorted(TINY_TASKS)
    assert [s.source.name for s in summaries if s.task is None] == ["notes"]
    assert imported["STSBenchmark"].rows == {"train": 6, "validation": 6, "test": 30}
    assert imported["SciFact"].rows == {"corpus": 24, "queries": 8, "qrels/test": 16}
    assert imported["SciFact"].folder == (tmp_path / "out" / "mteb" / "scifact").resolve()
    assert not [p for p in (tmp_path / "out" / "mteb").iterdir() if p.name.startswith(".")]


STS_COLUMNS = {
    "STSBenchmark": {"split", "genre", "dataset", "year", "sid", "score", "sentence1",
                     "sentence2"},
    "BIOSSES": {"sentence1", "sentence2", "score"},
}


@pytest.mark.parametrize("name", sorted(STS_COLUMNS))
def test_sts_tasks_load_with_hub_schema(tiny_data_root: Path, name: str) -> None:
    task = loaded(name, tiny_data_root)
    for ds in task.dataset.values():
        assert set(ds.column_names) == STS_COLUMNS[name]
    scores = task.dataset["test"]["score"]
    assert task.min_score <= min(scores) <= max(scores) <= task.max_score


def test_retrieval_task_loads_corpus_queries_and_qrels(tiny_data_root: Path) -> None:
    split = loaded("SciFact", tiny_data_root).dataset["default"]["test"]
    assert set(split["corpus"].column_names) == {"id", "title", "text"}
    assert len(split["corpus"]) == 24 and len(split["queries"]) == 8
    assert split["relevant_docs"]["q3"] == {"d3": 2, "d11": 1}


def test_classification_labels_are_encoded_like_the_hub(tiny_data_root: Path) -> None:
    """Label ids are the case-insensitively sorted category names' indices (the hub's
    ClassLabel order), not the order of categories.json."""
    task = loaded("Banking77Classification", tiny_data_root)
    test = task.dataset["test"]
    assert set(test.column_names) == {"text", "label", "label_text"}
    names = sorted(CATEGORIES, key=str.casefold)
    assert names != list(CATEGORIES)  # the file's order differs from the hub's
    assert {names[label] for label in test["label"]} == set(CATEGORIES)
    assert all(names[label] == text
               for label, text in zip(test["label"], test["label_text"], strict=True))


def test_harness_loads_columns_as_lists_with_the_same_values(tiny_data_root: Path) -> None:
    """datasets' lazy Column is swapped for a list (mteb's classification indexes it per row)."""
    task = mteb.get_task("Banking77Classification")
    assert load_task_data(task, str(tiny_data_root)).source == "local"
    train = task.dataset["train"]
    assert isinstance(train, EagerColumnDataset)
    labels = train["label"]
    assert isinstance(labels, list) and len(labels) == 24
    assert labels == list(datasets.Dataset.__getitem__(train, "label"))
    assert train[5] == datasets.Dataset.__getitem__(train, 5)


def test_the_rows_loaded_are_those_of_this_root_as_last_imported(tmp_path: Path) -> None:
    """datasets caches a local folder by its name and card only: the harness must not be served
    another data root's rows, nor the rows of an earlier import of the same folder."""
    from tiny_tasks import write_biosses

    def rows(root: Path) -> int:
        task = mteb.get_task("BIOSSES")
        assert load_task_data(task, str(root)).source == "local"
        return task.dataset["test"].num_rows

    import_dataset(write_biosses(tmp_path / "twenty", 20), tmp_path / "one")
    import_dataset(write_biosses(tmp_path / "five", 5), tmp_path / "two")
    assert (rows(tmp_path / "one"), rows(tmp_path / "two")) == (20, 5)
    import_dataset(write_biosses(tmp_path / "seven", 7), tmp_path / "one")
    assert rows(tmp_path / "one") == 7


def test_use_local_data_does_not_leak_into_other_instances(tiny_data_root: Path) -> None:
    task = mteb.get_task("BIOSSES")
    assert use_local_data(task, tiny_data_root)
    assert task.metadata.dataset["path"] == str((tiny_data_root / "mteb" / "biosses-sts")
                                                .resolve())
    assert mteb.get_task("BIOSSES").metadata.dataset["path"] == "mteb/biosses-sts"


def test_shared_hub_repo_at_another_revision_is_refused(tiny_data_root: Path) -> None:
    task = mteb.get_task("Banking77Classification.v2")
    with pytest.raises(HarnessError, match="imported for Banking77Classification "):
        use_local_data(task, tiny_data_root)
    assert data_status("Banking77Classification.v2", tiny_data_root).startswith(
        "other revision")


def test_data_status(tiny_data_root: Path) -> None:
    assert data_status("BIOSSES", tiny_data_root) == "local"
    assert data_status("STS14", tiny_data_root) == "importable"
    assert data_status("STS17", tiny_data_root) == "importable"  # the generic sts format
    assert data_status("TwentyNewsgroupsClustering", tiny_data_root) == "hub only"
    assert data_status("STS12", None) == "importable"
    with pytest.raises(HarnessError, match="unknown task 'STS1'"):
        data_status("STS1", tiny_data_root)


# --- errors and the mirror layout ----------------------------------------------------------------


def test_missing_data_root_is_one_line_error(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(HarnessError, match=f"data root {missing} does not exist"):
        use_local_data(mteb.get_task("STS12"), missing)
    with pytest.raises(HarnessError, match="does not exist"):
        data_status("STS12", missing)


def test_use_local_data_without_folder_returns_false(tmp_path):
    task = mteb.get_task("STS12")
    assert not use_local_data(task, tmp_path)
    assert local_dataset_dir(task, tmp_path) == tmp_path / "mteb" / "sts12-sts"
    assert task.metadata.dataset["path"] == "mteb/sts12-sts"


def test_missing_data_error_names_folder_and_import_command(tmp_path):
    cause = ConnectionError("hub unreachable\nsecond line")
    message = str(missing_data_error(mteb.get_task("STS12"), tmp_path, cause))
    assert "\n" not in message
    assert "STS12" in message and str(tmp_path / "mteb" / "sts12-sts") in message
    assert f"harness data import SRC --out {tmp_path} --task STS12" in message
    assert "ConnectionError: hub unreachable second line" in message
    other = str(missing_data_error(mteb.get_task("TwentyNewsgroupsClustering"), None))
    assert "snapshot_download" in other and "DATA_ROOT/mteb/twentynewsgroups-clustering" in other


def test_missing_data_error_for_a_local_folder_that_fails_to_load(tmp_path):
    write_files(tmp_path / "mteb" / "biosses-sts", {"README.md": "---\nbroken: [\n"})
    task = mteb.get_task("BIOSSES")
    assert use_local_data(task, tmp_path)
    message = str(missing_data_error(task, tmp_path, ValueError("bad card")))
    assert message.startswith(f"could not load task BIOSSES from {tmp_path / 'mteb/biosses-sts'}")
    assert message.endswith(f"harness data import SRC --out {tmp_path} --task BIOSSES")


# --- importers on small synthetic releases ---------------------------------------------------

STSB_LINE = "main-captions\tMSRvid\t2012test\t0001\t{score}\tA man.\tA person.\n"
BIOSSES_TSV = "id\tsentence1\tsentence2\tscore_mean\n1\tA b.\tC d.\t2.0\n2\tE f.\tG h.\t4.0\n"


def test_semeval_skips_unscored_pairs_and_loads(tmp_path):
    src = write_files(
        tmp_path / "sts16",
        {
            "STS2016.input.answer-answer.txt": "a\tb\nc\td\ne\tf\tsource-a\tsource-b\n",
            "STS2016.gs.answer-answer.txt": "1\n\n4.5\n",
        },
    )
    (summary,) = import_dataset(src, tmp_path / "out")
    assert (summary.task, summary.rows, summary.skipped_rows) == ("STS16", {"test": 2}, 1)
    assert str(summary).startswith("STS16 -> ") and "skipped 1 rows" in str(summary)
    task = loaded("STS16", tmp_path / "out")
    assert task.dataset["test"]["score"] == [1.0, 4.5]
    assert task.dataset["test"]["sentence1"] == ["a", "e"]


@pytest.mark.parametrize(
    ("task", "files", "error"),
    [
        (
            "STS12",
            {"STS.input.MSRpar.txt": "a\tb\nc\td\n", "STS.gs.MSRpar.txt": "4.0\nhigh\n"},
            r"STS\.gs\.MSRpar\.txt:2: score 'high' is not a number",
        ),
        (
            "STS12",
            {"STS.input.MSRpar.txt": "a\tb\nc d\n", "STS.gs.MSRpar.txt": "4.0\n3\n"},
            r"STS\.input\.MSRpar\.txt:2: expected 2 tab-separated sentences",
        ),
        (
            "STS12",
            {"STS.input.MSRpar.txt": "a\tb\nc\td\n", "STS.gs.MSRpar.txt": "4.0\n"},
            r"STS\.gs\.MSRpar\.txt: has 1 lines but STS\.input\.MSRpar\.txt has 2",
        ),
        (
            "STS12",
            {"STS.input.FNWN.txt": "a\tb\n", "STS.gs.FNWN.txt": "4.0\n"},
            r"subset\(s\) FNWN are not part of STS12",
        ),
        (
            "STSBenchmark",
            {"sts-test.csv": STSB_LINE.format(score=1) + "main\tMSRvid\t2012\t0002\t2.0\n"},
            r"sts-test\.csv:2: expected at least 7 tab-separated columns .* found 5",
        ),
        (
            "STSBenchmark",
            {"sts-test.csv": STSB_LINE.format(score=7.5)},
            r"sts-test\.csv:1: score '7\.5' is outside 0\.\.5",
        ),
        (
            "STSBenchmark",
            {"sts-test.csv": STSB_LINE.format(score=1).encode() + b"caf\xe9\n"},
            r"sts-test\.csv:2: not valid UTF-8",
        ),
        ("STSBenchmark", {"sts-test.csv": ""}, r"sts-test\.csv: file is empty"),
        (
            "BIOSSES",
            {"biosses.tsv": BIOSSES_TSV + "3\tonly two\tcolumns\n"},
            r"biosses\.tsv:4: expected 4 tab-separated columns, found 3",
        ),
        (
            "SciFact",
            {
                "corpus.jsonl": '{"_id": "d1", "title": "", "text": "x"}\n',
                "queries.jsonl": '{"_id": "q1", "text": "y"}\n',
                "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td9\t1\n",
            },
            r"qrels/test\.tsv:3: corpus-id 'd9' is not in the corpus",
        ),
        (
            "SciFact",
            {
                "corpus-part00.jsonl": '{"_id": "d1", "text": "x"}\n',
                "corpus-part01.jsonl": '{"_id": "d2", "text": "x"}\n{"_id": "d1", "text": "z"}\n',
                "queries.jsonl": '{"_id": "q1", "text": "y"}\n',
                "qrels/test.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\n",
            },
            r"corpus-part01\.jsonl:2: duplicate _id 'd1' \(first at corpus-part00\.jsonl:1\)",
        ),
        (
            "Banking77Classification",
            {
                "categories.json": '["card_arrival", "age_limit"]',
                "train.csv": 'text,category\nhello,age_limit\n"where, now",nope\n',
                "test.csv": "text,category\nhi,card_arrival\n",
            },
            r"train\.csv:3: category 'nope' is not in categories\.json",
        ),
    ],
)
def test_malformed_sources_name_file_and_line(tmp_path, task, files, error):
    src = write_files(tmp_path / "src", files)
    with pytest.raises(HarnessError, match=error):
        import_dataset(src, tmp_path / "out", task)
    assert not (tmp_path / "out" / "mteb").exists()


def test_unknown_task_and_unrecognised_folders(tmp_path):
    src = write_files(tmp_path / "src", {"notes/readme.txt": "hello"})
    with pytest.raises(HarnessError, match="unknown importable task 'STS99'"):
        import_dataset(src, tmp_path / "out", "STS99")
    with pytest.raises(HarnessError, match="no importable dataset folder"):
        import_dataset(src, tmp_path / "out")


def test_subset_shared_by_several_years_needs_task(tmp_path):
    src = write_files(
        tmp_path / "sts",
        {"STS.input.headlines.txt": "a\tb\n", "STS.gs.headlines.txt": "3\n"},
    )
    with pytest.raises(HarnessError, match="ambiguous: could be STS13, STS14, STS15, STS16"):
        import_dataset(src, tmp_path / "out")
    (summary,) = import_dataset(src, tmp_path / "out", "STS14")
    assert summary.folder == (tmp_path / "out" / "mteb" / "sts14-sts").resolve()


def test_generic_layout_needs_a_telling_folder_name(tmp_path):
    files = {
        "categories.json": '["a"]',
        "train.csv": "text,category\nx,a\n",
        "test.csv": "text,category\ny,a\n",
    }
    write_files(tmp_path / "src" / "intents", files)
    write_files(tmp_path / "src" / "banking77", files)
    summaries = import_dataset(tmp_path / "src", tmp_path / "out")
    assert [(s.source.name, s.task) for s in summaries] == [
        ("banking77", "Banking77Classification"),
        ("intents", None),
    ]
    assert "folder name" in summaries[1].notes[0]


def test_reimport_replaces_and_failed_write_keeps_old_folder(tmp_path, monkeypatch):
    src = write_files(tmp_path / "biosses", {"biosses.tsv": BIOSSES_TSV})
    out = tmp_path / "out"
    (summary,) = import_dataset(src, out)
    marker = json.loads((summary.folder / ".harness-import.json").read_text())
    assert marker["task"] == "BIOSSES" and marker["rows"] == {"test": 2}
    write_files(src, {"biosses.tsv": BIOSSES_TSV + "3\tI j.\tK l.\t1.0\n"})

    def broken(staging: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_swap_in", broken)
    with pytest.raises(OSError, match="disk full"):
        import_dataset(src, out)
    assert json.loads((summary.folder / ".harness-import.json").read_text()) == marker
    assert sorted(p.name for p in summary.folder.parent.iterdir()) == ["biosses-sts"]
    monkeypatch.undo()
    (again,) = import_dataset(src, out)
    assert again.rows == {"test": 3}


def test_refuses_symlink_escape_out_of_out(tmp_path):
    src = write_files(tmp_path / "biosses", {"biosses.tsv": BIOSSES_TSV})
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / "mteb").symlink_to(outside, target_is_directory=True)
    with pytest.raises(HarnessError, match="outside --out"):
        import_dataset(src, out)
    assert not any(outside.iterdir())


def test_refuses_dotdot_escape_out_of_out(tmp_path, monkeypatch):
    src = write_files(tmp_path / "biosses", {"biosses.tsv": BIOSSES_TSV})
    metadata = type(mteb.get_task("BIOSSES")).metadata
    monkeypatch.setitem(metadata.dataset, "path", "../escaped")
    with pytest.raises(HarnessError, match="outside --out"):
        import_dataset(src, tmp_path / "out")
    assert not (tmp_path / "escaped").exists()
