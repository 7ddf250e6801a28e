"""``harness explain``: every recipe's model inputs equal the strings of its model card.

The expected prompts are typed in from the cards and the authors' evaluation scripts (not read
from mteb), so a drift in mteb's task instructions or in a recipe shows up here. No weights, no
task data.
"""

from __future__ import annotations

import pytest

from harness.config import load_config
from harness.explain import SAMPLE, explain, prompt_table
from harness.tasks import task_objects

S2P = ("Instruct: Given a web search query, retrieve relevant passages that answer the query."
       "\nQuery: ")
S2S = "Instruct: Retrieve semantically similar text.\nQuery: "
BGE = "Represent this sentence for searching relevant passages: "
CQA = ("Given a question, retrieve detailed question descriptions from Stackexchange that are "
       "duplicates to the given question")
SCIFACT = "Given a scientific claim, retrieve documents that support or refute the claim"
SCIDOCSRR = "Given a title of a scientific paper, retrieve the titles of other relevant papers"
BANKING = "Given a online banking query, find the corresponding intents"
SUMMEVAL = "Given a news summary, retrieve other semantically similar summaries"


def instruct(instruction: str) -> str:
    """e5-mistral / gte-Qwen2 ``get_detailed_instruct`` without the query."""
    return f"Instruct: {instruction}\nQuery: "


ENGLISH = ["SciFact", "SciDocsRR", "STSBenchmark", "Banking77Classification", "QuoraRetrieval"]
CHINESE = ["T2Retrieval", "T2Reranking", "ATEC", "TNews"]
NO_PROMPTS = {(t, s): "" for t, s in [
    ("SciFact", "query"), ("SciFact", "document"), ("SciDocsRR", "query"),
    ("SciDocsRR", "document"), ("STSBenchmark", "symmetric"),
    ("Banking77Classification", "symmetric")]}
NO_PROMPTS_ZH = {(t, s): "" for t, s in [
    ("T2Retrieval", "query"), ("T2Retrieval", "document"), ("T2Reranking", "query"),
    ("T2Reranking", "document"), ("ATEC", "symmetric"), ("TNews", "symmetric")]}
STELLA_CARD = {("SciFact", "query"): S2P, ("SciFact", "document"): "",
               ("SciDocsRR", "query"): S2P, ("SciDocsRR", "document"): "",
               ("STSBenchmark", "symmetric"): S2S, ("Banking77Classification", "symmetric"): S2S}
QUORA = ("Given a question, retrieve questions that are semantically equivalent to the given "
         "question")
# gte-Qwen2's eval_mteb.py: the task's instruction on queries and on every non-retrieval text,
# documents bare except on symmetric retrieval (sym_retrievals); STS without the final period
GTE_QWEN2 = {
    ("SciFact", "query"): instruct(SCIFACT), ("SciFact", "document"): "",
    ("SciDocsRR", "query"): instruct(SCIDOCSRR), ("SciDocsRR", "document"): "",
    ("STSBenchmark", "symmetric"): instruct("Retrieve semantically similar text"),
    ("Banking77Classification", "symmetric"): instruct(BANKING),
    ("QuoraRetrieval", "query"): instruct(QUORA), ("QuoraRetrieval", "document"): instruct(QUORA),
    ("SummEval", "symmetric"): instruct(SUMMEVAL),
    ("CQADupstackGamingRetrieval", "query"): instruct(CQA),
    ("CQADupstackGamingRetrieval", "document"): instruct(CQA)}
PICCOLO = {("T2Retrieval", "query"): "查询: ", ("T2Retrieval", "document"): "结果: ",
           ("T2Reranking", "query"): "查询: ", ("T2Reranking", "document"): "结果: ",
           ("ATEC", "symmetric"): "", ("TNews", "symmetric"): ""}

# recipe -> (tasks, {(task, side): the prompt the card / authors' script puts before the text})
EXPECTED: dict[str, tuple[list[str], dict[tuple[str, str], str]]] = {
    "minilm": (ENGLISH, NO_PROMPTS),
    "stella_en_1.5B_v5": (ENGLISH + ["SummEval", "CQADupstackGamingRetrieval"], GTE_QWEN2),
    "stella_en_400M_v5": (ENGLISH + ["SummEval", "CQADupstackGamingRetrieval"], GTE_QWEN2),
    "stella_en_1.5B_v5-card": (ENGLISH, STELLA_CARD),
    "stella_en_400M_v5-card": (ENGLISH, STELLA_CARD),
    "stella-base-en-v2": (ENGLISH, NO_PROMPTS),
    "stella-base-zh-v2": (CHINESE, NO_PROMPTS_ZH),
    "stella-large-zh-v2": (CHINESE, NO_PROMPTS_ZH),
    "stella-base-zh": (CHINESE, PICCOLO),
    "stella-large-zh": (CHINESE, PICCOLO),
    "gte-large-en-v1.5": (ENGLISH, NO_PROMPTS),
    "gte-base-en-v1.5": (ENGLISH, NO_PROMPTS),
    "gte-small": (ENGLISH, NO_PROMPTS),
    "gte-base": (ENGLISH, NO_PROMPTS),
    "gte-large": (ENGLISH, NO_PROMPTS),
    "e5-mistral-7b-instruct": (ENGLISH + ["SummEval", "CQADupstackGamingRetrieval"], {
        ("SciFact", "query"): instruct(SCIFACT), ("SciFact", "document"): "",
        ("SciDocsRR", "query"): instruct(SCIDOCSRR),
        ("SciDocsRR", "document"): instruct(SCIDOCSRR),
        ("STSBenchmark", "symmetric"): instruct("Retrieve semantically similar text."),
        ("Banking77Classification", "symmetric"): instruct(BANKING),
        ("SummEval", "symmetric"): instruct(SUMMEVAL),
        ("CQADupstackGamingRetrieval", "query"): instruct(CQA),
        ("CQADupstackGamingRetrieval", "document"): ""}),
    "gte-Qwen2-1.5B-instruct": (ENGLISH + ["SummEval", "CQADupstackGamingRetrieval"], GTE_QWEN2),
    "e5-small-v2": (ENGLISH, {
        ("SciFact", "query"): "query: ", ("SciFact", "document"): "passage: ",
        ("SciDocsRR", "query"): "query: ", ("SciDocsRR", "document"): "query: ",
        ("STSBenchmark", "symmetric"): "query: ",
        ("Banking77Classification", "symmetric"): "query: ",
        ("QuoraRetrieval", "query"): "query: ", ("QuoraRetrieval", "document"): "query: "}),
    "bge-small-en-v1.5": (ENGLISH + ["ArguAna"], {
        ("SciFact", "query"): BGE, ("SciFact", "document"): "",
        ("SciDocsRR", "query"): "", ("SciDocsRR", "document"): "",
        ("STSBenchmark", "symmetric"): "", ("QuoraRetrieval", "query"): "",
        ("ArguAna", "query"): ""}),
}


