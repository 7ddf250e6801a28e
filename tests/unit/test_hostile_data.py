"""Hostile source files for every importer and the long-text builder.

Each bad file gives one HarnessError line naming the file (and the line, when the problem is on
one), exit 2 through the CLI without a traceback; nothing is written outside ``--out``. Property
tests feed random bytes and random rows to every parser: a valid import or such an error, never
another exception. (test_data_import_small.py and test_longtext_small.py hold the basic cases.)
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import mteb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import cli, write_files

from harness.data.importers import import_dataset
from harness.data.importers.writer import safe_join
from harness.errors import HarnessError
from harness.longtext import build_longtext

BIG = "x" * (10 * 2**20)  # a 10 MB line
STSB = "main-captions\tMSRvid\t2012test\t{sid}\t{score}\t{one}\t{two}\n"
BIOSSES_HEADER = "id\tsentence1\tsentence2\tscore_mean\n"
QUERIES = '{"_id": "q1", "text": "what?"}\n'
QRELS = "query-id\tcorpus-id\tscore\n"
SCIFACT_OK = {"corpus.jsonl": '{"_id": "d1", "text": "x"}\n', "queries.jsonl": QUERIES,
              "qrels/test.tsv": QRELS + "q1\td1\t1\n"}
BANKING_OK = {"categories.json": '["a", "b"]', "train.csv": "text,category\nhi,a\n",
              "test.csv": "text,category\nho,b\n"}
MAX_MESSAGE = 400


def stsb(sid: str = "0001", score: object = 1, one: str = "A man.", two: str = "A dog.") -> str:
    return STSB.format(sid=sid, score=score, one=one, two=two)


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert "\n" not in message and len(message) <= MAX_MESSAGE, message[:MAX_MESSAGE]
    return message


# --- each hostile case: one short line naming file and line ------------------------------------

CASES = [
    # (task, files, expected message (regex, after the source folder))
    ("STSBenchmark", {"sts-test.csv": BIG}, r"sts-test\.csv:1: expected at least 7 .* found 1"),
    ("STSBenchmark", {"sts-test.csv": stsb(score=BIG)},
     r"sts-test\.csv:1: score 'x{50,}\.\.\. \(10485760 characters\) is not a number"),
    ("STSBenchmark", {"sts-test.csv": stsb(score="nan")}, r"sts-test\.csv:1: score 'nan' is out"),
    ("STSBenchmark", {"sts-test.csv": stsb(score="-0.5")}, r"sts-test\.csv:1: score '-0\.5' is"),
    ("STSBenchmark", {"sts-test.csv": stsb() + stsb(two="B.")},
     r"sts-test\.csv:2: duplicate pair id \('MSRvid', '2012test', '0001'\) \(line 1\)"),
    ("STSBenchmark", {"sts-test.csv": stsb(one=" ")}, r"sts-test\.csv:1: empty sentence1"),
    ("STSBenchmark", {"sts-test.csv": "\n\n\n"}, r"sts-test\.csv: file is empty"),
    ("STSBenchmark", {"sts-test.csv": stsb() + "\n" + stsb(sid="2")},
     r"sts-test\.csv:2: expected at least 7 tab-separated columns .* found 1"),
    ("BIOSSES", {"biosses.tsv": BIOSSES_HEADER + "1\ta\tb\t2\n1\tc\td\t3\n"},
     r"biosses\.tsv:3: duplicate id '1' \(first at line 2\)"),
    ("BIOSSES", {"biosses.tsv": "id\tsentence1\tsentence1\tsentence2\tscore_mean\n"},
     r"biosses\.tsv:1: header names 'sentence1' more than once"),
    ("BIOSSES", {"biosses.tsv": "id\tsentence1\tscore_mean\n1\ta\t2\n"},
     r"biosses\.tsv:1: header lacks column\(s\) sentence2"),
    ("BIOSSES", {"biosses.tsv": BIOSSES_HEADER + "1\ta\tb\t5.01\n"},
     r"biosses\.tsv:2: score '5\.01' is outside 0\.\.5"),
    ("BIOSSES", {"biosses.tsv": BIOSSES_HEADER + "1\ta\tb\tinf\n"}, r"biosses\.tsv:2: score 'inf'"),
    ("BIOSSES", {"biosses.tsv": BIOSSES_HEADER.encode() + b"1\ta\t\xff\xfe\t2\n"},
     r"biosses\.tsv:2: not valid UTF-8 \(byte 0xff\)"),
    ("BIOSSES", {"biosses.tsv": BIOSSES_HEADER}, r": no rows for test\.jsonl\.gz; nothing"),
    ("STS12", {"STS.input.MSRpar.txt": "a\tb\n", "STS.gs.MSRpar.txt": BIG + "\n"},
     r"STS\.gs\.MSRpar\.txt:1: score 'x+\.\.\. \(10485760 characters\) is not a number"),
    ("STS12", {"STS.input.MSRpar.txt": "a\t\n", "STS.gs.MSRpar.txt": "1\n"},
     r"STS\.input\.MSRpar\.txt:1: empty sentence2"),
    ("STS12", {"STS.input.MSRpar.txt": "a\tb\n", "STS.gs.MSRpar.txt": "NaN\n"},
     r"STS\.gs\.MSRpar\.txt:1: score 'NaN' is outside 0\.\.5"),
    ("STS12", {"STS.input.MSRpar.txt": b"a\tb\nc\xc3\tb\n", "STS.gs.MSRpar.txt": "1\n2\n"},
     r"STS\.input\.MSRpar\.txt:2: not valid UTF-8"),
    ("STS12", {"STS.input.MSRpar.txt": "", "STS.gs.MSRpar.txt": "1\n"},
     r"STS\.input\.MSRpar\.txt: file is empty"),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": "[" * 100_000 + "\n"},
     r"corpus\.jsonl:1: invalid JSON \(nested too deeply\)"),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": '{"_id": ' + "9" * 5000 + ', "text": "x"}\n'},
     r"corpus\.jsonl:1: invalid JSON \(Exceeds the limit"),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": '{"_id": "d1", "text": "\\ud800"}\n'},
     r"corpus\.jsonl:1: \"text\" holds an unpaired surrogate '\\ud800'"),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": '{"_id": "d1", "text": NaN}\n'},
     r"corpus\.jsonl:1: record 'd1' has no \"text\" string"),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": '{"_id": "d1", "text": "x", "title": 1}\n'},
     r"corpus\.jsonl:1: record 'd1' has a non-string \"title\""),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": '{"_id": "", "text": "x"}\n'},
     r"corpus\.jsonl:1: missing or invalid \"_id\""),
    ("SciFact", {**SCIFACT_OK, "corpus.jsonl": '{"_id": "d1", "text": "x"}\n' + BIG + "\n"},
     r"corpus\.jsonl:2: invalid JSON \(Expecting value\)"),
    ("SciFact", {**SCIFACT_OK, "queries.jsonl": QUERIES + QUERIES},
     r"queries\.jsonl:2: duplicate _id 'q1' \(first at queries\.jsonl:1\)"),
    ("SciFact", {**SCIFACT_OK, "queries.jsonl": '{"_id": "q1", "text": " "}\n'},
     r"queries\.jsonl:1: query 'q1' has an empty text"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + "q9\td1\t1\n"},
     r"qrels/test\.tsv:2: query-id 'q9' is not in queries\.jsonl"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + f"q1\t{BIG}\t1\n"},
     r"qrels/test\.tsv:2: corpus-id 'x+\.\.\. \(10485760 characters\) is not in the corpus"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + "q1\td1\t1\nq1\td1\t2\n"},
     r"qrels/test\.tsv:3: duplicate judgement for \('q1', 'd1'\)"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + "q1\td1\t-1\n"},
     r"qrels/test\.tsv:2: score '-1' is not an integer from 0 to 999999999"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + "q1\td1\t1e3\n"},
     r"qrels/test\.tsv:2: score '1e3' is not an integer"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + "q1\td1\t" + "9" * 30 + "\n"},
     r"qrels/test\.tsv:2: score '9+' is not an integer from 0 to 999999999"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS + "q1\td1\n"},
     r"qrels/test\.tsv:2: expected 3 tab-separated columns, found 2"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": "query\tdoc\tscore\nq1\td1\t1\n"},
     r"qrels/test\.tsv:1: expected the header query-id<TAB>corpus-id<TAB>score"),
    ("SciFact", {**SCIFACT_OK, "qrels/test.tsv": QRELS}, r": no rows for qrels/test\.jsonl"),
    ("Banking77Classification", {**BANKING_OK, "categories.json": "[" * 100_000},
     r"categories\.json: invalid JSON \(nested too deeply\)"),
    ("Banking77Classification", {**BANKING_OK, "categories.json": '{"a": 1}'},
     r"categories\.json: expected a JSON list of category names"),
    ("Banking77Classification", {**BANKING_OK, "train.csv": f"text,category\n{BIG},a\n"},
     r"train\.csv:2: malformed CSV \(field larger than field limit"),
    ("Banking77Classification", {**BANKING_OK, "train.csv": f"text,category\nhi,{'c' * 500}\n"},
     r"train\.csv:2: category 'c{50,}\.\.\. \(500 characters\) is not in categories\.json"),
    ("Banking77Classification", {**BANKING_OK, "test.csv": "text,category\nhi,a,extra\n"},
     r"test\.csv:2: expected 2 columns \(text,category\), found 3"),
    ("Banking77Classification", {**BANKING_OK, "test.csv": b"text,category\n\xe9t\xe9,a\n"},
     r"test\.csv:2: not valid UTF-8 \(byte 0xe9\)"),
]


@pytest.mark.parametrize(("task", "files", "error"), CASES)
def test_hostile_file_is_one_line_naming_file_and_line(tmp_path, task, files, error):
    src = write_files(tmp_path / "src", files)
    with pytest.raises(HarnessError) as caught:
        import_dataset(src, tmp_path / "out", task)
    message = one_line(caught.value)
    assert message.startswith(str(src)), message
    assert re.search(error, message), message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json*"))


@pytest.mark.parametrize(
    ("task", "files", "rows"),
    [
        # lines of any length are read: a 10 MB sentence is a sentence
        ("STSBenchmark", {"sts-test.csv": stsb(one=BIG)}, {"test": 1}),
        # quotes and carriage returns inside a field are text (the release has no quoting)
        ("STSBenchmark", {"sts-test.csv": stsb(one='"A "man', two="a\rb")}, {"test": 1}),
        ("STS12", {"STS.input.MSRpar.txt": "\ufeffa\tb\r\n", "STS.gs.MSRpar.txt": "1\r\n"},
         {"test": 1}),
        ("BIOSSES", {"biosses.tsv": "\ufeff" + BIOSSES_HEADER + "1\ta\tb\t0\n"}, {"test": 1}),
    ],
)
def test_unusual_but_valid_files_import(tmp_path, task, files, rows):
    (summary,) = import_dataset(write_files(tmp_path / "src", files), tmp_path / "out", task)
    assert summary.rows == rows


def test_unscored_pairs_are_a_counted_skip(tmp_path):
    src = write_files(tmp_path / "src", {"STS.input.MSRpar.txt": "a\tb\nc\td\ne\tf\n",
                                   "STS.gs.MSRpar.txt": "1\n \n\n"})
    (summary,) = import_dataset(src, tmp_path / "out", "STS12")
    assert (summary.rows, summary.skipped_rows) == ({"test": 1}, 2)
    assert "skipped 2 rows" in str(summary)


def test_unreadable_file_is_one_line(tmp_path):
    src = write_files(tmp_path / "src", {"biosses.tsv": BIOSSES_HEADER + "1\ta\tb\t2\n"})
    (src / "biosses.tsv").chmod(0)
    try:
        if (src / "biosses.tsv").read_bytes():  # root can read it anyway
            pytest.skip("running as root: file permissions are not enforced")
    except PermissionError:
        pass
    with pytest.raises(HarnessError, match=r"biosses\.tsv: cannot read it \(Permission denied\)"):
        import_dataset(src, tmp_path / "out", "BIOSSES")


# --- nothing is written outside --out ----------------------------------------------------------


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/x", "a/../.."])
def test_safe_join_refuses_escapes(tmp_path, relative):
    with pytest.raises(HarnessError, match="outside --out"):
        safe_join(tmp_path, relative)


def test_import_refuses_a_symlinked_dataset_folder(tmp_path):
    src = write_files(tmp_path / "src", {"biosses.tsv": BIOSSES_HEADER + "1\ta\tb\t2\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out" / "mteb").mkdir(parents=True)
    (tmp_path / "out" / "mteb" / "biosses-sts").symlink_to(outside, target_is_directory=True)
    with pytest.raises(HarnessError, match="outside --out"):
        import_dataset(src, tmp_path / "out", "BIOSSES")
    assert not any(outside.iterdir())


def test_out_that_is_a_file_is_one_line(tmp_path):
    src = write_files(tmp_path / "src", {"biosses.tsv": BIOSSES_HEADER + "1\ta\tb\t2\n"})
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(HarnessError, match=r"cannot write into --out .*out: Not a directory"):
        import_dataset(src, tmp_path / "out", "BIOSSES")


def _squad(context: str = "c" * 20, qid: str = "q0", start: int = 1, **qa: object) -> dict:
    answer = {"text": "x", "answer_start": start}
    entry = {"id": qid, "question": "why?", "answers": [answer], **qa}
    return {"data": [{"paragraphs": [{"context": context, "qas": [entry]}]}]}


def test_longtext_refuses_a_symlink_out_of_out(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(_squad()))
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "harness-longtext").symlink_to(outside, target_is_directory=True)
    with pytest.raises(HarnessError, match="outside --out"):
        build_longtext(src, "squad", "x", tmp_path / "out", threshold=1)
    assert not any(outside.iterdir())


def test_longtext_replaces_a_symlinked_output_file_without_writing_through(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(_squad()))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = tmp_path / "out" / "harness-longtext" / "x"
    folder.mkdir(parents=True)
    (folder / "corpus.jsonl").symlink_to(victim)
    build_longtext(src, "squad", "x", tmp_path / "out", threshold=1)
    assert victim.read_text() == "keep me"
    assert not (folder / "corpus.jsonl").is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "corpus.jsonl", "manifest.json", "qrels.jsonl", "queries.jsonl"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", r"malformed s\.json: top level: file is empty"),
        (b'{"data": [\n{"x": "\xff"}]}', r"malformed s\.json: line 2: not UTF-8 text \(byte 0xff"),
        (b"[" * 100_000, r"malformed s\.json: top level: invalid JSON \(nested too deeply\)"),
        (("{" + '"a": 1,' * 10 + "\n" + BIG).encode(), r"malformed s\.json: invalid JSON .*line 2"),
        (json.dumps(_squad(qid=BIG)).encode() + b"", None),
        (json.dumps(_squad(is_impossible=BIG)).encode(),
         r"'is_impossible' must be one of \(True, False\), got 'x+\.\.\. \(10485760 characters\)"),
        (json.dumps(_squad(start=float("nan"))).encode(), r"'answer_start' missing or not a int"),
        (json.dumps(_squad(context="\ud800")).encode(), r"'context' holds an unpaired surrogate"),
        (b'{"data": [{"paragraphs": [{"context": "' + BIG.encode() + b'", "qas": []}]}]}', None),
    ],
    ids=["empty", "not-utf8", "deep", "big-line", "big-id", "big-flag", "nan-start", "surrogate",
         "big-passage"],
)
def test_longtext_hostile_sources(tmp_path, content, error):
    src = tmp_path / "s.json"
    src.write_bytes(content)
    if error is None:  # valid, if odd: a 10 MB id or passage
        data_or_error = _build_or_error(src, tmp_path / "out")
        assert not isinstance(data_or_error, HarnessError) or "nothing to build" in str(
            data_or_error)
        return
    with pytest.raises(HarnessError) as caught:
        build_longtext(src, "squad", "x", tmp_path / "out", threshold=1)
    assert re.search(error, one_line(caught.value)), str(caught.value)[:300]
    assert not (tmp_path / "out").exists()


def _build_or_error(src: Path, out: Path) -> object:
    try:
        return build_longtext(src, "squad", "x", out, threshold=1)
    except HarnessError as exc:
        one_line(exc)
        return exc


# --- through the CLI: exit 2, one line, no traceback --------------------------------------------


@pytest.mark.parametrize(
    ("files", "args", "must_name"),
    [
        ({"sts-test.csv": stsb(score=BIG)}, ["data", "import", "{src}", "--task", "STSBenchmark"],
         "sts-test.csv:1: score"),
        ({"corpus.jsonl": "[" * 100_000 + "\n", "queries.jsonl": QUERIES,
          "qrels/test.tsv": QRELS + "q1\td1\t1\n"},
         ["data", "import", "{src}", "--task", "SciFact"], "corpus.jsonl:1: invalid JSON"),
        ({"biosses.tsv": BIOSSES_HEADER.encode() + b"1\t\xc0\tb\t2\n"},
         ["data", "import", "{src}"], "biosses.tsv:2: not valid UTF-8"),
        ({"s.json": json.dumps(_squad(start=99))},
         ["longtext", "build", "{src}/s.json", "--format", "squad", "--name", "x"],
         "beyond the passage"),
        ({"s.json": "[" * 100_000},
         ["longtext", "build", "{src}/s.json", "--format", "squad", "--name", "x"],
         "nested too deeply"),
    ],
)
def test_cli_hostile_data_exit_2_one_line(tmp_path, capsys, files, args, must_name):
    src = write_files(tmp_path / "src", files)
    out = tmp_path / "out"
    code, _, err = cli(capsys, *[a.format(src=src) for a in args], "--out", str(out))
    assert code == 2, err[-2000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err[-2000:]
    assert lines[0].startswith("harness: error: ") and must_name in lines[0]
    assert len(lines[0]) <= MAX_MESSAGE + 20
    assert not out.exists() or not any(out.rglob("*.json*"))


# --- property tests: random bytes and random rows -----------------------------------------------

TASKS = {name: mteb.get_task(name) for name in
         ("STSBenchmark", "BIOSSES", "STS12", "SciFact", "Banking77Classification")}
PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_cell_text = st.text(alphabet=st.sampled_from(list("ab ,\"'\t\r\\é{}[]:0123456789.-eEnaNiIf_"))
                     | st.characters(codec="utf-8"), max_size=12)
_cell = st.one_of(
    _cell_text,
    st.sampled_from(["", "nan", "inf", "-1", "5", "5.0001", "1e400", "0", "4", "q1", "d1", "a"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
)
_rows = st.lists(st.lists(_cell, min_size=0, max_size=9), max_size=6)


def _tsv(rows: list[list[str]], sep: str = "\t") -> str:
    return "".join(sep.join(row) + "\n" for row in rows)


_content = st.one_of(st.binary(max_size=300), _rows.map(_tsv), _rows.map(lambda r: _tsv(r, ",")))


def _jsonl(records: list[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


_json_value = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.sampled_from(["d1", "q1", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["_id", "text", "title", "x"]), inner, max_size=4),
    max_leaves=8,
)
_jsonl_content = st.one_of(st.binary(max_size=200), st.lists(_json_value, max_size=4).map(_jsonl))

# every task's files, each either valid-looking random rows or random bytes
_FILES = {
    "STSBenchmark": st.fixed_dictionaries({"sts-test.csv": _content}),
    "BIOSSES": st.fixed_dictionaries({"biosses.tsv": st.one_of(
        _content, _rows.map(lambda r: BIOSSES_HEADER + _tsv(r)))}),
    "STS12": st.fixed_dictionaries({"STS.input.MSRpar.txt": _content,
                                    "STS.gs.MSRpar.txt": _content}),
    "SciFact": st.fixed_dictionaries({
        "corpus.jsonl": _jsonl_content, "queries.jsonl": _jsonl_content,
        "qrels/test.tsv": st.one_of(_content, _rows.map(lambda r: QRELS + _tsv(r)))}),
    "Banking77Classification": st.fixed_dictionaries({
        "categories.json": st.one_of(st.binary(max_size=100), st.lists(_json_value).map(
            json.dumps), st.just('["a", "b"]')),
        "train.csv": st.one_of(_content, _rows.map(lambda r: "text,category\n" + _tsv(r, ","))),
        "test.csv": st.one_of(_content, _rows.map(lambda r: "text,category\n" + _tsv(r, ",")))}),
}


def _as_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")


def _import_or_error(task: str, files: dict[str, str | bytes]) -> None:
    """Import random files: a valid import, or one HarnessError line naming the source."""
    with tempfile.TemporaryDirectory() as tmp:
        src = write_files(Path(tmp) / "src", {n: _as_bytes(c) for n, c in files.items()})
        try:
            (summary,) = import_dataset(src, Path(tmp) / "out", task)
        except HarnessError as exc:
            message = one_line(exc)
            assert message.startswith(str(src)), message
            located = re.match(rf"{re.escape(str(src))}(/[^:]+)?(:\d+)?: ", message)
            assert located, message
        else:
            assert summary.task == task and all(summary.rows.values())
        assert sorted(p.name for p in Path(tmp).iterdir()) in (["src"], ["out", "src"])


@pytest.mark.parametrize("task", sorted(_FILES))
def test_random_files_parse_or_fail_cleanly(task):
    @PROPERTY
    @given(files=_FILES[task])
    def check(files: dict[str, str | bytes]) -> None:
        _import_or_error(task, files)

    check()


_qa = st.fixed_dictionaries({"id": _json_value | st.text(max_size=3),
                             "question": _json_value | st.text(max_size=3),
                             "answers": st.lists(st.fixed_dictionaries({
                                 "text": _json_value | st.just("x"),
                                 "answer_start": _json_value | st.integers(-2, 30)}), max_size=2)},
                            optional={"is_impossible": _json_value | st.just("false")})
_squad_doc = st.fixed_dictionaries({"data": st.lists(st.fixed_dictionaries({"paragraphs": st.lists(
    st.fixed_dictionaries({"context": st.text(max_size=30) | _json_value,
                           "qas": st.lists(_qa, max_size=3) | _json_value}), max_size=3)}),
    max_size=2)})


@PROPERTY
@given(doc=st.one_of(_squad_doc.map(json.dumps), _json_value.map(json.dumps),
                     st.binary(max_size=200)),
       fmt=st.sampled_from(["squad", "cail"]))
def test_random_reading_comprehension_files_build_or_fail_cleanly(doc, fmt):
    from harness.longtext.source import read_source

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rc.json"
        src.write_bytes(_as_bytes(doc))
        try:
            read_source([src], fmt)
        except HarnessError as exc:
            assert re.match(r"(malformed rc\.json: |cannot read )", one_line(exc)), str(exc)
