"""The package as its users install it: the wheel holds the configs, and its ``harness`` command,
installed in a fresh virtualenv (reusing the installed dependencies), lists every recipe and a
user's own and explains a recipe from another directory. (tests/integration/test_wheel_run.py
runs ``harness run`` with it.)"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from support import REPO, run_installed, wheel_venv, write_files

from harness.config import config_options

# processes, builds or many runs: seconds each, so the integration tier (tests/conftest.py)
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel_venv(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_ships_every_config_and_no_tests(venv_bin: Path) -> None:
    (wheel,) = (venv_bin.parents[1] / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.relative_to(REPO).as_posix() for p in
                     (REPO / "harness" / "configs").rglob("*.yaml"))
    assert shipped and set(shipped) <= set(names)
    assert "harness/configs/config.yaml" in names
    assert any(n.startswith("harness/references/") and n.endswith(".yaml") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "results/", "scripts/"))]


def test_the_venv_imports_the_installed_package_not_the_checkout(venv_bin: Path,
                                                                 tmp_path: Path) -> None:
    """The system site-packages hold an editable install of some checkout; its finder runs
    after the path entries, so the venv's own copy wins."""
    found = subprocess.run([str(venv_bin / "python"), "-c",
                            "import harness; print(harness.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True,
                           env={"PATH": str(venv_bin)}).stdout.strip()
    assert Path(found).is_relative_to(venv_bin.parent / "lib"), found
    assert "site-packages" in Path(found).parts


def test_list_models_shows_every_recipe_and_a_user_one(venv_bin: Path, tmp_path: Path) -> None:
    mine = write_files(tmp_path / "my-configs", {
        "model/mine.yaml": "defaults:\n  - minilm\n  - _self_\nname: me/mine\n"})
    proc = run_installed(venv_bin, "list", "models", cwd=tmp_path,
                         env={"HARNESS_CONFIG_PATH": str(mine)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")]
                                          for line in proc.stdout.splitlines()[2:])}
    assert set(rows) == {*config_options("model"), "mine"}
    assert {rows[r][5] for r in config_options("model")} == {"package"}
    assert rows["mine"][1] == "me/mine" and rows["mine"][5] == str(mine.resolve())
    assert rows["mine"][3:5] == rows["minilm"][3:5]  # pooling, max_length inherited


def test_explain_a_recipe_from_another_directory(venv_bin: Path, tmp_path: Path) -> None:
    proc = run_installed(venv_bin, "explain", "model=gte-small", "tasks.names=[STSBenchmark]",
                         cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "thenlper/gte-small" in proc.stdout
    assert any(line.startswith("| STSBenchmark ") and "symmetric" in line
               for line in proc.stdout.splitlines())
