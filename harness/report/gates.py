"""What the gates (``regress``, ``compare --strict``) accept as a tolerance.

A tolerance is a finite, non-negative number on mteb's 0-1 scale: ``nan`` would make every
comparison false (a drop "within tolerance"), ``inf`` would pass any drop, a negative one fails
an unchanged score. Above :data:`TYPICAL_MAX` it is accepted with a warning, since it is then most
likely a tolerance meant on the x100 scale of the tables.
"""

from __future__ import annotations

import logging
import math

from harness.errors import UsageError

log = logging.getLogger(__name__)
TYPICAL_MAX = 0.1


def check_tolerance(tolerance: float, name: str = "--tolerance") -> float:
    """``tolerance`` as a float if it is finite and >= 0; a one-line UsageError otherwise, and a
    warning when it is above 0.1 (10 points on the x100 scale)."""
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number, got {tolerance!r}") from None
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{name} must be a finite number >= 0 on mteb's 0-1 scale (e.g. 0.005), "
                         f"got {tolerance!r}")
    if value > TYPICAL_MAX:
        log.warning("%s %g is above %g on mteb's 0-1 scale (%g points x100): scores are "
                    "compared on the 0-1 scale", name, value, TYPICAL_MAX, value * 100)
    return value
