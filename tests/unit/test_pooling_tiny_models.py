"""The harness's tokenise -> forward -> pool path equals the model cards' snippets, offline.

Tiny random-weight models (hidden size 32, 2 layers) of each architecture the recipes use — a
BERT-style encoder (gte, e5, bge, stella v1/v2), Qwen2 (gte-Qwen2, stella v5) and Mistral
(e5-mistral) decoders — are built in tmp folders and encoded through ``load_backend`` +
``HarnessEncoder`` (several batches of unequal lengths) and through a reference written from the
cards: ``average_pool`` (gte), ``[:, 0]`` (gte-v1.5, bge), ``last_token_pool`` with EOS appended
after truncating to max_length-1 (e5-mistral), and stella's ``2_Dense_{dim}`` head + normalize.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny_models import (
    WORDS,
    add_stella_head,
    build_bert,
    build_decoder,
    build_sentence_transformer,
)
from torch import Tensor

from harness.config import load_config
from harness.errors import HarnessError
from harness.models.encoder import HarnessEncoder
from harness.models.heads import DimProjector
from harness.models.loading import load_backend, resolve_model_path

TEXTS = WORDS
MAX_LENGTH = 12  # the longest text is truncated
ATOL = 1e-5


# References, as in the model cards

def average_pool(last_hidden_states: Tensor, attention_mask: Tensor) -> Tensor:
    """gte-small / stella cards."""
    last_hidden = last_hidden_states.masked_fill(~attention_mask[..., None].bool(), 0.0)
    return last_hidden.sum(dim=1) / attention_mask.sum(dim=1)[..., None]


def first_token_pool(last_hidden_states: Tensor, attention_mask: Tensor) -> Tensor:
    """gte-large-en-v1.5 card: ``outputs.last_hidden_state[:, 0]``."""
    return last_hidden_states[:, 0]


def last_token_pool(last_hidden_states: Tensor, attention_mask: Tensor) -> Tensor:
    """e5-mistral-7b-instruct card."""
    left_padding = attention_mask[:, -1].sum() == attention_mask.shape[0]
    if left_padding:
        return last_hidden_states[:, -1]
    sequence_lengths = attention_mask.sum(dim=1) - 1
    batch_size = last_hidden_states.shape[0]
    return last_hidden_states[torch.arange(batch_size), sequence_lengths]


REFERENCE_POOL = {"mean": average_pool, "cls": first_token_pool, "last_token": last_token_pool}


@torch.no_grad()
def reference_pooled(folder: Path, pooling: str, append_eos: bool, padding_side: str = "right",
                     texts: list[str] = TEXTS) -> np.ndarray:
    """One padded batch through AutoModel, tokenised the cards' way."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.padding_side = padding_side
    model = AutoModel.from_pretrained(folder).eval()
    if tokenizer.pad_token is None:  # the authors' scripts pad decoders with EOS
        tokenizer.pad_token = tokenizer.eos_token
    if append_eos:  # e5-mistral card
        batch = tokenizer(texts, max_length=MAX_LENGTH - 1, return_attention_mask=False,
                          padding=False, truncation=True)
        batch["input_ids"] = [ids + [tokenizer.eos_token_id] for ids in batch["input_ids"]]
        batch = tokenizer.pad(batch, padding=True, return_attention_mask=True,
                              return_tensors="pt")
    else:
        batch = tokenizer(texts, max_length=MAX_LENGTH, padding=True, truncation=True,
                          return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    return REFERENCE_POOL[pooling](hidden, batch["attention_mask"]).numpy()


# The harness

def recipe(folder: Path, *overrides: str):
    """A composed config loading ``folder``, with the recipe fields given as overrides."""
    return load_config([f"model.path={folder}", "model.name=tiny/test-model",
                           f"model.max_length={MAX_LENGTH}", *overrides])


def harness_pooled(cfg, texts: list[str] = TEXTS, prompt: str = "") -> np.ndarray:
    """Pooled vectors through load_backend + HarnessEncoder, two texts per batch."""
    backend = load_backend(cfg.model, "cpu", "fp32")
    projector = DimProjector(cfg.model.dim_mode, resolve_model_path(cfg.model),
                             cfg.model.normalize)
    encoder = HarnessEncoder(cfg.model, backend, projector, batch_size=2, show_progress=False)
    return encoder.pooled_vectors(prompt, texts)


# Tiny models

@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bert(tmp_path_factory.mktemp("bert"))


@pytest.fixture(scope="module", params=["qwen2", "mistral"])
def decoder_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_decoder(tmp_path_factory.mktemp(request.param), request.param)


# Tests

@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_bert_encoder_matches_card_snippet(bert_dir: Path, pooling: str) -> None:
    cfg = recipe(bert_dir, "model.backend=transformers", f"model.pooling={pooling}")
    ours = harness_pooled(cfg)
    assert np.allclose(ours, reference_pooled(bert_dir, pooling, append_eos=False), atol=ATOL)


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_decoder_last_token_with_eos_matches_e5_mistral_card(decoder_dir: Path,
                                                            padding_side: str) -> None:
    cfg = recipe(decoder_dir, "model.backend=transformers", "model.pooling=last_token",
                 "model.append_eos=true", f"model.padding_side={padding_side}")
    ours = harness_pooled(cfg)
    reference = reference_pooled(decoder_dir, "last_token", True, padding_side)
    assert np.allclose(ours, reference, atol=ATOL)


def test_eos_is_appended_after_truncation_and_pads_do_not_count(decoder_dir: Path) -> None:
    cfg = recipe(decoder_dir, "model.backend=transformers", "model.append_eos=true",
                 "model.pooling=last_token", "model.padding_side=left")
    backend = load_backend(cfg.model, "cpu", "fp32")
    eos = backend.tokenizer.eos_token_id
    batch = backend.tokenize(TEXTS)
    lengths = batch["attention_mask"].sum(dim=1)
    assert int(lengths.max()) == MAX_LENGTH  # the long text: max_length-1 tokens + EOS
    assert (batch["input_ids"][:, -1] == eos).all()  # left padding: every row ends with EOS
    assert int((batch["input_ids"] == eos).logical_and(batch["attention_mask"] == 1).sum()) == len(
        TEXTS)  # exactly one real EOS per row, even though padding uses the EOS id too


def test_decoder_mean_pooling_matches_average_pool(decoder_dir: Path) -> None:
    cfg = recipe(decoder_dir, "model.backend=transformers", "model.pooling=mean")
    reference = reference_pooled(decoder_dir, "mean", append_eos=False)
    assert np.allclose(harness_pooled(cfg), reference, atol=ATOL)


def test_sentence_transformers_backend_matches_snippet_and_library(
        bert_dir: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    st_dir = build_sentence_transformer(bert_dir, tmp_path / "st", MAX_LENGTH)
    cfg = recipe(st_dir, "model.backend=sentence-transformers", "model.pooling=mean")
    pooled = harness_pooled(cfg)
    assert np.allclose(pooled, reference_pooled(st_dir, "mean", append_eos=False), atol=ATOL)
    normalised = DimProjector("none", st_dir, normalize=True)(pooled, None)
    library = SentenceTransformer(str(st_dir), device="cpu")
    assert np.allclose(normalised, library.encode(TEXTS, normalize_embeddings=True), atol=ATOL)


@pytest.fixture(scope="module")
def stella_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A stella-v5 layout: a Qwen2 sentence-transformers folder with heads for dims 8 and 16."""
    qwen = build_decoder(tmp_path_factory.mktemp("qwen_st"), "qwen2", pad="<|endoftext|>")
    folder = build_sentence_transformer(qwen, tmp_path_factory.mktemp("stella"), MAX_LENGTH)
    heads = {8: add_stella_head(folder, 8, "safetensors"),
             16: add_stella_head(folder, 16, "bin")}
    return folder, heads


def test_stella_heads_equal_normalized_linear(stella_dir: tuple[Path, dict]) -> None:
    folder, heads = stella_dir
    cfg = recipe(folder, "model.backend=sentence-transformers", "model.pooling=mean",
                 "model.dims=[4,8,16]", "model.dim_mode=head", "model.default_dim=8")
    pooled = harness_pooled(cfg)
    reference = reference_pooled(folder, "mean", append_eos=False)
    assert np.allclose(pooled, reference, atol=ATOL)
    projector = DimProjector("head", folder, normalize=True)
    projector.prepare([8, 16, None])
    for dim, (weight, bias) in heads.items():
        expected = F.normalize(torch.from_numpy(reference @ weight.numpy().T + bias.numpy()),
                               dim=1).numpy()
        assert np.allclose(projector(pooled, dim), expected, atol=ATOL)
    with pytest.raises(HarnessError, match=r"no 2_Dense_4 head; dims with a head: \[8, 16\]"):
        projector.prepare([4])


def test_stella_head_equals_sentence_transformers_dense(stella_dir: tuple[Path, dict],
                                                        tmp_path: Path) -> None:
    """The card's way to pick a dim: point modules.json at 2_Dense_{dim}."""
    import shutil

    from sentence_transformers import SentenceTransformer

    folder, _ = stella_dir
    copy = shutil.copytree(folder, tmp_path / "stella8")
    modules = json.loads((copy / "modules.json").read_text())
    modules.append({"idx": len(modules), "name": "2", "path": "2_Dense_8",
                    "type": "sentence_transformers.models.Dense"})
    (copy / "modules.json").write_text(json.dumps(modules))
    library = SentenceTransformer(str(copy), device="cpu").encode(TEXTS, normalize_embeddings=True)
    cfg = recipe(folder, "model.backend=sentence-transformers", "model.pooling=mean")
    ours = DimProjector("head", folder, normalize=True)(harness_pooled(cfg), 8)
    assert np.allclose(ours, library, atol=ATOL)


def test_minilm_transformers_backend_equals_sentence_transformers_backend() -> None:
    texts = [*TEXTS, "A man is playing a guitar on the stage. " * 40]  # truncated at 256
    st = harness_pooled(load_config(["model=minilm"]), texts)
    hf = harness_pooled(load_config(["model=minilm", "model.backend=transformers"]), texts)
    assert np.allclose(st, hf, atol=ATOL)
    normalize = DimProjector("none", None, normalize=True)
    assert np.allclose(normalize(st, None), normalize(hf, None), atol=ATOL)
