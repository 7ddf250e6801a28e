"""Regenerate the README's recipe and task-list tables from ``harness list``.

The README holds them between ``<!-- harness list models -->`` / ``<!-- harness list lists -->``
and ``<!-- end -->`` markers; ``tests/unit/test_readme_tables.py`` fails when they drift from
the shipped configs. Run ``python scripts/update_readme_tables.py`` after changing a recipe or a
task list (``--check`` only reports, exit 1 on a difference).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
END = "<!-- end -->"


def tables() -> dict[str, str]:
    """Marker name -> the markdown table the README shows there."""
    from harness.listing import models_table, task_lists_table

    models = models_table().drop(columns=["from"])
    return {"harness list models": models.to_markdown(index=False),
            "harness list lists": task_lists_table().to_markdown(index=False)}


def updated(text: str) -> str:
    """``text`` with every marked table replaced by its current version."""
    for name, table in tables().items():
        pattern = re.compile(rf"(<!-- {re.escape(name)} -->\n).*?({re.escape(END)})", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no '<!-- {name} -->' ... '{END}' block")
        text = pattern.sub(lambda match, table=table: match[1] + table + "\n" + match[2], text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    new = updated(text)
    if args.check:
        print("README tables are current" if new == text else "README tables drifted")
        return int(new != text)
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
