"""Dims x storage precision from one encode pass on a stella-layout model: every (dim,
precision) scored, each text encoded once, int8 and binary scores equal to mteb's
CompressionWrapper (and binary to sentence-transformers' quantize_embeddings) on plain
sentence-transformers vectors, and the report's Pareto figure."""

from __future__ import annotations

from pathlib import Path

import mteb
import numpy as np
import pytest
import torch
from mteb.models import CompressionWrapper
from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
from mteb.types import OutputDType
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Dense, Normalize, Pooling, Transformer
from sentence_transformers.util.quantization import quantize_embeddings

from harness.api import run
from harness.data.mirror import load_task_data
from harness.models.quantize import bytes_per_vector
from harness.report.pareto import pareto_front, run_bytes
from harness.results import find_run_folders, read_manifest, read_task_result
from harness.testing import make_mrl_model, mrl_overrides

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

DIMS = [32, 64]
TASKS = ["STSBenchmark", "SciFact"]


@pytest.fixture(scope="module")
def mrl_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mrl_model(tmp_path_factory.mktemp("mrl") / "model", DIMS)


def _run(model: Path, data: Path, out: Path, dims: list[int], quantize: str):
    return run([*mrl_overrides(model, DIMS), f"data_root={data}", f"output_dir={out}",
                "show_progress=false", "cache_dir=null", f"tasks.names=[{','.join(TASKS)}]",
                f"dims=[{','.join(map(str, dims))}]", f"quantize={quantize}"])


@pytest.fixture(scope="module")
def variants(mrl_model: Path, tiny_data: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("variants")
    return out, _run(mrl_model, tiny_data, out, DIMS, "[none,int8,ubinary]")


def reference_model(model: Path, dim: int) -> SentenceTransformer:
    """stella's pipeline in plain sentence-transformers: mean pooling, the 2_Dense_{dim} head,
    normalisation."""
    transformer = Transformer(str(model), max_seq_length=256)
    hidden = transformer.get_embedding_dimension()
    head = load_file(str(model / f"2_Dense_{dim}" / "model.safetensors"))
    dense = Dense(hidden, dim, bias=True, activation_function=torch.nn.Identity())
    dense.linear.load_state_dict({"weight": head["linear.weight"], "bias": head["linear.bias"]})
    return SentenceTransformer(modules=[transformer, Pooling(hidden, "mean"), dense, Normalize()],
                               device="cpu")


class Reference(SentenceTransformerEncoderWrapper):
    """mteb's sentence-transformers encoder, each distinct text encoded once by
    ``SentenceTransformer.encode`` (the model has no prompts)."""

    def __init__(self, model: SentenceTransformer):
        super().__init__(model)
        self.vectors: dict[str, np.ndarray] = {}

    def encode(self, inputs, **kwargs):
        texts = [text for batch in inputs for text in batch["text"]]
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.model.encode(missing, batch_size=32),
                                    strict=True))
        return np.stack([self.vectors[t] for t in texts])


class BinaryReference(Reference):
    """sentence-transformers' ``quantize_embeddings(precision="ubinary")``, unpacked to the
    0/1 values the model's similarity scores."""

    def encode(self, inputs, **kwargs):
        packed = quantize_embeddings(super().encode(inputs, **kwargs), precision="ubinary")
        return np.unpackbits(packed, axis=1).astype(np.float32)


def reference_score(model, task_name: str, data: Path) -> float:
    task = mteb.get_task(task_name)
    load_task_data(task, str(data))
    result = mteb.evaluate(model, task, cache=None, overwrite_strategy="always",
                           show_progress_bar=False, encode_kwargs={"batch_size": 32})
    return float(result.task_results[0].main_score)


def test_every_dim_and_precision_from_one_encode(variants, mrl_model: Path, tiny_data: Path,
                                                 tmp_path: Path):
    out, summary = variants
    runs = {(r.dim, r.quantize) for r in find_run_folders(out)}
    # the recipe's default dim (the first) is the plain revision folder, as in the results repo
    assert runs == {(None if d == DIMS[0] else d, q) for d in DIMS
                    for q in ("none", "int8", "ubinary")}
    single = _run(mrl_model, tiny_data, tmp_path, DIMS[:1], "[none]")
    assert summary.texts_encoded == single.texts_encoded > 0
    assert len(summary.evaluated) == len(TASKS) * 6


@pytest.mark.parametrize("dim", DIMS)
def test_quantised_scores_equal_mteb_compression_wrapper(variants, mrl_model: Path,
                                                         tiny_data: Path, dim: int):
    out, summary = variants
    folders = {(d, q): f for (d, q), f in summary.folders.items()}
    model = reference_model(mrl_model, dim)
    plain, binary = Reference(model), BinaryReference(model)
    binary.vectors = plain.vectors
    for task_name in TASKS:
        ours = {q: read_task_result(folders[(dim, q)] / f"{task_name}.json").main_score
                for q in ("none", "int8", "ubinary")}
        assert ours["none"] == pytest.approx(reference_score(plain, task_name, tiny_data),
                                             abs=1e-6)
        for quantize, dtype in (("int8", OutputDType.INT8), ("ubinary", OutputDType.BINARY)):
            meta = plain.mteb_model_meta
            wrapped = CompressionWrapper(plain, dtype)  # rewrites plain's meta: restored below
            assert ours[quantize] == pytest.approx(
                reference_score(wrapped, task_name, tiny_data), abs=1e-6), (task_name, quantize)
            plain.mteb_model_meta = meta
        packed = reference_score(binary, task_name, tiny_data)
        assert ours["ubinary"] == pytest.approx(packed, abs=1e-6)
        assert ours["int8"] != ours["none"]  # the precision really changed the vectors


def test_manifest_records_bytes_per_vector(variants):
    out, summary = variants
    for (dim, quantize), folder in summary.folders.items():
        entries = read_manifest(folder)["tasks"].values()
        assert {e["bytes_per_vector"] for e in entries} == {bytes_per_vector(dim, quantize)}
    # float32: 4 bytes a value, int8: 1, ubinary: 1 bit
    assert sorted(run_bytes(out).values()) == [4, 8, 32, 64, 128, 256]


def test_report_draws_the_pareto_front(variants, tmp_path: Path):
    from harness.api import write_report

    out, _ = variants
    files = write_report(out, tmp_path / "report")
    assert (tmp_path / "report" / "pareto.png") in files.images
    assert "Score vs bytes per vector" in files.markdown.read_text()


def test_pareto_front_keeps_undominated_points():
    import pandas as pd

    points = pd.DataFrame({"bytes": [4, 8, 32, 64, 128], "STS": [50.0, 48.0, 70.0, 70.0, 80.0]},
                          index=list("abcde"))
    assert list(pareto_front(points, "STS").index) == ["a", "c", "e"]
