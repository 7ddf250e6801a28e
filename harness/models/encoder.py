"""The mteb encoder: prompt -> tokenize -> forward -> pool -> [head / truncate] -> [normalise].

``HarnessEncoder`` implements mteb 2.x's ``EncoderProtocol`` so mteb's own evaluators do all
scoring. The prompt, max length and normalisation of each task and side come from the one
resolver (:mod:`harness.models.protocol`). Texts are deduplicated, sorted by token length and
packed into batches under a token budget; pooled vectors are kept per exact input string (and
max length), so scoring another MRL dim (or the same text in another split) costs no forward
pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from mteb.models import ModelMeta
from mteb.models.abs_encoder import AbsEncoder
from mteb.models.model_meta import ScoringFunction
from mteb.types import PromptType
from tqdm.auto import tqdm

from harness.cache import EmbeddingCache, text_key
from harness.errors import NonFiniteError, ResourceError
from harness.models.heads import DimProjector
from harness.models.loading import Backend
from harness.models.pooling import POOLINGS
from harness.models.protocol import TaskProtocol, resolve_for, side_of
from harness.schema import ModelConfig

SIMILARITIES = {"cosine": ScoringFunction.COSINE, "dot": ScoringFunction.DOT_PRODUCT}


def pack_batches(lengths: list[int], batch_size: int, max_batch_tokens: int) -> Iterator[list[int]]:
    """Indices grouped into batches, longest first: at most ``batch_size`` texts and at most
    ``max_batch_tokens`` padded tokens per batch (a single longer text still gets a batch)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batch: list[int] = []
    for index in order:
        longest = lengths[batch[0]] if batch else lengths[index]
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * longest > max_batch_tokens):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch


@contextmanager
def float32_weights(module: torch.nn.Module) -> Iterator[None]:
    """Run a half-precision module in fp32 for the duration (the NaN/Inf fallback)."""
    dtype = next(module.parameters()).dtype
    module.float()
    try:
        yield
    finally:
        module.to(dtype)


