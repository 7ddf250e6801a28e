"""Every input a task's evaluation encodes, without scoring it: mteb's own evaluation, run with
placeholder vectors.

An encode job and ``harness status --cache-dir`` must see exactly the (prompt, text) inputs a
scoring run encodes. So they run ``mteb.evaluate`` on :class:`InputVisitor`: mteb loads the task
and builds its dataloaders as always, the visitor resolves each call's prompt as the encoder does
and hands the prompt and texts to a callback, and returns small random vectors in their place.
Scoring those is cheap, except retrieval's full-corpus search (a top-k merge per corpus chunk):
there the visitor is mteb's search model and scores nothing
(:func:`harness._compat.unscored_search`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mteb
import numpy as np
from mteb.models.abs_encoder import AbsEncoder
from mteb.types import PromptType

from harness._compat import unscored_search
from harness.models.encoder import HarnessEncoder
from harness.models.protocol import side_of

PLACEHOLDER_DIM = 8
Visit = Callable[[str, list[str], str, int], None]  # (prompt, texts, description, max length)


class InputVisitor(AbsEncoder):
    """An mteb encoder (and search model) that passes every encode call's prompt and texts to
    ``visit`` and returns placeholder vectors."""

    def __init__(self, encoder: HarnessEncoder, visit: Visit):
        self.encoder = encoder
        self.visit = visit
        self.mteb_model_meta = encoder.mteb_model_meta
        self._corpus: tuple[Any, dict] | None = None

    def encode(self, inputs: Any, *, task_metadata: Any, hf_split: str, hf_subset: str,
               prompt_type: PromptType | None = None, **kwargs: Any) -> np.ndarray:
        """Visit the texts of ``inputs`` under the recipe's prompt and max length for this task
        and side."""
        protocol = self.encoder.protocol_for(task_metadata, prompt_type)
        texts = [text for batch in inputs for text in batch["text"]]
        self.visit(protocol.prompt, texts, f"{task_metadata.name} {side_of(prompt_type)}",
                   protocol.max_length)
        rng = np.random.default_rng(len(texts))
        return rng.standard_normal((len(texts), PLACEHOLDER_DIM)).astype(np.float32)

    def index(self, corpus: Any, **kwargs: Any) -> None:
        """Keep the corpus of a retrieval split until its queries come."""
        self._corpus = (corpus, kwargs)

    def search(self, queries: Any, *, top_ranked: Any = None, **kwargs: Any) -> dict:
        """Visit the split's queries and documents; nothing is ranked."""
        assert self._corpus is not None
        corpus, index_kwargs = self._corpus
        self._corpus = None
        return unscored_search(self, corpus, index_kwargs, queries, top_ranked, **kwargs)


def visit_task_inputs(task: Any, encoder: HarnessEncoder, visit: Visit, batch_size: int) -> None:
    """Run ``task``'s evaluation (its data already loaded or pointed at) on an
    :class:`InputVisitor`; the scores of the placeholders are discarded."""
    mteb.evaluate(InputVisitor(encoder, visit), task, cache=None, overwrite_strategy="always",
                  raise_error=True,
                  encode_kwargs={"batch_size": batch_size, "show_progress_bar": False},
                  show_progress_bar=False)
