"""Pooling of token embeddings into one vector per text, shared by every backend.

The formulas follow the model cards' snippets: ``average_pool`` (gte, e5, stella), the first
token (CLS: gte-v1.5, bge) and ``last_token_pool`` (e5-mistral, gte-Qwen2), which finds the
last real token under both left and right padding.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from harness.registry import Registry

Pooler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
POOLINGS: Registry[Pooler] = Registry("pooling")


@POOLINGS.register("mean")
def mean_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token embeddings under the attention mask."""
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)
    summed = (token_embeddings * mask).sum(dim=1)
    return summed / mask.sum(dim=1).clamp(min=1e-9)


@POOLINGS.register("cls")
def cls_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The first real token's embedding: ``[:, 0]`` under right padding, as in the cards, and
    still the CLS token when a batch is left-padded."""
    first = attention_mask.int().argmax(dim=1)
    rows = torch.arange(token_embeddings.shape[0], device=token_embeddings.device)
    return token_embeddings[rows, first]


@POOLINGS.register("last_token")
def last_token_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The last non-padding token's embedding, for left- or right-padded batches."""
    left_padded = bool((attention_mask[:, -1] == 1).all())
    if left_padded:
        return token_embeddings[:, -1]
    last = attention_mask.sum(dim=1) - 1
    rows = torch.arange(token_embeddings.shape[0], device=token_embeddings.device)
    return token_embeddings[rows, last]
