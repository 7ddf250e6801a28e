"""The mteb encoder: prompt -> tokenize -> forward -> pool -> [head / truncate] -> [normalise].

``HarnessEncoder`` implements mteb 2.x's ``EncoderProtocol`` so mteb's own evaluators do all
scoring. The prompt, max length and normalisation of each task and side come from the one
resolver (:mod:`harness.models.protocol`). Texts are deduplicated, sorted by token length and
packed into batches under a token budget; pooled vectors go to a store on disk
(:mod:`harness.vectors`: the embedding cache, or a temporary one) keyed by the exact input (and a
per-task max length), and are read back from it, so scoring another MRL dim (or the same text in
another split) costs no forward pass and memory holds one call's vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from mteb.models import ModelMeta
from mteb.models.abs_encoder import AbsEncoder
from mteb.models.model_meta import ScoringFunction
from mteb.types import PromptType
from tqdm.auto import tqdm

from harness.cache import EmbeddingCache, text_key
from harness.errors import HarnessRuntimeError, NonFiniteError, ResourceError
from harness.models.heads import DimProjector
from harness.models.loading import Backend
from harness.models.pooling import POOLINGS
from harness.models.protocol import TaskProtocol, resolve_for, side_of
from harness.schema import ModelConfig
from harness.vectors import VectorStore

if TYPE_CHECKING:
    from harness.workers import EncodePool

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
    loads the model. With ``workers`` the texts to encode go to one process per device instead.
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
        workers: EncodePool | None = None,
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
        self.store = VectorStore(cache)
        self.workers = workers
        self.precision_fallback = precision_fallback
        self.texts_encoded = 0
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

        Each distinct input is read from the store and encoded only when it is not there;
        every vector encoded goes to the store at once and is read back from it.
        """
        keys = self.entry_keys(prompt, texts, max_length)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        vectors, found = self.store.lookup(keys)
        if found.all():
            return vectors
        missing = np.flatnonzero(~found).tolist()
        wanted = [keys[i] for i in missing]
        self.encode_to_store(prompt, wanted, [texts[i] for i in missing], desc, max_length)
        encoded, stored = self.store.lookup(wanted)
        if not stored.all():
            raise HarnessRuntimeError(f"{int((~stored).sum())} vectors encoded for {desc} could "
                                      f"not be read back from {self.store.cache.folder}")
        if not found.any():
            return encoded
        vectors[missing] = encoded
        return vectors

    def entry_keys(self, prompt: str, texts: list[str],
                   max_length: int | None = None) -> list[bytes]:
        """The store keys of ``prompt + text`` truncated to ``max_length`` tokens: the
        model-wide max length is in the cache identity, only another one enters the key."""
        extra = () if max_length in (None, self.model_cfg.max_length) else (max_length,)
        return [text_key(prompt, text, *extra) for text in texts]

    def encode_to_store(self, prompt: str, keys: list[bytes], texts: list[str],
                        desc: str = "Encoding", max_length: int | None = None) -> None:
        """Encode the distinct inputs ``keys``/``texts`` (their keys under ``prompt`` and
        ``max_length``) and store them, without reading them back (encode jobs)."""
        todo = dict(zip(keys, texts, strict=True))
        if todo:
            self._encode_missing(prompt, list(todo.items()), desc, max_length)

    def forget(self) -> None:
        """End of a task: a temporary store is deleted (the disk cache keeps its vectors)."""
        self.store.forget()

    def close(self) -> None:
        """End of the run: stop the device workers, close the store."""
        if self.workers is not None:
            self.workers.close()
        self.store.close()

    @torch.inference_mode()
    def _encode_missing(self, prompt: str, items: list[tuple[bytes, str]], desc: str,
                        max_length: int | None = None) -> None:
        max_length = max_length or self.model_cfg.max_length
        if self.workers is not None:
            self.workers.encode(prompt, items, self.store.location(), desc, max_length)
            self.store.refresh()
            self.store.stored_elsewhere([key for key, _ in items])
            self.texts_encoded += len(items)
            return
        self.backend.set_max_length(max_length)
        inputs = [prompt + text for _, text in items]
        lengths = self.backend.token_lengths(inputs)
        progress = tqdm(total=len(inputs), desc=desc, unit="text", disable=not self.show_progress,
                        leave=False)
        for batch in pack_batches(lengths, self.batch_size, self.max_batch_tokens):
            pooled = self._forward([inputs[i] for i in batch], [i for i in batch])
            self.store.put([items[i][0] for i in batch], pooled)
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
