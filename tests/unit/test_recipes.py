"""Model recipes: each composes with its published protocol's choices, pins the revision of its
published results (or says why none is known), and fails with one clear line when its weights
cannot be had offline."""

from __future__ import annotations

import re

import pytest

from harness.config import config_options, load_config
from harness.errors import HarnessError

RECIPES = config_options("model")
HUB_RECIPES = [r for r in RECIPES if r != "minilm"]  # minilm's weights ship in a pip package
STELLA_DIMS = [256, 512, 768, 1024, 2048, 4096, 6144, 8192]

# recipe -> the published protocol's choices: backend, pooling, max_length, dtype, autocast,
# append_eos, trust_remote_code (per task and side, tests/unit/test_protocol_tables.py checks
# the inputs, normalisation and token budget against the authors' scripts)
CHOICES = {
    "minilm": ("sentence-transformers", "mean", 256, "fp32", None, False, False),
    "stella_en_1.5B_v5": ("sentence-transformers", "mean", 512, "fp32", None, False, True),
    "stella_en_400M_v5": ("sentence-transformers", "mean", 512, "fp32", None, False, True),
    "stella_en_1.5B_v5-card": ("sentence-transformers", "mean", 512, "fp32", None, False, True),
    "stella_en_400M_v5-card": ("sentence-transformers", "mean", 512, "fp32", None, False, True),
    "stella-base-en-v2": ("sentence-transformers", "mean", 512, "fp32", None, False, False),
    "stella-base-zh-v2": ("sentence-transformers", "mean", 512, "fp16", None, False, False),
    "stella-large-zh-v2": ("sentence-transformers", "mean", 512, "fp16", None, False, False),
    "stella-base-zh": ("sentence-transformers", "mean", 512, "fp16", None, False, False),
    "stella-large-zh": ("sentence-transformers", "mean", 512, "fp16", None, False, False),
    "gte-large-en-v1.5": ("transformers", "cls", 8192, "fp32", "fp16", False, True),
    "gte-base-en-v1.5": ("transformers", "cls", 8192, "fp32", "fp16", False, True),
    "gte-small": ("sentence-transformers", "mean", 512, "fp32", None, False, False),
    "gte-base": ("sentence-transformers", "mean", 512, "fp32", None, False, False),
    "gte-large": ("sentence-transformers", "mean", 512, "fp32", None, False, False),
    "e5-mistral-7b-instruct": ("transformers", "last_token", 512, "fp16", "fp16", True, False),
    "gte-Qwen2-1.5B-instruct": ("transformers", "last_token", 512, "fp16", None, True, True),
    "e5-small-v2": ("sentence-transformers", "mean", 512, "fp32", "fp16", False, False),
    "bge-small-en-v1.5": ("sentence-transformers", "cls", 512, "fp32", None, False, False),
}


def test_every_recipe_has_its_choices_listed() -> None:
    assert sorted(CHOICES) == RECIPES


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_composes_with_its_protocol_choices(recipe: str) -> None:
    model = load_config([f"model={recipe}"]).model
    assert (model.backend, model.pooling, model.max_length, model.dtype, model.autocast,
            model.append_eos, model.trust_remote_code) == CHOICES[recipe]
    assert model.source.startswith("https://")
    if model.revision is None:  # only where neither the results repo nor mteb knows one
        assert "No revision is pinned" in model.notes
    else:
        assert re.fullmatch(r"[0-9a-f]{40}", model.revision)
    if model.dim_mode == "head":
        assert list(model.dims) == STELLA_DIMS and model.default_dim == 1024
    else:
        assert model.dim_mode == "none" and not model.dims


def test_list_models_shows_every_recipe_with_its_card() -> None:
    from harness.api import list_models

    table = list_models()
    for recipe in RECIPES:
        model = load_config([f"model={recipe}"]).model
        line = next(row for row in table.splitlines() if f"| {recipe} " in row)
        assert model.source in line and model.pooling in line


def test_mrl_dim_outside_the_recipe_is_rejected() -> None:
    with pytest.raises(HarnessError, match="unknown dim 300"):
        load_config(["model=stella_en_1.5B_v5", "dims=[300]"])
    assert load_config(["model=stella_en_1.5B_v5", "dims=[256,8192]"]).dims == [256, 8192]


def _attempt(load) -> str:
    try:
        load()
    except HarnessError as exc:
        return str(exc)
    return "loaded"


@pytest.fixture(scope="module")
def offline_errors() -> dict[str, str]:
    """Each hub recipe loaded with the hub switched off (tests/unit/conftest.py sets
    HF_HUB_OFFLINE=1 before huggingface_hub is imported)."""
    from huggingface_hub import constants

    from harness.models.heads import DimProjector
    from harness.models.loading import load_backend

    assert constants.HF_HUB_OFFLINE, "the hub must be off for this test"
    out = {}
    for recipe in HUB_RECIPES:
        model = load_config([f"model={recipe}"]).model
        out[recipe] = _attempt(lambda model=model: load_backend(model, "cpu", "fp32"))
    stella = DimProjector("head", "dunzhang/stella_en_1.5B_v5", normalize=True)
    out["head"] = _attempt(lambda: stella.prepare([1024]))
    return out


@pytest.mark.parametrize("recipe", HUB_RECIPES)
def test_unavailable_weights_fail_with_one_line_naming_the_fix(
        recipe: str, offline_errors: dict[str, str]) -> None:
    message = offline_errors[recipe]
    name = load_config([f"model={recipe}"]).model.name
    assert message.startswith(f"cannot load model {name!r}")
    assert f"model.path=/path/to/{name.split('/')[-1]}" in message
    assert "\n" not in message and len(message) < 500


def test_unavailable_mrl_head_fails_with_one_line(offline_errors: dict[str, str]) -> None:
    message = offline_errors["head"]
    assert message.startswith("cannot fetch head 2_Dense_1024 of 'dunzhang/stella_en_1.5B_v5'")
    assert "model.path=/path/to/stella_en_1.5B_v5" in message and "\n" not in message