def test_every_recipe_has_expected_prompts() -> None:
    from harness.config import config_options

    assert sorted(EXPECTED) == config_options("model")


@pytest.mark.parametrize("recipe", sorted(EXPECTED))
def test_model_inputs_match_the_card(recipe: str) -> None:
    tasks, expected = EXPECTED[recipe]
    cfg = load_config([f"model={recipe}", f"tasks.names=[{','.join(tasks)}]"])
    table = prompt_table(cfg.model, task_objects(cfg.tasks)).set_index(["task", "side"])
    eos = " + EOS" if cfg.model.append_eos else ""
    for (task, side), prompt in expected.items():
        assert table.loc[(task, side), "model input"] == repr(prompt + SAMPLE) + eos, (task, side)


def _inputs(out: str) -> dict[tuple[str, str, str], str]:
    return {tuple(c.strip() for c in line.strip("|").split("|")[:3]): line
            for line in out.splitlines() if line.startswith("| ") and "|" in line[2:]}


def test_acceptance_stella_published_protocol_and_card() -> None:
    """Issue 12, acceptance 1: the published-protocol recipe prints the authors' per-task
    instruction for each task and side, the -card recipe the card's two prompts."""
    tasks = "tasks.names=[Banking77Classification,SciFact,ArguAna,STSBenchmark]"
    refute = instruct("Given a claim, find documents that refute the claim")
    published = {
        ("Banking77Classification", "Classification", "symmetric"): instruct(BANKING),
        ("SciFact", "Retrieval", "query"): instruct(SCIFACT),
        ("SciFact", "Retrieval", "document"): "",
        ("ArguAna", "Retrieval", "query"): refute, ("ArguAna", "Retrieval", "document"): refute,
        ("STSBenchmark", "STS", "symmetric"): instruct("Retrieve semantically similar text")}
    card = {("Banking77Classification", "Classification", "symmetric"): S2S,
            ("SciFact", "Retrieval", "query"): S2P, ("SciFact", "Retrieval", "document"): "",
            ("ArguAna", "Retrieval", "query"): S2P, ("ArguAna", "Retrieval", "document"): "",
            ("STSBenchmark", "STS", "symmetric"): S2S}
    for recipe, expected in (("stella_en_1.5B_v5", published), ("stella_en_1.5B_v5-card", card)):
        out = explain([f"model={recipe}", tasks])
        rows = _inputs(out)
        for key, prompt in expected.items():
            assert f"| {prompt + SAMPLE!r}" in rows[key], (recipe, key)
        assert "scored: 1024; by 2_Dense_{dim} Linear head" in out
        for setting in ("| pooling ", "| max_length ", "| dtype ", "| normalize ",
                        "| append_eos ", "| backend ", "| trust_remote_code ", "| source "):
            assert setting in out, setting
    assert "gte-Qwen2-1.5B-instruct" in explain(["model=stella_en_1.5B_v5", tasks])


def test_dims_override_and_precision_are_shown() -> None:
    out = explain(["model=stella_en_1.5B_v5", "tasks.names=[STSBenchmark]", "dims=[256,8192]"])
    assert "scored: 256, 8192" in out
    out = explain(["model=e5-mistral-7b-instruct", "tasks.names=[STSBenchmark]"])
    assert "recipe fp16; precision=auto -> cuda: fp16, cpu: fp32" in out
    assert "scored: native" in out and "truncate to max_length-1 tokens, then append EOS" in out


def test_missing_mteb_instruction_is_a_clear_error_row() -> None:
    out = explain(["model=e5-mistral-7b-instruct", "tasks.names=[AILACasedocs]"])
    row = next(line for line in out.splitlines() if "AILACasedocs" in line and "query" in line)
    assert "error: prompt 'Instruct: {instruction}\\nQuery: ' (key 'query') needs" in row
    assert "mteb's metadata for task 'AILACasedocs' has none" in row
    assert "++model.instructions.AILACasedocs=" in row
