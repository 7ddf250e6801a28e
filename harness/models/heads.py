"""Matryoshka dims: stella's ``2_Dense_{dim}`` Linear heads, or plain truncation.

The encoder keeps the pooled vector; a dim is derived from it here, so every dim of one model
comes from the same encode pass (and the same cache entry).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from harness.errors import HarnessError

HEAD_PREFIX = "2_Dense_"


def available_head_dims(model_dir: str | Path) -> list[int]:
    """Dims for which the model folder has a ``2_Dense_{dim}`` head."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return []
    return sorted(int(p.name.removeprefix(HEAD_PREFIX)) for p in folder.glob(f"{HEAD_PREFIX}*")
                  if p.name.removeprefix(HEAD_PREFIX).isdigit())


def load_head(model_dir: str | Path, dim: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Weight (dim x hidden) and bias of ``2_Dense_{dim}`` (safetensors or PyTorch bin)."""
    folder = Path(model_dir) / f"{HEAD_PREFIX}{dim}"
    if not folder.is_dir():
        raise HarnessError(
            f"model folder {str(model_dir)!r} has no {folder.name} head; available dims: "
            f"{available_head_dims(model_dir)}"
        )
    config = json.loads((folder / "config.json").read_text()) if (
        folder / "config.json").exists() else {}
    activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
    if not activation.endswith("Identity"):
        raise HarnessError(f"{folder}: only Linear heads (Identity activation) are supported, "
                           f"found {activation}")
    if (folder / "model.safetensors").exists():
        from safetensors.torch import load_file

        state = load_file(str(folder / "model.safetensors"))
    elif (folder / "pytorch_model.bin").exists():
        state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise HarnessError(f"{folder}: no model.safetensors or pytorch_model.bin")
    weight = state["linear.weight"].float().numpy()
    bias = state.get("linear.bias")
    return weight, None if bias is None else bias.float().numpy()


class DimProjector:
    """Turns pooled vectors into the vectors scored for one dim."""

    def __init__(self, mode: str, model_dir: str | Path | None, normalize: bool):
        self.mode = mode
        self.model_dir = model_dir
        self.normalize = normalize
        self._heads: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}

    def __call__(self, pooled: np.ndarray, dim: int | None) -> np.ndarray:
        vectors = pooled.astype(np.float32, copy=False)
        if dim is not None and self.mode == "head":
            if dim not in self._heads:
                self._heads[dim] = load_head(self.model_dir, dim)
            weight, bias = self._heads[dim]
            vectors = vectors @ weight.T
            if bias is not None:
                vectors = vectors + bias
        elif dim is not None and self.mode == "truncate":
            vectors = vectors[:, :dim]
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.clip(norms, 1e-12, None)
        return vectors.astype(np.float32, copy=False)
