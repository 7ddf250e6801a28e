"""Device and precision choices, and how ``auto`` resolves on this machine."""

from __future__ import annotations

import torch

from harness.errors import UsageError

TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", *TORCH_DTYPES)


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when available, else cpu; asking for cuda without one is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("device=cuda but no CUDA GPU is visible; valid choices here: auto, cpu")
    return device


def resolve_precision(precision: str, recipe_dtype: str, device: str) -> str:
    """``auto`` -> the recipe's dtype on CUDA and fp32 on CPU; fp16 needs CUDA."""
    if precision == "auto":
        return recipe_dtype if device == "cuda" else "fp32"
    if precision == "fp16" and device != "cuda":
        raise UsageError("precision=fp16 needs device=cuda; on CPU use fp32 or bf16")
    return precision


AUTOCASTS = ("fp16", "bf16")


def resolve_autocast(autocast: str | None, precision: str, resolved: str, device: str
                     ) -> str | None:
    """The autocast dtype a run uses: the recipe's over fp32 weights only (half weights need
    none); with ``precision=auto`` on CPU an fp16 autocast falls back to fp32, as an fp16 dtype
    does, while bf16 stays."""
    if autocast is None or resolved != "fp32":
        return None
    if device != "cuda" and autocast == "fp16" and precision == "auto":
        return None
    return autocast
