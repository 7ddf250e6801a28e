"""The README's recipe and task-list tables are ``harness list``'s, so they cannot drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "update_readme_tables.py"


def load_script():
    spec = importlib.util.spec_from_file_location("update_readme_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_equal_harness_list() -> None:
    script = load_script()
    text = script.README.read_text(encoding="utf-8")
    assert script.updated(text) == text, "run: python scripts/update_readme_tables.py"


def test_a_changed_table_is_detected() -> None:
    script = load_script()
    text = script.README.read_text(encoding="utf-8")
    stale = text.replace("| minilm ", "| minilm-old ", 1)
    assert stale != text and script.updated(stale) == text


def test_ci_runs_exactly_the_readme_test_command() -> None:
    root = SCRIPT.parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("ruff check . &&"))
    assert command in (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