class HarnessEncoder(AbsEncoder):
    """An mteb encoder for one recipe; ``dim`` selects the MRL dim that ``encode`` returns.

    ``backend`` may be a loader (a callable returning the Backend): the weights are then loaded
    only when some text actually needs encoding, so a run served wholly from the cache never
    loads the model.
    """

    def __init__(
        self,
        model: ModelConfig,
        backend: Backend | Callable[[], Backend],
        projector: DimProjector,
        *,
        batch_size: int = 32,
        max_batch_tokens: int = 16384,
        show_progress: bool = True,
        cache: EmbeddingCache | None = None,
        precision_fallback: bool = False,
    ):
        self.model_cfg = model
        self._backend = backend if isinstance(backend, Backend) else None
        self._load_backend = None if isinstance(backend, Backend) else backend
        self.projector = projector
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.show_progress = show_progress
        self.dim: int | None = None
        self.output_dim: int | None = None  # length of the vectors encode last returned
        self.model_prompts = dict(model.prompts)
        self.cache = cache
        self.precision_fallback = precision_fallback
        self.texts_encoded = 0
        self._pooled: dict[bytes, np.ndarray] = {}
        self._pool = POOLINGS[model.pooling]
        similarity = SIMILARITIES[model.similarity]
        self.mteb_model_meta = ModelMeta.create_empty(
            overwrites={"name": model.name, "revision": model.revision,
                        "similarity_fn_name": similarity}
        )

    @property
    def backend(self) -> Backend:
        """The loaded model (loaded now if it was given as a loader)."""
        if self._backend is None:
            assert self._load_backend is not None
            self._backend = self._load_backend()
        return self._backend

    @property
    def backend_loaded(self) -> bool:
        """Whether the weights were loaded (False for a run served wholly from the cache)."""
        return self._backend is not None

    def protocol_for(self, task_metadata: Any, prompt_type: PromptType | None) -> TaskProtocol:
        """The exact prompt, max length and normalisation for this task and side."""
        return resolve_for(self.model_cfg, task_metadata, side_of(prompt_type))

    def encode(
        self,
        inputs: Any,
        *,
        task_metadata: Any,
        hf_split: str,
        hf_subset: str,
        prompt_type: PromptType | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """Embed every text of ``inputs`` with the recipe's protocol for this task and side."""
        protocol = self.protocol_for(task_metadata, prompt_type)
        texts = [text for batch in inputs for text in batch["text"]]
        desc = f"{task_metadata.name} {side_of(prompt_type)}"
        pooled = self.pooled_vectors(protocol.prompt, texts, desc, protocol.max_length)
        vectors = self.projector(pooled, self.dim, normalize=protocol.normalize)
        if len(vectors):
            self.output_dim = vectors.shape[1]
        return vectors

    def pooled_vectors(self, prompt: str, texts: list[str], desc: str = "Encoding",
                       max_length: int | None = None) -> np.ndarray:
        """Pooled vectors (before head / truncation / normalisation) of ``prompt + text``,
        truncated to ``max_length`` tokens (None: the recipe's).

        Each distinct input is looked up in memory, then in the disk cache, and only then
        encoded; every vector encoded is appended to the cache at once.
        """
        max_length = max_length or self.model_cfg.max_length
        # the model-wide max length is in the cache identity; only another one enters the key
        extra = () if max_length == self.model_cfg.max_length else (max_length,)
        keys = [text_key(prompt, text, *extra) for text in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._pooled}
        if todo and self.cache is not None:
            found = self.cache.get(list(todo))
            self._pooled.update(found)
            todo = {k: t for k, t in todo.items() if k not in found}
        if todo:
            self.backend.set_max_length(max_length)
            self._encode_missing(prompt, list(todo.items()), desc)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._pooled[k] for k in keys])

    def forget(self) -> None:
        """Drop the in-memory vectors (between tasks, to bound memory)."""
        self._pooled.clear()

    @torch.inference_mode()
    def _encode_missing(self, prompt: str, items: list[tuple[bytes, str]], desc: str) -> None:
        inputs = [prompt + text for _, text in items]
        lengths = self.backend.token_lengths(inputs)
        progress = tqdm(total=len(inputs), desc=desc, unit="text", disable=not self.show_progress,
                        leave=False)
        for batch in pack_batches(lengths, self.batch_size, self.max_batch_tokens):
            pooled = self._forward([inputs[i] for i in batch], [i for i in batch])
            keys = [items[i][0] for i in batch]
            self._pooled.update(zip(keys, pooled, strict=True))
            if self.cache is not None:
                self.cache.put(keys, pooled)
            self.texts_encoded += len(batch)
            progress.update(len(batch))
        progress.close()

    def _forward(self, texts: list[str], positions: list[int]) -> np.ndarray:
        """Pooled vectors of one batch; on CUDA out-of-memory, halve the batch and retry."""
        try:
            features = self.backend.tokenize(texts)
            features = {k: v.to(self.backend.device) for k, v in features.items()}
            hidden = self.backend.token_embeddings(features)
            pooled = self._pool(hidden, features["attention_mask"]).float().cpu().numpy()
        except torch.cuda.OutOfMemoryError as exc:
            if len(texts) == 1:
                raise ResourceError(
                    "CUDA out of memory on a single text; lower model.max_length") from exc
            torch.cuda.empty_cache()
            half = len(texts) // 2
            return np.concatenate([self._forward(texts[:half], positions[:half]),
                                   self._forward(texts[half:], positions[half:])])
        except RuntimeError as exc:  # the CPU allocator's out-of-memory error
            if "can't allocate memory" not in str(exc) and "not enough memory" not in str(exc):
                raise
            raise ResourceError(
                f"out of memory on {self.backend.device} encoding a batch of {len(texts)} texts; "
                f"lower batch_size= (now {self.batch_size}) or max_batch_tokens= (now "
                f"{self.max_batch_tokens})") from exc
        bad = ~np.isfinite(pooled).all(axis=1)
        if bad.any():
            if not self.precision_fallback:
                first = int(bad.argmax())
                dtype = next(self.backend.module.parameters()).dtype
                raise NonFiniteError(
                    f"non-finite embedding (NaN/Inf) in {dtype} for text #{positions[first]} "
                    f"{texts[first][:60]!r}; rerun with precision=fp32 or precision_fallback=true")
            with float32_weights(self.backend.module):
                pooled[bad] = self._forward([t for t, b in zip(texts, bad, strict=True) if b],
                                            [p for p, b in zip(positions, bad, strict=True) if b])
        return pooled
