"""Run folders of every (dim, storage precision): names, labels and parsing back; config
validation of quantize; the manifest fields the Pareto figure reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config, run_variants
from harness.errors import UsageError
from harness.models.quantize import bytes_per_vector
from harness.results import FLOAT32, run_folder, run_folder_of

REV = "abc1234"
CASES = [(None, "none", REV, None), (256, "none", f"{REV}/experiments/dim_256", "dim 256"),
         (256, "int8", f"{REV}/experiments/dim_256_int8", "dim 256, int8"),
         (None, "ubinary", f"{REV}/experiments/ubinary", "ubinary"),
         (64, "ubinary", f"{REV}/experiments/dim_64_ubinary", "dim 64, ubinary")]


@pytest.mark.parametrize(("dim", "quantize", "relative", "variant"), CASES)
def test_run_folders_name_and_parse_every_variant(dim, quantize, relative, variant):
    root = Path("/results")
    folder = run_folder(root, "org/model", REV, dim, quantize)
    assert folder == root / "org__model" / relative
    run = run_folder_of(root, folder)
    assert (run.model, run.revision, run.dim, run.quantize) == ("org/model", REV, dim, quantize)
    assert run.label == ("org/model" if variant is None else f"org/model ({variant})")


@pytest.mark.parametrize("name", ["dim_256int8", "int8_", "dim_", "dim_12_fp16"])
def test_other_experiment_folders_are_no_variant(name: str):
    run = run_folder_of(Path("/r"), Path(f"/r/org__model/rev/experiments/{name}"))
    assert run.dim is None and run.quantize == FLOAT32


def test_quantize_config_is_validated_and_crossed_with_dims():
    assert run_variants(load_config(["quantize=[none,int8,ubinary]"])) == [
        (None, "none"), (None, "int8"), (None, "ubinary")]
    assert run_variants(load_config([])) == [(None, "none")]
    with pytest.raises(UsageError, match="unknown quantize 'int4'.*did you mean 'int8'"):
        load_config(["quantize=[int4]"])
    assert load_config(["save_predictions=true"]).save_predictions is True


def test_bytes_per_vector():
    assert [bytes_per_vector(384, q) for q in ("none", "int8", "ubinary")] == [1536, 384, 48]
    assert bytes_per_vector(36, "ubinary") == 5  # bits pack into whole bytes
