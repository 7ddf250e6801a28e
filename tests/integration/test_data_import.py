"""Offline task data: importers from the original releases, the mirror layout and mteb loading."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import datasets
import mteb
import pytest
from support import SHARED_DATA, write_files

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

DATA = SHARED_DATA
SIX = {"STSBenchmark", "STS12", "STS13", "BIOSSES", "SciFact", "Banking77Classification"}

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no shared data at {DATA}")


@pytest.fixture(scope="module", autouse=True)
def _hf_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the Arrow files ``datasets`` builds from the mirror out of the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("hf")))
        yield


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """All of the shared data imported once, in folder-of-folders mode."""
    out = tmp_path_factory.mktemp("mirror")
    return out, import_dataset(DATA, out)


def loaded(name: str, root: Path) -> mteb.AbsTask:
    task = mteb.get_task(name)
    assert use_local_data(task, root)
    task.load_data()
    return task


# --- real data -------------------------------------------------------------------------------


@needs_data
def test_folder_of_folders_detects_each_dataset(mirror):
    out, summaries = mirror
    imported = {s.task: s for s in summaries if s.task}
    assert imported.keys() >= SIX
    skipped = {s.source.name for s in summaries if s.task is None}
    assert {"mteb-results", "twittersemeval2015", "squad"} <= skipped
    assert imported["STS12"].rows == {"test": 3108}
    assert any("STS.gs.SMT.txt" in note for note in imported["STS13"].notes)
    assert imported["SciFact"].folder == (out / "mteb" / "scifact").resolve()
    assert not [p for p in (out / "mteb").iterdir() if p.name.startswith(".")]


STS_EXPECTED = {
    "STSBenchmark": (
        {"train": 5749, "validation": 1500, "test": 1379},
        {"split", "genre", "dataset", "year", "sid", "score", "sentence1", "sentence2"},
    ),
    "STS12": ({"test": 3108}, {"split", "sentence1", "sentence2", "score"}),
    "STS13": ({"test": 1500}, {"split", "sentence1", "sentence2", "score"}),
    "BIOSSES": ({"test": 100}, {"sentence1", "sentence2", "score"}),
}
# biosses.tsv's score_mean is derived from the official docx: its mean is 2.198, the hub's 2.196
AVG_SCORE_TOLERANCE = {"BIOSSES": 0.005}


@needs_data
@pytest.mark.parametrize("name", sorted(STS_EXPECTED))
def test_sts_tasks_load_with_hub_schema_and_stats(mirror, name):
    out, _ = mirror
    splits, columns = STS_EXPECTED[name]
    task = loaded(name, out)
    assert {split: ds.num_rows for split, ds in task.dataset.items()} == splits
    for ds in task.dataset.values():
        assert set(ds.column_names) == columns
    test = task.dataset["test"]
    stats = task.metadata.descriptive_stats["test"]
    scores = test["score"]
    assert test.num_rows == stats["num_samples"]
    assert min(scores) == stats["label_statistics"]["min_score"]
    assert max(scores) == stats["label_statistics"]["max_score"]
    assert sum(scores) / len(scores) == pytest.approx(
        stats["label_statistics"]["avg_score"], abs=AVG_SCORE_TOLERANCE.get(name, 1e-9)
    )
    assert task.min_score <= min(scores) <= max(scores) <= task.max_score


@needs_data
def test_stsbenchmark_texts_match_hub_exactly(mirror):
    test = loaded("STSBenchmark", mirror[0]).dataset["test"]
    stats = mteb.get_task("STSBenchmark").metadata.descriptive_stats["test"]
    pairs = list(zip(test["sentence1"], test["sentence2"], strict=True))
    assert sum(len(a) + len(b) for a, b in pairs) == stats["number_of_characters"]
    assert len(set(pairs)) == stats["unique_pairs"]


@needs_data
def test_scifact_loads_corpus_queries_and_qrels(mirror):
    task = loaded("SciFact", mirror[0])
    split = task.dataset["default"]["test"]
    stats = task.metadata.descriptive_stats["test"]
    relevant = split["relevant_docs"]
    per_query = [len(docs) for docs in relevant.values()]
    rel_stats = stats["relevant_docs_statistics"]
    assert set(split["corpus"].column_names) == {"id", "title", "text"}
    assert len(split["corpus"]) == stats["num_documents"] == 5183
    assert len(split["queries"]) == stats["num_queries"] == 300
    assert sum(per_query) == rel_stats["num_relevant_docs"] == 339
    assert min(per_query) == rel_stats["min_relevant_docs_per_query"]
    assert max(per_query) == rel_stats["max_relevant_docs_per_query"]
    assert len({d for docs in relevant.values() for d in docs}) == rel_stats["unique_relevant_docs"]
    query_chars = sum(len(text) for text in split["queries"]["text"])
    assert query_chars == stats["queries_text_statistics"]["total_text_length"]


@needs_data
def test_banking77_labels_are_encoded_like_the_hub(mirror):
    task = loaded("Banking77Classification", mirror[0])
    assert {split: ds.num_rows for split, ds in task.dataset.items()} == {
        "train": 10003,
        "test": 3080,
    }
    for split, ds in task.dataset.items():
        stats = task.metadata.descriptive_stats[split]
        assert set(ds.column_names) == {"text", "label", "label_text"}
        assert ds.num_rows == stats["num_samples"]
        assert sum(map(len, ds["text"])) == stats["text_statistics"]["total_text_length"]
        label_stats = stats["label_statistics"]
        assert len(set(ds["label"])) == label_stats["unique_labels"] == 77
        counts = {str(label): {"count": n} for label, n in Counter(ds["label"]).items()}
        assert counts == label_stats["labels"]
    assert task.dataset["test"][0]["label_text"] == "card_arrival"
    assert task.dataset["test"][0]["label"] == 11


@needs_data
def test_harness_loads_columns_as_lists_with_the_same_values(mirror):
    """datasets' lazy Column is swapped for a list (mteb's classification indexes it per row)."""
    task = mteb.get_task("Banking77Classification")
    assert load_task_data(task, str(mirror[0])) == "local"
    train = task.dataset["train"]
    assert isinstance(train, EagerColumnDataset)
    labels = train["label"]
    assert isinstance(labels, list) and len(labels) == 10003
    assert labels == list(datasets.Dataset.__getitem__(train, "label"))
    assert train[5] == datasets.Dataset.__getitem__(train, 5)


# --- mirror behaviour ------------------------------------------------------------------------


@needs_data
def test_use_local_data_does_not_leak_into_other_instances(mirror):
    task = mteb.get_task("STS12")
    assert use_local_data(task, mirror[0])
    assert task.metadata.dataset["path"] == str((mirror[0] / "mteb" / "sts12-sts").resolve())
    assert mteb.get_task("STS12").metadata.dataset["path"] == "mteb/sts12-sts"


@needs_data
def test_shared_hub_repo_at_another_revision_is_refused(mirror):
    task = mteb.get_task("Banking77Classification.v2")
    with pytest.raises(HarnessError, match="imported for Banking77Classification "):
        use_local_data(task, mirror[0])
    assert data_status("Banking77Classification.v2", mirror[0]).startswith("other revision")


@needs_data
def test_data_status(mirror):
    assert data_status("STS12", mirror[0]) == "local"
    assert data_status("STS14", mirror[0]) == "importable"
    assert data_status("STS17", mirror[0]) == "importable"  # the generic sts format
    assert data_status("TwentyNewsgroupsClustering", mirror[0]) == "hub only"
    assert data_status("STS12", None) == "importable"
    with pytest.raises(HarnessError, match="unknown task 'STS1'"):
        data_status("STS1", mirror[0])


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
