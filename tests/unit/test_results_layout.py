"""The results-repo layout: the embedded MiniLM's run lands in its pinned revision's folder and
``harness compare`` against a results-repo-style folder lines it up revision for revision; a
model's default MRL dim is the plain ``<revision>/`` folder, other dims and experiments (another
protocol of the same model) live under ``experiments/``; old names select the current recipe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import MINILM, MINILM_REVISION, run_settings, save_results, synthetic_result

from harness.api import run
from harness.config import load_config
from harness.report.compare import compare
from harness.results import find_run_folders, read_task_result, run_folder, run_folder_of
from harness.testing import make_mrl_model, mrl_overrides

OTHER_REVISION = "0" * 40


def test_embedded_run_is_filed_under_its_pinned_revision(tiny_results: Path) -> None:
    assert tiny_results.parts[-2:] == ("sentence-transformers__all-MiniLM-L6-v2", MINILM_REVISION)
    assert sorted(p.stem for p in tiny_results.glob("*.json") if p.stem != "run_manifest")


@pytest.fixture
def results_repo(tiny_results: Path, tmp_path: Path) -> Path:
    """A results-repo folder: this model's files at its revision, and other scores for the same
    tasks at another revision and under external/ (which compare must not pick)."""
    repo = tmp_path / "results"
    target = repo / tiny_results.parent.name / MINILM_REVISION
    target.mkdir(parents=True)
    for path in tiny_results.glob("*.json"):
        if path.name != "run_manifest.json":
            shutil.copy(path, target / path.name)
    for revision in (OTHER_REVISION, "external"):
        save_results([synthetic_result("STSBenchmark", {"default": {
            "cosine_spearman": 0.1, "main_score": 0.1}})], repo, MINILM, revision=revision)
    return repo


def test_compare_lines_up_revision_for_revision(tiny_results: Path, results_repo: Path) -> None:
    report = compare(tiny_results.parent.parent, str(results_repo))
    (section,) = report.sections
    assert section.run == f"{MINILM} @ {MINILM_REVISION}"
    assert {row.task for row in report.rows} == {
        p.stem for p in tiny_results.glob("*.json") if p.stem != "run_manifest"}
    assert all(row.source == MINILM_REVISION and row.delta == 0 for row in report.rows)
    assert report.ok and not section.ours_only and not section.published_only


def test_default_dim_is_the_plain_folder(tiny_data_root: Path, tiny_cache: Path,
                                         tmp_path: Path) -> None:
    model_dir = make_mrl_model(tmp_path / "mrl", [32, 64])
    run(["tasks.names=[BIOSSES]", *mrl_overrides(model_dir, [64, 32]), "dims=[64,32]",
         *run_settings(tiny_data_root, tmp_path / "out", tiny_cache)])
    runs = {(r.dim, r.path.relative_to(tmp_path / "out").as_posix())
            for r in find_run_folders(tmp_path / "out")}
    assert runs == {(None, "harness-test__minilm-mrl/local"),
                    (32, "harness-test__minilm-mrl/local/experiments/dim_32")}
    plain = read_task_result(tmp_path / "out" / "harness-test__minilm-mrl/local/BIOSSES.json")
    assert plain is not None


@pytest.mark.parametrize(("args", "relative", "label"), [
    ((None, "none", "card"), "abc1234/experiments/card", "org/m (card)"),
    ((256, "none", "card"), "abc1234/experiments/card__dim_256", "org/m (card, dim 256)"),
    ((256, "int8", "card"), "abc1234/experiments/card__dim_256_int8",
     "org/m (card, dim 256, int8)"),
    ((None, "ubinary", None), "abc1234/experiments/ubinary", "org/m (ubinary)"),
])
def test_experiment_folders_name_and_parse(args: tuple, relative: str, label: str) -> None:
    root = Path("/r")
    folder = run_folder(root, "org/m", "abc1234", *args)
    assert folder == root / "org__m" / relative
    parsed = run_folder_of(root, folder)
    assert (parsed.dim, parsed.quantize, parsed.experiment, parsed.label) == (*args, label)
    assert run_folder_of(root, root / "org__m/abc1234/experiments/my-run").experiment == "my-run"


def test_old_names_select_the_current_recipe(tmp_path: Path, monkeypatch) -> None:
    model = load_config(["model=dunzhang/stella_en_1.5B_v5"]).model
    assert (model.name, model.experiment) == ("NovaSearch/stella_en_1.5B_v5", None)
    assert load_config(["model.name=dunzhang/stella_en_1.5B_v5"]).model.name == (
        "NovaSearch/stella_en_1.5B_v5")
    assert load_config(["model=intfloat/e5-small-v2"]).model.name == "intfloat/e5-small-v2"
    card = load_config(["model=stella_en_1.5B_v5-card"]).model
    assert card.name == model.name and card.experiment  # the same model, another folder
