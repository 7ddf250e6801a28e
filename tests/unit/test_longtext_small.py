"""Long-text suite on small SQuAD- and CAIL-format files written in code: deterministic builds,
sampling rules, mteb loading, ``harness run`` + the long-text table equal to plain mteb, and
input validation (tests/integration/ builds the real sets from ../shared/data)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support import (
    MINILM,
    MINILM_REVISION,
    assert_longtext_build_rules,
    assert_longtext_table,
    assert_same_scores,
    cli,
    plain_mteb_result,
    read_jsonl,
    run_settings,
)
from tiny_tasks import write_longtext_sources

from harness.config import package_config_dir
from harness.errors import HarnessError
from harness.longtext import (
    LONGTEXT_SETS,
    build_longtext,
    build_set,
    is_longtext_task,
    longtext_dir,
    longtext_task,
)
from harness.longtext.positions import answer_positions, load_default_tokenizer
from harness.longtext.source import read_source
from harness.results import load_scores, read_task_result, run_folder

SMALL_SETS = ["LongTextCAIL2019Dev", "LongTextSQuADDev"]  # tiny_tasks' sources, registry order
OUTPUTS = ["README.md", "corpus.jsonl", "manifest.json", "qrels.jsonl", "queries.jsonl"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_longtext_sources(tmp_path_factory.mktemp("longtext_sources"))


@pytest.mark.parametrize("name", SMALL_SETS)
def test_build_is_deterministic_and_honours_rules(name: str, sources: Path,
                                                  tmp_path: Path) -> None:
    assert_longtext_build_rules(name, sources, tmp_path)


def test_cail_drops_unanswerable_and_yes_no(sources: Path, tmp_path: Path) -> None:
    manifest = build_set("LongTextCAIL2019Dev", sources, tmp_path)
    assert (manifest.dropped_unanswerable, manifest.dropped_no_span) == (1, 1)


def test_seed_changes_only_the_short_sample(sources: Path, tmp_path: Path) -> None:
    name = "LongTextSQuADDev"
    base = build_set(name, sources, tmp_path / "a", seed=0)
    other = build_set(name, sources, tmp_path / "b", seed=1)
    assert base.checksum != other.checksum
    queries = [{q["_id"] for q in read_jsonl(longtext_dir(tmp_path / d, name) / "queries.jsonl")}
               for d in "ab"]
    assert queries[0] != queries[1]
    assert len(queries[0]) == len(queries[1]) == base.long_kept + base.short_kept
    corpus = [(longtext_dir(tmp_path / d, name) / "corpus.jsonl").read_bytes() for d in "ab"]
    assert corpus[0] == corpus[1]


@pytest.fixture(scope="module")
def longtext_run(sources: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Both small sets built with the API of ``harness longtext build``; the CAIL one run."""
    from harness.api import build_longtext_sets, run

    data_root = tmp_path_factory.mktemp("longtext_data")
    assert [m.name for m in build_longtext_sets(sources, data_root)] == SMALL_SETS
    out = tmp_path_factory.mktemp("longtext_results")
    run(["tasks.names=[LongTextCAIL2019Dev]", *run_settings(data_root, out)])
    return data_root, out


