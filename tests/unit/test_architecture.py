"""The seams the next engineer reads: no import cycle in the harness package (the graph rebuilt
from the source with ``ast``), ``harness/cli`` reaches the library only through ``harness.api``,
and every shipped config (model recipes, task lists, launcher presets) composes."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from support import cli, write_files

import harness
from harness.config import config_files, config_options, load_config

PACKAGE = Path(harness.__file__).parent


# --- the import graph ---------------------------------------------------------------------------


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of ``package`` (a folder)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_modules(module: str, path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at module level or inside functions,
    except under ``if TYPE_CHECKING:`` (types only, never run). ``from pkg import name`` names
    ``pkg.name`` (a module, as in ``from harness import api``) and ``pkg``; relative imports are
    resolved against ``module``'s package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    class Imports(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test):
                for child in node.orelse:
                    self.visit(child)
            else:
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[:len(parts) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)

    Imports().visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    modules = module_files(package)
    return {name: {m for m in imported_modules(name, path) if m in modules and m != name}
            for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_through(min(group), group, graph) for group in groups]


def _cycle_through(start: str, group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """The shortest path ``start -> ... -> start`` inside ``group`` (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph[node] & group):
            if other == start:
                return [*paths[node], start]
            if other not in paths:
                paths[other] = [*paths[node], other]
                queue.append(other)
    raise AssertionError(f"{start} is in a strongly connected group without a cycle")


def test_the_harness_has_no_import_cycle() -> None:
    cycles = import_cycles(import_graph(PACKAGE))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_graph_holds_module_and_function_level_imports() -> None:
    graph = import_graph(PACKAGE)
    assert "harness.api" in graph["harness.cli.run"]  # from harness import api
    assert "harness.config" in graph["harness.api"]  # module level
    assert "harness.runner" in graph["harness.api"]  # inside run()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100


def test_cycle_finder_names_a_cycle_and_skips_type_checking(tmp_path: Path) -> None:
    package = write_files(tmp_path / "pkg", {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "def later():\n    from . import c\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
                "else:\n    import pkg.d\n",
        "d.py": "from .sub.e import thing\n",
        "sub/__init__.py": "",
        "sub/e.py": "from ..b import later as thing\n",
    })
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg", "pkg.b"} and "pkg.a" not in graph["pkg.c"]
    assert import_cycles(graph) == [["pkg.b", "pkg.c", "pkg.d", "pkg.sub.e", "pkg.b"]]


# --- the CLI reaches the library only through harness.api -------------------------------------


@pytest.mark.parametrize("module", sorted(m for m in module_files(PACKAGE)
                                          if m.startswith("harness.cli")))
def test_cli_module_imports_only_the_api_and_the_standard_library(module: str) -> None:
    modules = module_files(PACKAGE)
    names = imported_modules(module, modules[module]) - {"__future__", "harness"}
    allowed = {"harness.api"} | {m for m in modules if m.startswith("harness.cli")}
    harness_modules = {n for n in names if n in modules}  # not names from them (cli.main)
    assert harness_modules <= allowed, f"{module} imports {sorted(harness_modules - allowed)}"
    others = {n.split(".")[0] for n in names} - {"harness"}
    assert others <= sys.stdlib_module_names, f"{module} imports {sorted(others)}"


# --- every shipped config composes --------------------------------------------------------------


@pytest.mark.parametrize("recipe", config_options("model"))
def test_every_model_recipe_composes(recipe: str) -> None:
    cfg = load_config([f"model={recipe}"])
    assert cfg.model.name


@pytest.mark.parametrize("task_list", config_options("tasks"))
def test_every_task_list_composes(task_list: str) -> None:
    cfg = load_config([f"tasks={task_list}"])
    assert cfg.tasks.names or cfg.tasks.benchmark


LAUNCHERS = config_options("hydra/launcher")


def test_the_launcher_presets_are_shipped() -> None:
    assert LAUNCHERS == ["local", "slurm"]
    assert all(source.label == "package" for source, _ in config_files("hydra/launcher").values())


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_every_launcher_preset_composes(launcher: str, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    code, out, err = cli(capsys, "run", "-m", f"hydra/launcher={launcher}", "--cfg", "hydra")
    assert code == 0, err
    target = {"local": "LocalLauncher", "slurm": "SlurmLauncher"}[launcher]
    assert f"hydra_plugins.hydra_submitit_launcher.submitit_launcher.{target}" in out


# --- the test tiers ------------------------------------------------------------------------------


def test_the_unit_tier_takes_no_path_into_shared_data() -> None:
    """tests/unit and the helpers it uses never import the ../shared paths of tests/support.py
    (the integration tier's); a clone without ../shared runs the unit tier."""
    tests = Path(__file__).resolve().parents[1]
    for path in [*sorted((tests / "unit").glob("*.py")), tests / "tiny_tasks.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        taken = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module == "support" for alias in node.names}
        assert not taken & {"SHARED", "SHARED_DATA"}, path


def test_test_modules_have_unique_base_names_across_tiers() -> None:
    """pytest's default import mode puts each test folder on sys.path, so two tiers' files with
    one base name cannot be collected in one session (``import file mismatch``)."""
    tests = Path(__file__).resolve().parents[1]
    seen: dict[str, Path] = {}
    for path in sorted(tests.rglob("*.py")):
        assert path.name == "conftest.py" or path.name not in seen, (path, seen.get(path.name))
        seen[path.name] = path
