"""Every use of another library's internals, in one place, each with a contract test.

Nothing else in the harness touches private APIs, message formats or undocumented data shapes of
its dependencies; ``tests/unit/test_compat.py`` checks each piece against the installed versions,
so an upgrade that breaks one fails there, by name.

- datasets: ``Dataset._getitem`` and ``Dataset._format_type`` (eager column reads); the cache
  directory ``config.HF_DATASETS_CACHE`` read when a builder is made (a local folder's cache,
  keyed on its content fingerprint; the per-folder file-hash memo lives beside it).
- hydra: ``hydra._internal``'s ``BasicSweeper.split_arguments`` (sweep expansion) and the text of
  its composition errors (which key, group or option was bad).
- mteb: the shape of ``TaskMetadata.descriptive_stats`` (task cost for shards, label values of
  classification imports) and the literal column renames in tasks' own ``dataset_transform``
  source (where an import writes each column).
- mteb: for per-item records, where a task keeps a subset's split data, the tasks' own metric
  methods (``AbsTaskSTS._normalize`` / ``_calculate_scores``,
  ``AbsTaskPairClassification._compute_metrics``, ``AbsTaskClassification._calculate_scores``)
  and the retrieval metrics of ``mteb._evaluators.retrieval_metrics`` (per-query scores, which
  mteb computes and averages).
- mteb: ``TaskResult._to_hf_benchmark_result`` (the eval-results YAML of a leaderboard export).
- mteb: what a ``ModelMeta``'s loader does to a text without loading weights, from its
  ``loader`` class and ``loader_kwargs`` (``InstructSentenceTransformerModel``'s
  ``instruction_template`` / ``prompts_dict`` / ``apply_instruction_to_passages`` /
  ``add_eos_token`` / ``max_seq_length`` and its ``get_task_instruction``;
  ``SentenceTransformerEncoderWrapper``'s ``model_prompts`` and ``_resolve_prompt``).
- mteb: what ``SearchEncoderWrapper``'s full-corpus search does with a similarity of no columns
  (nothing to merge: the encode jobs' retrieval without scoring).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import datasets

# datasets ---------------------------------------------------------------------------------------


class EagerColumnDataset(datasets.Dataset):
    """A ``datasets.Dataset`` whose ``ds[column]`` is a list, as it was before datasets 4.

    datasets 4 made ``ds[column]`` a lazy ``Column`` (huggingface/datasets#7614) whose every
    ``column[i]`` and iteration step formats one row. mteb's classification task indexes the
    label column once per training row in each of its 10 undersampling experiments and hands
    the test labels to sklearn's metrics, so on Banking77 about 25 s of a 28 s warm run went to
    formatting rows one at a time. Reading the whole column at once (the private ``_getitem``,
    only for unformatted datasets) gives the same values.
    """

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and self._format_type is None:
            return self._getitem(key)
        return super().__getitem__(key)


RETRIEVAL_CORPUS_KEY = "corpus"


def eager_columns(data: Any) -> None:
    """Make every plain ``Dataset`` inside a task's loaded data an :class:`EagerColumnDataset`,
    except a retrieval split's corpus.

    The corpus stays lazy: mteb's full-corpus search reads ``task_corpus["id"]`` once per
    corpus chunk, and as a list of every id that would make the search's peak memory grow with
    the corpus (scripts/bench_scale.py at 400k passages: the harness's peak went from 47 to 22 MB
    above plain mteb's when the corpus was left lazy).
    """
    if type(data) is datasets.Dataset:
        data.__class__ = EagerColumnDataset
    elif isinstance(data, dict):  # DatasetDict, subset -> split dicts, retrieval's dicts
        for key, value in data.items():
            if key != RETRIEVAL_CORPUS_KEY:
                eager_columns(value)


def datasets_cache_dir() -> Path:
    """``datasets``' cache directory of the moment (``config.HF_DATASETS_CACHE``)."""
    return Path(datasets.config.HF_DATASETS_CACHE)


@contextmanager
def local_folder_cache(fingerprint: str) -> Iterator[None]:
    """Build ``datasets``' Arrow cache of a local dataset folder (for the duration) in a
    directory named after ``fingerprint``, the hash of the folder's file contents
    (:mod:`harness.data.fingerprint`).

    ``datasets`` keys the cache of a local folder with a dataset card by the folder's name and the
    card's YAML only, not by its data files, so another data root's copy of a task, or the same
    folder imported again with other rows, would be served the rows cached first. The cache
    directory is read from ``datasets.config.HF_DATASETS_CACHE`` when a builder is made.
    """
    name = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    saved = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = Path(saved) / "harness-local" / name
    try:
        yield
    finally:
        datasets.config.HF_DATASETS_CACHE = saved


# hydra ------------------------------------------------------------------------------------------


def split_sweep(parsed_overrides: list[Any]) -> list[list[str]]:
    """Every combination of parsed sweep overrides, in Hydra's basic sweeper order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return [list(job) for batch in BasicSweeper.split_arguments(parsed_overrides, None)
            for job in batch]


def hydra_message(exc: BaseException) -> str:
    """A Hydra/OmegaConf error message on one line, without its ``full_key: ...`` trailer and
    its "See https://..." pointer."""
    text = " ".join(str(exc).split())
    return text.split(" full_key:")[0].split(" See https")[0]


def hydra_full_key(exc: BaseException) -> str | None:
    """The dotted config key an OmegaConf error names (``full_key: model.x``), if any."""
    match = re.search(r"full_key: ([\w.\-]+)", str(exc))
    return match.group(1) if match else None


def hydra_bad_key(message: str) -> str | None:
    """The key a composition error says is not in the schema or cannot be overridden."""
    match = (re.search(r"Key '([^']+)' (?:is )?not in (?:struct|'(\w+)')", message)
             or re.search(r"Could not override '([^']+)'", message))
    return match.group(1) if match else None


def hydra_missing_option(exc: BaseException) -> tuple[str, str, list[str]] | None:
    """(group, option, available options) from a MissingConfigException such as
    ``hydra/launcher=slurmm``; None when the message has another shape."""
    text = str(exc)
    match = re.search(r"Could not find '([\w/]+)/([^'/]+)'", text)
    listed = re.search(r"Available options in '[^']+':\n((?:\t.*\n?)+)", text)
    if match and listed:
        return match.group(1), match.group(2), listed.group(1).split()
    return None


# mteb -------------------------------------------------------------------------------------------


def stats_characters(stats: dict) -> float:
    """Characters in one split's (or subset's) block of ``TaskMetadata.descriptive_stats``:
    ``number_of_characters`` (older stats) or the sum of ``total_text_length`` over its
    ``*_statistics`` blocks (mteb 2.x)."""
    if stats.get("number_of_characters"):
        return float(stats["number_of_characters"])
    return float(sum(block["total_text_length"] for key, block in stats.items()
                     if key.endswith("statistics") and isinstance(block, dict)
                     and block.get("total_text_length")))


def stats_subsets(split_stats: dict) -> dict[str, dict]:
    """The per-subset blocks of one split's descriptive statistics (empty when it has none)."""
    return split_stats.get("hf_subset_descriptive_stats") or {}


def stats_labels(stats: dict | None) -> set[str] | None:
    """Every label value a task's descriptive statistics count (``label_statistics.labels``, in
    each split and subset block), as text; None when they list none."""
    found: set[str] = set()
    blocks = list((stats or {}).values())
    while blocks:
        block = blocks.pop()
        if not isinstance(block, dict):
            continue
        labels = (block.get("label_statistics") or {}).get("labels")
        found.update(str(label) for label in labels or ())
        blocks.extend(stats_subsets(block).values())
    return found or None


def transform_renames(task_class: type) -> list[tuple[str, str]]:
    """The (old, new) column renames a task class's own ``dataset_transform`` writes as literals,
    in source order: ``rename_column("old", "new")``, ``rename_columns({"old": "new"})`` and dict
    entries ``{"new": ds["old"]}`` (or ``ds["old"][0]``). Empty when its source cannot be read; a
    guess, which the caller verifies by running the transform."""
    method = getattr(task_class, "dataset_transform", None)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return []
    found: list[tuple[int, int, str, str]] = []
    for node in ast.walk(tree):
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            args = [_literal(arg) for arg in node.args]
            if node.func.attr == "rename_column" and len(args) == 2 and all(args):
                found.append((*where, args[0], args[1]))
            elif node.func.attr == "rename_columns" and node.args and isinstance(
                    node.args[0], ast.Dict):
                found.extend((*where, old, new) for old, new in _str_pairs(node.args[0]))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                while isinstance(value, ast.Subscript) and not _literal(value.slice):
                    value = value.value  # ds["old"][0]
                if _literal(key) and isinstance(value, ast.Subscript) and _literal(value.slice):
                    found.append((*where, _literal(value.slice), _literal(key)))
    return [(old, new) for *_, old, new in sorted(found)]


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _str_pairs(node: ast.Dict) -> list[tuple[str, str]]:
    pairs = [(_literal(k), _literal(v)) for k, v in zip(node.keys, node.values, strict=True)]
    return [(old, new) for old, new in pairs if old and new]

def split_data(task: Any, subset: str, split: str) -> Any:
    """The data of one subset and split as ``AbsTask.evaluate`` hands it to ``_evaluate_subset``
    (a single-subset task keeps its splits at the top level)."""
    if subset == "default" and subset not in task.dataset:
        return task.dataset[split]
    return task.dataset[subset][split]


def single_row_pairs(data: Any) -> Any:
    """A pair-classification split stored in mteb 1.x's single-row layout, as rows (as
    ``AbsTaskPairClassification._evaluate_subset`` does for text tasks)."""
    return datasets.Dataset.from_dict(data[0]) if len(data) == 1 else data


def sts_gold(task: Any, scores: list[float]) -> list[float]:
    """Gold STS scores normalised to 0-1 as the task does before correlating."""
    return list(map(task._normalize, scores))


def sts_metrics(task: Any, predictions: dict, gold: list[float]) -> dict[str, float]:
    """Every STS metric of one subset from mteb's predictions (STSEvaluatorScores) and gold."""
    return dict(task._calculate_scores(predictions, gold))


def pair_metrics(task: Any, predictions: dict, labels: list[int]) -> dict[str, float]:
    """Every pair-classification metric from mteb's predictions (PairClassificationDistances)."""
    return task._compute_metrics(predictions, labels)


def classification_metrics(task: Any, labels: list, predicted: list) -> dict[str, float]:
    """The classification metrics of one experiment (test labels vs predicted labels)."""
    return dict(task._calculate_scores(labels, predicted))


def retrieval_query_scores(task: Any, qrels: dict, results: dict) -> dict[str, dict[str, float]]:
    """Per-query metrics as mteb averages them: pytrec_eval's measures (``ndcg_cut_10``, ...) and
    ``mrr_<k>``, for each query mteb scores. ``results`` are mteb's predictions (the run before
    ``ignore_identical_ids`` and ``skip_first_result`` apply; both are applied here as mteb's
    ``RetrievalEvaluator.evaluate`` and ``calculate_retrieval_scores`` do)."""
    from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores, mrr

    if task.ignore_identical_ids:
        results = {qid: {pid: s for pid, s in docs.items() if pid != qid}
                   for qid, docs in results.items()}
    k_values = list(task.k_values)
    scores = calculate_retrieval_scores(results, qrels, k_values, task.skip_first_result)
    if task.skip_first_result:
        results = {qid: dict(sorted(docs.items(), key=lambda x: x[1], reverse=True)[1:])
                   for qid, docs in results.items()}
    ranks = mrr(qrels, results, k_values)
    per_query = {qid: dict(values) for qid, values in scores.all_scores.items()}
    for k in k_values:
        for qid, value in zip(results, ranks[f"MRR@{k}"], strict=True):
            per_query.setdefault(qid, {})[f"mrr_{k}"] = value
    return per_query


def hf_eval_results_yaml(result: Any) -> str:
    """The Hugging Face eval-results YAML mteb uploads for one task result
    (``ModelMeta.push_eval_results`` writes one ``.eval_results/<Task>.yaml`` each)."""
    return result._to_hf_benchmark_result().to_yaml()


MTEB_ST, MTEB_INSTRUCT = "sentence-transformers", "instruct"


def mteb_loader_kind(meta: Any) -> str | None:
    """Which of mteb's two sentence-transformers loaders a ModelMeta uses (None: another)."""
    from mteb.models.instruct_wrapper import InstructSentenceTransformerModel
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper

    loader = meta.loader
    if isinstance(loader, type) and issubclass(loader, InstructSentenceTransformerModel):
        return MTEB_INSTRUCT
    if isinstance(loader, type) and issubclass(loader, SentenceTransformerEncoderWrapper):
        return MTEB_ST
    return None


def mteb_loader_kwargs(meta: Any) -> dict[str, Any]:
    """The keyword arguments mteb passes to the model's loader."""
    return dict(meta.loader_kwargs or {})


def mteb_prompt(meta: Any, task_metadata: Any, prompt_type: Any,
                folder_prompts: dict[str, str] | None = None) -> str | None:
    """The exact prompt mteb's loader of ``meta`` puts before a text of this task and side
    (``prompt_type`` an mteb ``PromptType`` or None); ``folder_prompts`` are the model folder's
    own sentence-transformers prompts when known. None: not derivable without the model (another
    loader, or a sentence-transformers folder whose own prompts are not at hand)."""
    from mteb.types import PromptType

    kind, kwargs = mteb_loader_kind(meta), mteb_loader_kwargs(meta)
    if kind == MTEB_INSTRUCT:
        from mteb.models.abs_encoder import PromptSource

        wrapper = meta.loader.__new__(meta.loader)  # the prompt logic only: no weights
        wrapper.instruction_template = kwargs.get("instruction_template")
        wrapper.prompts_dict = kwargs.get("prompts_dict")
        if kwargs.get("prompt_priority") is not None:
            wrapper.prompt_priority = [PromptSource.from_str(p) for p in kwargs["prompt_priority"]]
        if (not kwargs.get("apply_instruction_to_passages", True)
                and prompt_type == PromptType.document):
            return ""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return wrapper.get_task_instruction(task_metadata, prompt_type) or ""
    if kind == MTEB_ST:
        from mteb.models.sentence_transformer_wrapper import _resolve_prompt

        prompts = kwargs.get("model_prompts") or folder_prompts
        if prompts is None:
            return None
        return _resolve_prompt(prompts, task_metadata, prompt_type) or ""
    return None


def mteb_appends_eos(meta: Any) -> bool | None:
    """Whether mteb's loader makes the tokenizer append EOS (None: another loader)."""
    kind = mteb_loader_kind(meta)
    if kind is None:
        return None
    return bool(mteb_loader_kwargs(meta).get("add_eos_token", False))


def mteb_max_length(meta: Any) -> int | None:
    """The truncation mteb's loader sets (None: the model folder's own max_seq_length)."""
    value = mteb_loader_kwargs(meta).get("max_seq_length")
    return int(value) if value else None


def mteb_dtype(meta: Any) -> str | None:
    """The weight dtype mteb's loader asks for (``model_kwargs`` dtype / torch_dtype)."""
    model_kwargs = mteb_loader_kwargs(meta).get("model_kwargs") or {}
    value = model_kwargs.get("dtype", model_kwargs.get("torch_dtype"))
    if value is None:
        return None
    text = str(getattr(value, "value", value)).removeprefix("torch.")
    return {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(text, text)


def mteb_recipe_prompts(meta: Any) -> dict[str, str] | None:
    """mteb's prompts for a model as recipe ``prompts`` (None: not expressible that way)."""
    kind, kwargs = mteb_loader_kind(meta), mteb_loader_kwargs(meta)
    if kind == MTEB_ST:
        return dict(kwargs["model_prompts"]) if kwargs.get("model_prompts") else None
    template = kwargs.get("instruction_template")
    if kind == MTEB_INSTRUCT and isinstance(template, str) and not kwargs.get("prompts_dict"):
        document = template if kwargs.get("apply_instruction_to_passages", True) else ""
        return {"query": template, "symmetric": template, "document": document}
    return None

class _NoColumns:
    """An encoder whose similarity has no columns: mteb's full-corpus search scores nothing."""

    def __init__(self, model: Any):
        self.model = model
        self.mteb_model_meta = model.mteb_model_meta

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        return self.model.encode(*args, **kwargs)

    def similarity(self, queries: Any, documents: Any) -> Any:
        import torch

        return torch.zeros((len(queries), 0))


def unscored_search(model: Any, corpus: Any, index_kwargs: dict, queries: Any,
                    top_ranked: Any, **search_kwargs: Any) -> dict:
    """Every query and document of one retrieval split through ``model.encode`` exactly as
    mteb's ``SearchEncoderWrapper`` sends them, nothing scored: in a full-corpus search the
    wrapper sees a similarity with no columns, so the per-chunk ``topk`` of
    ``chunked_full_corpus_search`` keeps nothing and its heap merge (the costly part at
    MSMARCO scale) has nothing to merge; every query's result is empty. A reranking split
    (``top_ranked``) goes through as it is: it scores only its few candidates."""
    from mteb.models import SearchEncoderWrapper

    searcher = SearchEncoderWrapper(_NoColumns(model) if top_ranked is None else model)
    searcher.index(corpus, **index_kwargs)
    return searcher.search(queries, top_ranked=top_ranked, **search_kwargs)
