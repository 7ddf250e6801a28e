"""Write tests/data/protocols/<recipe>.json: what each seed model's published run fed the model.

For every task of MTEB(eng, v1) (and MTEB(cmn, v1) where the authors' tables cover it) and every
side mteb encodes (query and document for retrieval and reranking, one symmetric side for the
rest), one row: the exact input for the sample text, whether the vector is L2-normalised, the
token budget, and the model-wide facts (pooling, EOS, precision, config and forward keyword
arguments, revision). The rows re-implement the authors' own input construction, family by
family, from their scripts (repository, file, commit and lines cited at each function), with
their instruction tables typed in here a second time; nothing is read from the harness, so
``tests/unit/test_protocol_tables.py`` catches a recipe, an instruction table or a resolver that
drifts from the scripts. Only mteb is used, for the task lists (names and types), as the scripts
themselves did.

Run from the repository root: ``python scripts/make_protocol_tables.py`` (seconds, no weights,
no data). ``--check`` writes nothing and exits 1 when a committed table differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mteb
from mteb.abstasks.aggregated_task import AbsTaskAggregate

SAMPLE = "what is the capital of China?"
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "protocols"
ENG, CMN = "MTEB(eng, v1)", "MTEB(cmn, v1)"
RETRIEVAL_LIKE = ("Retrieval", "Reranking")

UNILM = "https://github.com/microsoft/unilm/blob"
E5_INSTRUCT_COMMIT = "9c0f1ff7ca53431fe47d2637dfe253643d94185b"  # 2024-01-11, e5-mistral + C-MTEB
E5_V2_COMMIT = "c3d046b0371fcdef566256e4edb2e37c755c7d90"  # 2023-05-19, the e5-*-v2 release
FLAG_COMMIT = "982f810ebaa8dfe76b9c06853b87bd93b2e51476"  # 2023-09-25, bge v1.5
GTE_QWEN2_SCRIPT = "scripts/eval_mteb.py of Alibaba-NLP/gte-Qwen2-1.5B-instruct (public copy)"

# ---- the e5 authors' instruction table -------------------------------------------------------
# unilm e5/utils.py @9c0f1ff7, get_task_def_by_task_name_and_type, lines 106-225: fixed strings by
# task type for STS (107-108), Summarization (110-111), BitextMining (113-114); per task name for
# Classification (116-138), Clustering (140-159), Reranking + PairClassification (161-178) and
# Retrieval (180-223, any name starting with 'cqadupstack' first, 181-182).
E5_BY_TYPE = {
    "STS": "Retrieve semantically similar text.",
    "Summarization": "Given a news summary, retrieve other semantically similar summaries",
    "BitextMining": "Retrieve parallel sentences.",
}
E5_CQADUPSTACK = ("Given a question, retrieve detailed question descriptions from Stackexchange "
                  "that are duplicates to the given question")
E5_BY_NAME = {
    "Classification": {
        "AmazonCounterfactualClassification": "Classify a given Amazon customer review text as "
                                              "either counterfactual or not-counterfactual",
        "AmazonPolarityClassification": "Classify Amazon reviews into positive or negative "
                                        "sentiment",
        "AmazonReviewsClassification": "Classify the given Amazon review into its appropriate "
                                       "rating category",
        "Banking77Classification": "Given a online banking query, find the corresponding intents",
        "EmotionClassification": "Classify the emotion expressed in the given Twitter message "
                                 "into one of the six emotions: anger, fear, joy, love, sadness, "
                                 "and surprise",
        "ImdbClassification": "Classify the sentiment expressed in the given movie review text "
                              "from the IMDB dataset",
        "MassiveIntentClassification": "Given a user utterance as query, find the user intents",
        "MassiveScenarioClassification": "Given a user utterance as query, find the user "
                                         "scenarios",
        "MTOPDomainClassification": "Classify the intent domain of the given utterance in "
                                    "task-oriented conversation",
        "MTOPIntentClassification": "Classify the intent of the given utterance in "
                                    "task-oriented conversation",
        "ToxicConversationsClassification": "Classify the given comments as either toxic or not "
                                            "toxic",
        "TweetSentimentExtractionClassification": "Classify the sentiment of a given tweet as "
                                                  "either positive, negative, or neutral",
        "TNews": "Classify the fine-grained category of the given news title",
        "IFlyTek": "Given an App description text, find the appropriate fine-grained category",
        "MultilingualSentiment": "Classify sentiment of the customer review into positive, "
                                 "neutral, or negative",
        "JDReview": "Classify the customer review for iPhone on e-commerce platform into positive "
                    "or negative",
        "OnlineShopping": "Classify the customer review for online shopping into positive or "
                          "negative",
        "Waimai": "Classify the customer review from a food takeaway platform into positive or "
                  "negative",
    },
    "Clustering": {
        "ArxivClusteringP2P": "Identify the main and secondary category of Arxiv papers based on "
                              "the titles and abstracts",
        "ArxivClusteringS2S": "Identify the main and secondary category of Arxiv papers based on "
                              "the titles",
        "BiorxivClusteringP2P": "Identify the main category of Biorxiv papers based on the titles "
                                "and abstracts",
        "BiorxivClusteringS2S": "Identify the main category of Biorxiv papers based on the titles",
        "MedrxivClusteringP2P": "Identify the main category of Medrxiv papers based on the titles "
                                "and abstracts",
        "MedrxivClusteringS2S": "Identify the main category of Medrxiv papers based on the titles",
        "RedditClustering": "Identify the topic or theme of Reddit posts based on the titles",
        "RedditClusteringP2P": "Identify the topic or theme of Reddit posts based on the titles "
                               "and posts",
        "StackExchangeClustering": "Identify the topic or theme of StackExchange posts based on "
                                   "the titles",
        "StackExchangeClusteringP2P": "Identify the topic or theme of StackExchange posts based "
                                      "on the given paragraphs",
        "TwentyNewsgroupsClustering": "Identify the topic or theme of the given news articles",
        "CLSClusteringS2S": "Identify the main category of scholar papers based on the titles",
        "CLSClusteringP2P": "Identify the main category of scholar papers based on the titles "
                            "and abstracts",
        "ThuNewsClusteringS2S": "Identify the topic or theme of the given news articles based on "
                                "the titles",
        "ThuNewsClusteringP2P": "Identify the topic or theme of the given news articles based on "
                                "the titles and contents",
    },
    "Reranking/PairClassification": {
        "AskUbuntuDupQuestions": "Retrieve duplicate questions from AskUbuntu forum",
        "MindSmallReranking": "Retrieve relevant news articles based on user browsing history",
        "SciDocsRR": "Given a title of a scientific paper, retrieve the titles of other relevant "
                     "papers",
        "StackOverflowDupQuestions": "Retrieve duplicate questions from StackOverflow forum",
        "SprintDuplicateQuestions": "Retrieve duplicate questions from Sprint forum",
        "TwitterSemEval2015": "Retrieve tweets that are semantically similar to the given tweet",
        "TwitterURLCorpus": "Retrieve tweets that are semantically similar to the given tweet",
        "T2Reranking": "Given a Chinese search query, retrieve web passages that answer the "
                       "question",
        "MMarcoReranking": "Given a Chinese search query, retrieve web passages that answer the "
                           "question",
        "CMedQAv1": "Given a Chinese community medical question, retrieve replies that best "
                    "answer the question",
        "CMedQAv2": "Given a Chinese community medical question, retrieve replies that best "
                    "answer the question",
        "Ocnli": "Retrieve semantically similar text.",
        "Cmnli": "Retrieve semantically similar text.",
    },
    "Retrieval": {
        "ArguAna": "Given a claim, find documents that refute the claim",
        "ClimateFEVER": "Given a claim about climate change, retrieve documents that support or "
                        "refute the claim",
        "DBPedia": "Given a query, retrieve relevant entity descriptions from DBPedia",
        "FEVER": "Given a claim, retrieve documents that support or refute the claim",
        "FiQA2018": "Given a financial question, retrieve user replies that best answer the "
                    "question",
        "HotpotQA": "Given a multi-hop question, retrieve documents that can help answer the "
                    "question",
        "MSMARCO": "Given a web search query, retrieve relevant passages that answer the query",
        "NFCorpus": "Given a question, retrieve relevant documents that best answer the question",
        "NQ": "Given a question, retrieve Wikipedia passages that answer the question",
        "QuoraRetrieval": "Given a question, retrieve questions that are semantically equivalent "
                          "to the given question",
        "SCIDOCS": "Given a scientific paper title, retrieve paper abstracts that are cited by "
                   "the given paper",
        "SciFact": "Given a scientific claim, retrieve documents that support or refute the "
                   "claim",
        "Touche2020": "Given a question, retrieve detailed and persuasive arguments that answer "
                      "the question",
        "TRECCOVID": "Given a query on COVID-19, retrieve documents that answer the query",
        "T2Retrieval": "Given a Chinese search query, retrieve web passages that answer the "
                       "question",
        "MMarcoRetrieval": "Given a web search query, retrieve relevant passages that answer the "
                           "query",
        "DuRetrieval": "Given a Chinese search query, retrieve web passages that answer the "
                       "question",
        "CovidRetrieval": "Given a question on COVID-19, retrieve news articles that answer the "
                          "question",
        "CmedqaRetrieval": "Given a Chinese community medical question, retrieve replies that "
                           "best answer the question",
        "EcomRetrieval": "Given a user query from an e-commerce website, retrieve description "
                         "sentences of relevant products",
        "MedicalRetrieval": "Given a medical question, retrieve user replies that best answer "
                            "the question",
        "VideoRetrieval": "Given a video search query, retrieve the titles of relevant videos",
    },
}
# mteb 2.x task names whose names in the scripts' days (and tables) were different
E5_SCRIPT_NAMES = {"CMedQAv1-reranking": "CMedQAv1", "CMedQAv2-reranking": "CMedQAv2"}

# ---- gte-Qwen2's table: e5's, with these differences -------------------------------------------
# eval_mteb.py get_task_def_by_task_name_and_type: STS and BitextMining without the final period,
# C-MTEB's MMarcoReranking keyed 'MmarcoReranking', and a web-search fallback for a task type it has
# no branch for, instead of e5's ValueError (no task of these benchmarks reaches it; an unknown
# name within a handled type is a KeyError in both).
GTE_BY_TYPE = {**E5_BY_TYPE, "STS": "Retrieve semantically similar text",
               "BitextMining": "Retrieve parallel sentences"}
GTE_SCRIPT_NAMES = {**E5_SCRIPT_NAMES, "MMarcoReranking": "MmarcoReranking"}
GTE_BY_NAME = {
    group: {("MmarcoReranking" if name == "MMarcoReranking" else name): text
            for name, text in table.items()}
    for group, table in E5_BY_NAME.items()}
GTE_DEFAULT = "Given a web search query, retrieve relevant passages that answer the query"
# main(): sym_retrievals = ["QuoraRetrieval", "ArguAna", "CQADupstack"], matched with
# task.startswith(name); those tasks run with force_default, documents encoded as queries.
GTE_SYM_RETRIEVALS = ("QuoraRetrieval", "ArguAna", "CQADupstack")


def instruct(task_def: str) -> str:
    """get_detailed_instruct (e5 utils.py 228-232; the same in gte-Qwen2's eval_mteb.py)."""
    return f"Instruct: {task_def}\nQuery: " if task_def else ""


def _task_def(name: str, task_type: str, by_type: dict, by_name: dict, script_names: dict,
              unhandled_type: str | None) -> str:
    """get_task_def_by_task_name_and_type, whose rule order both scripts share: a fixed string
    per type, then CQADupstack*, then the per-name table of the type's branch; a type with no
    branch is e5's ValueError or gte-Qwen2's default; an unknown name a KeyError in both."""
    name = script_names.get(name, name)
    if task_type in by_type:
        return by_type[task_type]
    if task_type == "Retrieval" and name.lower().startswith("cqadupstack"):
        return E5_CQADUPSTACK
    group = "Reranking/PairClassification" if task_type in ("Reranking", "PairClassification") \
        else task_type
    if group not in by_name:
        if unhandled_type is None:
            raise ValueError(f"no instruction config for {name} ({task_type})")
        return unhandled_type
    return by_name[group][name]


def e5_task_def(name: str, task_type: str) -> str:
    """e5 utils.py get_task_def_by_task_name_and_type (106-225), for an mteb 2.x task name."""
    return _task_def(name, task_type, E5_BY_TYPE, E5_BY_NAME, E5_SCRIPT_NAMES, None)


def gte_task_def(name: str, task_type: str) -> str:
    """gte-Qwen2 eval_mteb.py get_task_def_by_task_name_and_type."""
    return _task_def(name, task_type, GTE_BY_TYPE, GTE_BY_NAME, GTE_SCRIPT_NAMES, GTE_DEFAULT)


# ---- what one task side gets, per family ------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    """What the script does to one text of one task side."""

    prefix: str
    normalize: bool
    max_length: int


Family = Callable[[str, str, str], Encoding]


def e5_instruct(name: str, task_type: str, side: str) -> Encoding:
    """e5-mistral-7b-instruct, unilm e5/ @9c0f1ff7: retrieval in mteb_beir_eval.py (queries get
    the instruction, 52-58; documents '{title} {text}' bare, 60-69; always normalised, 84);
    everything else in mteb_except_retrieval_eval.py (one prompt before every text, 65 and
    102-107, reranking candidates included: DenseEncoder has no encode_corpus; normalisation off
    for Classification, 110-116). 512 tokens: create_batch_dict's default (utils.py 73), EOS
    appended after 511 tokens for the 'last' pool type (72; utils.py 84-102, EOS at 94-95)."""
    prompt = instruct(e5_task_def(name, task_type))
    if task_type == "Retrieval":
        return Encoding(prompt if side == "query" else "", True, 512)
    return Encoding(prompt, task_type != "Classification", 512)


def gte_qwen2(normalize: bool) -> Family:
    """gte-Qwen2-1.5B-instruct's eval_mteb.py: Wrapper.encode puts the task's instruction before
    a text encoded as a query; encode_queries encodes as query, encode_corpus as document unless
    force_default (sym_retrievals), plain encode (every non-retrieval evaluator except the
    reranking one, which calls encode_queries / encode_corpus) with --default_type query.
    --max_seq_len 512: max_seq_len-1 tokens plus EOS (_tokenize). --norm: ``normalize``."""
    def family(name: str, task_type: str, side: str) -> Encoding:
        prompt = instruct(gte_task_def(name, task_type))
        symmetric_retrieval = task_type == "Retrieval" and name.startswith(GTE_SYM_RETRIEVALS)
        as_query = side != "document" or symmetric_retrieval
        return Encoding(prompt if as_query else "", normalize, 512)
    return family


def e5_v2(name: str, task_type: str, side: str) -> Encoding:
    """e5-small-v2, unilm e5/ @c3d046b0: mteb_eval.py puts --prompt 'query: ' (eval_mteb.sh)
    before every text of non-retrieval tasks (39-40); mteb_beir_eval.py gives queries 'query: '
    (55-57) and documents 'passage: ' (63-65), QuoraRetrieval documents as queries (60-61, 104).
    No L2 normalisation (--l2-normalize is not passed; the retrieval script has none); 512."""
    if task_type != "Retrieval":
        return Encoding("query: ", False, 512)
    as_query = side == "query" or name == "QuoraRetrieval"
    return Encoding("query: " if as_query else "passage: ", False, 512)


FLAG_INSTRUCTED = ("Touche2020", "SciFact", "TRECCOVID", "NQ", "NFCorpus", "MSMARCO", "HotpotQA",
                   "FiQA2018", "FEVER", "DBPedia", "ClimateFEVER", "SCIDOCS")


def flag(name: str, task_type: str, side: str) -> Encoding:
    """bge-small-en-v1.5, FlagEmbedding C_MTEB/eval_MTEB.py @982f810e: the instruction for the
    queries of CQADupstack* and the listed retrieval tasks only (42-56, FlagDRESModel
    encode_queries 37-46), everything else bare; normalize_embeddings=False (29-32); 512 tokens
    (flag_dres_model.py 68-74)."""
    instructed = "CQADupstack" in name or name in FLAG_INSTRUCTED
    prefix = ("Represent this sentence for searching relevant passages: "
              if instructed and side == "query" else "")
    return Encoding(prefix, False, 512)


def plain(normalize: bool, max_length: int) -> Family:
    """A model encoded with no prompt at all (sentence-transformers defaults, the stella zh v2
    FastTextEncoder, the gte-v1.5 card setting)."""
    return lambda name, task_type, side: Encoding("", normalize, max_length)


def piccolo(name: str, task_type: str, side: str) -> Encoding:
    """stella-base/large-zh (v1): the card's FastTextEncoder settings (normalised, 512) with the
    piccolo prefixes the card prescribes for retrieval and reranking."""
    prefix = {"query": "查询: ", "document": "结果: "}.get(side, "") \
        if task_type in RETRIEVAL_LIKE else ""
    return Encoding(prefix, True, 512)


def stella_card(name: str, task_type: str, side: str) -> Encoding:
    """stella v5 model cards: s2p on retrieval-like queries, s2s on symmetric tasks, bare
    documents; normalised after the head; 512 tokens."""
    if side == "symmetric":
        return Encoding("Instruct: Retrieve semantically similar text.\nQuery: ", True, 512)
    s2p = "Instruct: Given a web search query, retrieve relevant passages that answer the query."
    return Encoding(f"{s2p}\nQuery: " if side == "query" else "", True, 512)


# ---- the seed recipes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """A seed recipe's published protocol: how texts are built, what runs the model, which
    benchmarks the table covers."""

    family: Family
    model: dict
    benchmarks: tuple[str, ...] = (ENG,)


def model_facts(name: str, revision: str | None, pooling: str, dtype: str = "fp32", *,
                autocast: str | None = None, append_eos: bool = False,
                config_kwargs: dict | None = None, forward_kwargs: dict | None = None) -> dict:
    """The model-wide fields of a protocol row."""
    return {"model": name, "revision": revision, "pooling": pooling, "dtype": dtype,
            "autocast": autocast, "append_eos": append_eos,
            "config_kwargs": config_kwargs or {}, "forward_kwargs": forward_kwargs or {}}


NTK2 = {"rope_scaling": {"type": "ntk", "factor": 2.0}}
NO_XFORMERS = {"use_memory_efficient_attention": False, "unpad_inputs": False}
STELLA_15B = ("NovaSearch/stella_en_1.5B_v5", "d03be74b361d4eb24f42a2fe5bd2e29917df4604")
STELLA_400M = ("NovaSearch/stella_en_400M_v5", "1bb50bc7bb726810eac2140e62155b88b0df198f")

RECIPES: dict[str, Recipe] = {
    "minilm": Recipe(plain(True, 256), model_facts(
        "sentence-transformers/all-MiniLM-L6-v2", "8b3219a92973c328a8e22fadcfa821b5dc75636a",
        "mean")),
    "gte-small": Recipe(plain(True, 512), model_facts(
        "thenlper/gte-small", "17e1f347d17fe144873b1201da91788898c639cd", "mean")),
    "gte-base": Recipe(plain(True, 512), model_facts(
        "thenlper/gte-base", "c078288308d8dee004ab72c6191778064285ec0c", "mean")),
    "gte-large": Recipe(plain(True, 512), model_facts(
        "thenlper/gte-large", "4bef63f39fcc5e2d6b0aae83089f307af4970164", "mean")),
    "stella-base-en-v2": Recipe(plain(False, 512), model_facts(
        "infgrad/stella-base-en-v2", "c9e80ff9892d80b39dc54e30a7873f91ea161034", "mean")),
    "gte-large-en-v1.5": Recipe(plain(False, 8192), model_facts(
        "Alibaba-NLP/gte-large-en-v1.5", None, "cls", autocast="fp16", config_kwargs=NTK2)),
    "gte-base-en-v1.5": Recipe(plain(False, 8192), model_facts(
        "Alibaba-NLP/gte-base-en-v1.5", "a829fd0e060bb84554da0dfd354d0de0f7712b7f", "cls",
        autocast="fp16", config_kwargs=NTK2)),
    "bge-small-en-v1.5": Recipe(flag, model_facts(
        "BAAI/bge-small-en-v1.5", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a", "cls")),
    "e5-small-v2": Recipe(e5_v2, model_facts(
        "intfloat/e5-small-v2", "dca8b1a9dae0d4575df2bf423a5edb485a431236", "mean",
        autocast="fp16")),
    "e5-mistral-7b-instruct": Recipe(e5_instruct, model_facts(
        "intfloat/e5-mistral-7b-instruct", "07163b72af1488142a360786df853f237b1a3ca1",
        "last_token", "fp16", autocast="fp16", append_eos=True), (ENG, CMN)),
    "gte-Qwen2-1.5B-instruct": Recipe(gte_qwen2(normalize=False), model_facts(
        "Alibaba-NLP/gte-Qwen2-1.5B-instruct", "c6c1b92f4a3e1b92b326ad29dd3c8433457df8dd",
        "last_token", "fp16", append_eos=True, forward_kwargs={"is_causal": False}), (ENG, CMN)),
    "stella_en_1.5B_v5": Recipe(gte_qwen2(normalize=True), model_facts(*STELLA_15B, "mean")),
    "stella_en_400M_v5": Recipe(gte_qwen2(normalize=True), model_facts(
        *STELLA_400M, "mean", config_kwargs=NO_XFORMERS)),
    "stella_en_1.5B_v5-card": Recipe(stella_card, model_facts(*STELLA_15B, "mean")),
    "stella_en_400M_v5-card": Recipe(stella_card, model_facts(
        *STELLA_400M, "mean", config_kwargs=NO_XFORMERS)),
    "stella-base-zh-v2": Recipe(plain(True, 512), model_facts(
        "infgrad/stella-base-zh-v2", None, "mean", "fp16"), (CMN,)),
    "stella-large-zh-v2": Recipe(plain(True, 512), model_facts(
        "infgrad/stella-large-zh-v2", None, "mean", "fp16"), (CMN,)),
    "stella-base-zh": Recipe(piccolo, model_facts(
        "infgrad/stella-base-zh", None, "mean", "fp16"), (CMN,)),
    "stella-large-zh": Recipe(piccolo, model_facts(
        "infgrad/stella-large-zh", None, "mean", "fp16"), (CMN,)),
}


def benchmark_tasks(benchmark: str) -> list[tuple[str, str]]:
    """(name, type) of every task whose texts a benchmark encodes (aggregates by their parts)."""
    tasks = []
    for task in mteb.get_benchmark(benchmark).tasks:
        parts = task.tasks if isinstance(task, AbsTaskAggregate) else [task]
        tasks += [(part.metadata.name, part.metadata.type) for part in parts]
    return tasks


def sides(task_type: str) -> tuple[str, ...]:
    """The sides mteb encodes for a task type."""
    return ("query", "document") if task_type in RETRIEVAL_LIKE else ("symmetric",)


def table(recipe: Recipe) -> list[dict]:
    """The protocol rows of one recipe."""
    rows = []
    for benchmark in recipe.benchmarks:
        for name, task_type in benchmark_tasks(benchmark):
            for side in sides(task_type):
                enc = recipe.family(name, task_type, side)
                rows.append({"task": name, "side": side, "input": enc.prefix + SAMPLE,
                             "normalize": enc.normalize, "max_length": enc.max_length,
                             **recipe.model})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check compare) every recipe's table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for recipe, spec in RECIPES.items():
        text = json.dumps(table(spec), indent=1, ensure_ascii=False) + "\n"
        path = OUT / f"{recipe}.json"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale protocol tables: {', '.join(stale)}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
