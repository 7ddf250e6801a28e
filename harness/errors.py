"""The one exception family for mistakes a user can make (bad names, files, values)."""

from __future__ import annotations

from collections.abc import Iterable


class HarnessError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""


def unknown_choice(kind: str, value: object, choices: Iterable[str]) -> HarnessError:
    """Build the standard error for a value that is not one of the valid choices."""
    import difflib

    choices = sorted(choices)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(choices) if len(choices) <= 40 else ", ".join(choices[:40]) + ", ..."
    return HarnessError(f"unknown {kind} {value!r}{hint}; valid choices: {listed}")