def test_cli_builds_every_set_whose_sources_are_there(sources: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "longtext", "build", str(sources), "--out", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == SMALL_SETS
    assert "LongTextSQuADDev: 8 long + 4 short queries (answer at char >= 512), corpus 32 " \
           "passages" in lines[1]
    code, _, err = cli(capsys, "longtext", "build", str(sources), "--out", str(tmp_path),
                       "--short-long-ratio", "2")
    assert code == 2 and "--short-long-ratio must look like 1:2, got '2'" in err


def test_recall_at_5_equals_plain_mteb(longtext_run: tuple[Path, Path], minilm) -> None:
    data_root, out = longtext_run
    ours = read_task_result(run_folder(out, MINILM, MINILM_REVISION) / "LongTextCAIL2019Dev.json")
    reference = plain_mteb_result(minilm, longtext_task("LongTextCAIL2019Dev", data_root))
    assert reference.scores["test"][0]["main_score"] == reference.scores["test"][0]["recall_at_5"]
    assert_same_scores(ours, reference)


def test_table_longtext_layout(longtext_run: tuple[Path, Path],
                               capsys: pytest.CaptureFixture[str]) -> None:
    _, out = longtext_run
    scores = load_scores(out).set_index("task")["main_score"].to_dict()
    code, text, err = cli(capsys, "table", str(out), "--layout", "longtext")
    assert code == 0, err
    assert_longtext_table(text, scores, ["LongTextCAIL2019Dev"])


# --- input validation and options ---------------------------------------------------------------


def _squad(*paragraphs: tuple[str, list[tuple[str, int]]]) -> dict:
    """A SQuAD-format document: paragraphs of (context, [(question id, answer start)])."""
    paras = [
        {
            "context": ctx,
            "qas": [
                {"id": qid, "question": f"q {qid}", "answers": [{"text": "x", "answer_start": s}]}
                for qid, s in qas
            ],
        }
        for ctx, qas in paragraphs
    ]
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": paras}]}


def _write(path: Path, doc: object) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_mteb_evaluate_accepts_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    import mteb

    # plain mteb: datasets would serve another folder's LongTextSQuADDev from its cache
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")

    paragraphs = [("a" * 600, [("long", 520)]), ("b" * 30, [("short1", 1), ("short2", 2)])]
    src = _write(tmp_path / "tiny.json", _squad(*paragraphs))
    build_longtext(src, "squad", "LongTextSQuADDev", tmp_path / "out")
    task = longtext_task("LongTextSQuADDev", tmp_path / "out")
    model = mteb.get_model("mteb/baseline-random-encoder")
    result = mteb.evaluate(model, task, cache=None, show_progress_bar=False)
    scores = result.task_results[0].scores["test"][0]
    assert scores["main_score"] == scores["recall_at_5"] == 1.0  # 2 passages: always within 5


def test_ratio_and_threshold_options(tmp_path: Path) -> None:
    qas = [(f"l{i}", 100 + i) for i in range(4)] + [(f"s{i}", i) for i in range(10)]
    src = _write(tmp_path / "s.json", _squad(("z" * 200, qas), ("other passage", [])))
    m = build_longtext(src, "squad", "x", tmp_path / "out", threshold=100, short_long_ratio=(3, 2))
    assert (m.long_kept, m.short_kept, m.short_available, m.corpus_size) == (4, 6, 10, 2)
    with pytest.raises(HarnessError, match="nothing to build"):
        build_longtext(src, "squad", "x", tmp_path / "out", threshold=500)
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == sorted(
        ["harness-longtext", "x", *OUTPUTS]
    )


def test_token_unit_counts_tokens_before_the_answer() -> None:
    from harness.longtext.source import Pair, SourceData

    text = "hello " * 100 + "answer"
    data = SourceData(passages=[text], pairs=[Pair("q", "q", 0, text.index("answer"))])
    assert answer_positions(data, "char") == [600]
    assert answer_positions(data, "token", load_default_tokenizer()) == [100]


def test_squad_v2_and_cail_drop_unanswerable(tmp_path: Path) -> None:
    v2 = _squad(("c" * 10, [("a", 1), ("b", 2)]))
    v2["data"][0]["paragraphs"][0]["qas"][1].update(is_impossible=True, answers=[])
    assert len(read_source([_write(tmp_path / "v2.json", v2)], "squad").pairs) == 1
    cail = _squad(("c" * 10, [("a", 1), ("b", -1), ("c", 3)]))
    qas = cail["data"][0]["paragraphs"][0]["qas"]
    for qa, flag in zip(qas, ("false", "false", "true"), strict=True):
        qa["is_impossible"] = flag
    data = read_source([_write(tmp_path / "cail.json", cail)], "cail")
    assert ([p.query_id for p in data.pairs], data.no_span, data.unanswerable) == (["a"], 1, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"malformed bad\.json: invalid JSON"),
        ('{"version": "1"}', r"malformed bad\.json: top level: 'data'"),
        ("[]", r"malformed bad\.json: top level: expected an object"),
    ],
)
def test_unparsable_input_raises(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "bad.json", text)
    with pytest.raises(HarnessError, match=message):
        build_longtext(path, "squad", "x", tmp_path / "out")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["data"][0].pop("paragraphs"), r"data\[0\]: 'paragraphs'"),
        (lambda d: d["data"][0]["paragraphs"][0].pop("context"), r"paragraphs\[0\]: 'context'"),
        (lambda d: _qa(d)["answers"][0].update(answer_start="5"), r"answers\[0\]: 'answer_start'"),
        (lambda d: _qa(d)["answers"][0].update(answer_start=99), "beyond the passage"),
        (lambda d: _qa(d).update(is_impossible="true"), "'is_impossible' must be"),
        (lambda d: _qa(d).pop("id"), r"qas\[0\]: 'id'"),
        (lambda d: _qa(d, 1).update(id="q0"), "question id 'q0' already used"),
    ],
)
def test_malformed_entry_raises(
    tmp_path: Path, mutate: Callable[[dict], object], message: str
) -> None:
    doc = _squad(("c" * 20, [("q0", 1), ("q1", 2)]))
    mutate(doc)
    path = _write(tmp_path / "bad.json", doc)
    with pytest.raises(HarnessError, match=rf"malformed bad\.json: .*{message}"):
        build_longtext(path, "squad", "x", tmp_path / "out", threshold=1)


def _qa(doc: dict, k: int = 0) -> dict:
    return doc["data"][0]["paragraphs"][0]["qas"][k]


def test_bad_arguments_raise(tmp_path: Path) -> None:
    src = _write(tmp_path / "s.json", _squad(("c" * 20, [("q", 5)])))
    for kwargs in ({"name": "../escape"}, {"position_unit": "word"}, {"threshold": 0}):
        with pytest.raises(HarnessError):
            build_longtext(src, "squad", **{"name": "x", "out": tmp_path / "o", **kwargs})
    with pytest.raises(HarnessError, match="cannot read"):
        build_longtext(tmp_path / "missing.json", "squad", "x", tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_task_lookup_errors(tmp_path: Path) -> None:
    assert is_longtext_task("LongTextCMRC2018Dev") and not is_longtext_task("SciFact")
    with pytest.raises(HarnessError, match="did you mean 'LongTextDRCDDev'"):
        longtext_task("LongTextDRCDdev", tmp_path)
    with pytest.raises(HarnessError, match="longtext build DATA_DIR --name LongTextDRCDDev"):
        longtext_task("LongTextDRCDDev", tmp_path)
    src = _write(tmp_path / "s.json", _squad(("c" * 20, [("q", 5)])))
    build_longtext(src, "squad", "LongTextDRCDDev", tmp_path, threshold=1)
    (longtext_dir(tmp_path, "LongTextDRCDDev") / "queries.jsonl").write_text("{}\n")
    with pytest.raises(HarnessError, match="changed since it was built"):
        longtext_task("LongTextDRCDDev", tmp_path)


def test_task_config_lists_registered_sets() -> None:
    config = yaml.safe_load((package_config_dir() / "tasks" / "longtext.yaml").read_text())
    assert config["names"] == list(LONGTEXT_SETS) and config["benchmark"] is None
