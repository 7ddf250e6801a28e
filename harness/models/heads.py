"""Matryoshka dims: stella's ``2_Dense_{dim}`` Linear heads, or plain truncation.

The encoder keeps the pooled vector; a dim is derived from it here, so every dim of one model
comes from the same encode pass (and the same cache entry). Heads are read from the model folder,
or fetched one folder at a time from the hub when the model was loaded by hub id (a
sentence-transformers load only downloads the head named in ``modules.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from harness.errors import ModelLoadError, UsageError

HEAD_PREFIX = "2_Dense_"
DIM_MODES = ("none", "head", "truncate")
Head = tuple[np.ndarray, np.ndarray | None]


def available_head_dims(model_dir: str | Path) -> list[int]:
    """Dims for which a local model folder has a ``2_Dense_{dim}`` head."""
    folder = Path(model_dir)
    if not folder.is_dir():
        return []
    return sorted(int(p.name.removeprefix(HEAD_PREFIX)) for p in folder.glob(f"{HEAD_PREFIX}*")
                  if p.name.removeprefix(HEAD_PREFIX).isdigit())


def dense_module(model_dir: Path, dim: int) -> Path | None:
    """The folder of a sentence-transformers Dense module in ``modules.json`` with ``dim``
    outputs (a folder without a recipe names its head so, e.g. ``2_Dense``)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
    except (OSError, ValueError):
        return None
    for entry in modules if isinstance(modules, list) else []:
        folder = model_dir / str(entry.get("path", ""))
        config = folder / "config.json"
        if (str(entry.get("type", "")).endswith(".Dense") and config.is_file()
                and json.loads(config.read_text()).get("out_features") == dim):
            return folder
    return None


def head_folder(model_dir: str | Path, dim: int, revision: str | None = None) -> Path:
    """The ``2_Dense_{dim}`` folder: in the local model folder, else fetched from the hub."""
    if Path(model_dir).is_dir():
        folder = Path(model_dir) / f"{HEAD_PREFIX}{dim}"
        return folder if folder.is_dir() else dense_module(Path(model_dir), dim) or folder
    from huggingface_hub import snapshot_download

    try:
        snapshot = snapshot_download(str(model_dir), revision=revision,
                                     allow_patterns=[f"{HEAD_PREFIX}{dim}/*"])
    except Exception as exc:  # hub and network errors come in many types
        raise ModelLoadError(
            f"cannot fetch head {HEAD_PREFIX}{dim} of {str(model_dir)!r} ({type(exc).__name__}); "
            f"without hub access pass a local copy with model.path=/path/to/"
            f"{str(model_dir).split('/')[-1]}"
        ) from exc
    return Path(snapshot) / f"{HEAD_PREFIX}{dim}"


def load_head(model_dir: str | Path, dim: int, revision: str | None = None) -> Head:
    """Weight (dim x hidden) and bias of ``2_Dense_{dim}`` (safetensors or PyTorch bin)."""
    folder = head_folder(model_dir, dim, revision)
    if not folder.is_dir():
        raise UsageError(f"model {str(model_dir)!r} has no {folder.name} head; dims with a "
                           f"head: {available_head_dims(folder.parent)}")
    config = json.loads((folder / "config.json").read_text()) if (
        folder / "config.json").exists() else {}
    activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
    if not activation.endswith("Identity"):
        raise UsageError(f"{folder}: only Linear heads (Identity activation) are supported, "
                           f"found {activation}")
    if (folder / "model.safetensors").exists():
        from safetensors.torch import load_file

        state = load_file(str(folder / "model.safetensors"))
    elif (folder / "pytorch_model.bin").exists():
        state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise UsageError(f"{folder}: no model.safetensors or pytorch_model.bin")
    weight = state["linear.weight"].float().numpy()
    bias = state.get("linear.bias")
    return weight, None if bias is None else bias.float().numpy()


class DimProjector:
    """Turns pooled vectors into the vectors scored for one dim."""

    def __init__(self, mode: str, model_dir: str | Path | None, normalize: bool,
                 revision: str | None = None):
        self.mode = mode
        self.model_dir = model_dir
        self.normalize = normalize
        self.revision = revision
        self._heads: dict[int, Head] = {}

    def prepare(self, dims: list[int | None]) -> None:
        """Load the heads of ``dims`` now, so a missing head fails before any encoding."""
        if self.mode == "head":
            for dim in dims:
                if dim is not None:
                    self._head(dim)

    def _head(self, dim: int) -> Head:
        if dim not in self._heads:
            self._heads[dim] = load_head(self.model_dir, dim, self.revision)
        return self._heads[dim]

    def __call__(self, pooled: np.ndarray, dim: int | None,
                 normalize: bool | None = None) -> np.ndarray:
        """The vectors of ``dim`` (None: native), L2-normalised when ``normalize`` (None: the
        model-wide setting) says so."""
        vectors = pooled.astype(np.float32, copy=False)
        if dim is not None and self.mode == "head":
            weight, bias = self._head(dim)
            vectors = vectors @ weight.T
            if bias is not None:
                vectors = vectors + bias
        elif dim is not None and self.mode == "truncate":
            if dim > vectors.shape[1]:
                raise UsageError(
                    f"dims={dim} exceeds the model's native dim {vectors.shape[1]}: truncation "
                    f"only shortens vectors (choose dims <= {vectors.shape[1]})")
            vectors = vectors[:, :dim]
        if self.normalize if normalize is None else normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.clip(norms, 1e-12, None)
        return vectors.astype(np.float32, copy=False)
