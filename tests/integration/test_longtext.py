"""Long-text suite: deterministic builds, sampling rules, mteb loading, input validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support import SHARED_DATA

from harness.config import config_files
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

DATA = SHARED_DATA
BUILT = ["LongTextCMRC2018Dev", "LongTextDRCDDev", "LongTextCAIL2019Dev", "LongTextSQuADDev"]
OUTPUTS = ["README.md", "corpus.jsonl", "manifest.json", "qrels.jsonl", "queries.jsonl"]

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"offline data not found at {DATA}")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


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


@needs_data
@pytest.mark.parametrize("name", BUILT)
def test_build_is_deterministic_and_honours_rules(name: str, tmp_path: Path) -> None:
    first = build_set(name, DATA, tmp_path / "a")
    second = build_set(name, DATA, tmp_path / "b")
    assert first.checksum == second.checksum
    for filename in OUTPUTS:
        a = (longtext_dir(tmp_path / "a", name) / filename).read_bytes()
        assert a == (longtext_dir(tmp_path / "b", name) / filename).read_bytes()

    spec = LONGTEXT_SETS[name]
    source = read_source([DATA / s for s in spec.sources], spec.fmt)
    position = dict(
        zip((p.query_id for p in source.pairs), answer_positions(source, "char"), strict=True)
    )
    kept = [q["_id"] for q in _read_jsonl(longtext_dir(tmp_path / "a", name) / "queries.jsonl")]
    long_kept = [q for q in kept if position[q] >= 512]
    assert len(long_kept) == first.long_kept == sum(pos >= 512 for pos in position.values()) > 0
    assert len(kept) - len(long_kept) == first.short_kept == (first.long_kept + 1) // 2
    assert first.short_available >= first.short_kept
    assert first.corpus_size == len(source.passages)


@needs_data
def test_seed_changes_only_the_short_sample(tmp_path: Path) -> None:
    name = "LongTextCMRC2018Dev"
    base = build_set(name, DATA, tmp_path / "a", seed=0)
    other = build_set(name, DATA, tmp_path / "b", seed=1)
    assert base.checksum != other.checksum
    queries = [
        {q["_id"] for q in _read_jsonl(longtext_dir(tmp_path / d, name) / "queries.jsonl")}
        for d in ("a", "b")
    ]
    assert queries[0] != queries[1]
    assert len(queries[0]) == len(queries[1]) == base.long_kept + base.short_kept
    corpus = [(longtext_dir(tmp_path / d, name) / "corpus.jsonl").read_bytes() for d in "ab"]
    assert corpus[0] == corpus[1]


@needs_data
def test_mteb_load_data_reads_built_set(tmp_path: Path) -> None:
    name = "LongTextDRCDDev"
    manifest = build_set(name, DATA, tmp_path)
    task = longtext_task(name, tmp_path)
    assert task.metadata.main_score == "recall_at_5"
    assert task.metadata.eval_langs == ["zho-Hant"]
    task.load_data()
    split = task.dataset["default"]["test"]
    n_queries = manifest.long_kept + manifest.short_kept
    assert len(split["corpus"]) == manifest.corpus_size == 1000
    assert len(split["queries"]) == len(split["relevant_docs"]) == n_queries
    assert all(len(docs) == 1 for docs in split["relevant_docs"].values())


def test_mteb_evaluate_accepts_task(tmp_path: Path) -> None:
    import mteb

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
    config = yaml.safe_load(config_files("tasks")["longtext"][1].read_text())
    assert config == {"name": "longtext", "benchmark": None, "names": list(LONGTEXT_SETS)}
