"""Device and precision choices, and how ``auto`` (and ``cuda:all``) resolve on this machine."""

from __future__ import annotations

import re

import torch

from harness.errors import UsageError, unknown_choice

TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
DEVICES = ("auto", "cpu", "cuda", "cuda:all")  # and cuda:N
PRECISIONS = ("auto", *TORCH_DTYPES)
_ONE_DEVICE = re.compile(r"cpu|cuda|cuda:\d+|\d+")  # an entry of devices=[...]; N means cuda:N


def device_kind(device: str) -> str:
    """``cpu`` or ``cuda`` (what precision and the cache namespace depend on)."""
    return device.split(":")[0]


def check_devices(device: str, devices: list[str] | None) -> None:
    """``device=`` and ``devices=`` are valid names (whatever this machine has)."""
    if device not in DEVICES and not re.fullmatch(r"cuda:\d+", device):
        raise unknown_choice("device", device, [*DEVICES, "cuda:N"])
    if devices is None:
        return
    if device != "auto":
        raise UsageError(f"device={device} and devices={list(devices)}: give one of them")
    if not devices:
        raise UsageError("devices=[] names no device; e.g. devices=[cuda:0,cuda:1] or [cpu,cpu]")
    for entry in map(str, devices):
        if not _ONE_DEVICE.fullmatch(entry):
            raise unknown_choice("entry of devices", entry, ["cpu", "cuda", "cuda:N", "N"])
    kinds = {device_kind(_named(entry)) for entry in map(str, devices)}
    if len(kinds) > 1:
        raise UsageError(f"devices={list(devices)} mixes cpu and cuda; a run encodes in one "
                         "precision, so its devices are all GPUs or all CPU")


def _named(entry: str) -> str:
    return f"cuda:{entry}" if entry.isdigit() else entry


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when available, else cpu; asking for cuda without one is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device_kind(device) == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device={device} but no CUDA GPU is visible; valid choices here: "
                             "auto, cpu")
        if ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
            raise UsageError(f"device {device} does not exist: {torch.cuda.device_count()} "
                             "CUDA GPU(s) are visible")
    return device


def resolve_devices(device: str, devices: list[str] | None) -> list[str]:
    """The devices a run encodes on: ``devices=[...]`` (a bare number N is ``cuda:N``),
    ``device=cuda:all`` (every visible GPU), else the one ``device=``."""
    if devices:
        return [resolve_device(_named(entry)) for entry in map(str, devices)]
    if device == "cuda:all":
        count = torch.cuda.device_count()
        if count == 0:
            raise UsageError("device=cuda:all but no CUDA GPU is visible; valid choices here: "
                             "auto, cpu")
        return [f"cuda:{index}" for index in range(count)]
    return [resolve_device(device)]


def resolve_precision(precision: str, recipe_dtype: str, device: str) -> str:
    """``auto`` -> the recipe's dtype on CUDA and fp32 on CPU; fp16 needs CUDA."""
    if precision == "auto":
        return recipe_dtype if device_kind(device) == "cuda" else "fp32"
    if precision == "fp16" and device_kind(device) != "cuda":
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
