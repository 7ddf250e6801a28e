"""The harness's exceptions: usage errors (exit 2) and runtime failures (exit 1).

Every error the CLI reports is one line. A :class:`UsageError` is a mistake in what the user
asked (an unknown name, key, value or path, a malformed file given as input): nothing has been
written when it is raised. A :class:`HarnessRuntimeError` is a failure while doing what was asked
(weights or data that cannot be loaded, out of memory, non-finite vectors); its cause is kept as
``__cause__`` so ``harness -v`` can print the whole traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class HarnessError(Exception):
    """Base of every error the CLI turns into one line; ``exit_code`` is what it exits with."""

    exit_code = 1


class UsageError(HarnessError):
    """A mistake in the command, the config or an input file: exit code 2, nothing written."""

    exit_code = 2


class HarnessRuntimeError(HarnessError):
    """A failure while running a valid command: exit code 1."""


class ModelLoadError(HarnessRuntimeError):
    """Weights, tokenizer or a head could not be loaded (hub unreachable, bad files)."""


class DataError(HarnessRuntimeError):
    """Task data could not be loaded or no longer matches its checksums."""


class ResourceError(HarnessRuntimeError):
    """Out of memory (CPU or GPU) or a file system that refuses a write."""


class NonFiniteError(HarnessRuntimeError):
    """A model produced NaN/Inf vectors, or a score is not a finite number."""


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` of ``exc`` on one line, clipped to about ``limit`` characters."""
    text = " ".join(str(exc).split())
    summary = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return summary if len(summary) <= limit else summary[: limit - 3] + "..."


def unknown_choice(kind: str, value: object, choices: Iterable[str]) -> UsageError:
    """The standard error for a value that is not one of the valid choices: names the value,
    suggests the closest choice and lists them (the first 40)."""
    choices = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(choices) if len(choices) <= 40 else ", ".join(choices[:40]) + ", ..."
    return UsageError(f"unknown {kind} {value!r}{hint}; valid choices: {listed}")
