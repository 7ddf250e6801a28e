"""Storage precisions scored from the same vectors: float32, int8 and binary.

Quantisation is mteb's own ``CompressionWrapper`` around the harness encoder, so calibration and
scoring are exactly mteb's: int8 maps each dimension's min..max over the vectors of one encode
call (one side of a task: the queries, the corpus, one column of pairs) onto 256 levels
(``floor((x - min) / step) - 128``); binary keeps ``x > 0`` as 0/1 and the model's similarity
function scores the 0/1 vectors. The encoder reads pooled vectors back from its store, so every
(dim, precision) pair of a task comes from one encode pass.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mteb.models import CompressionWrapper
from mteb.types import OutputDType

log = logging.getLogger(__name__)
NONE = "none"
# harness name -> mteb output dtype (ubinary: sentence-transformers' name for packed x > 0 bits)
QUANTIZATIONS: dict[str, OutputDType | None] = {
    NONE: None, "int8": OutputDType.INT8, "ubinary": OutputDType.BINARY}
BITS_PER_VALUE = {NONE: 32, "int8": 8, "ubinary": 1}
_UNSTABLE = "Estimating quantization parameters on less than"  # mteb's per-call warning


def bytes_per_vector(dim: int, quantize: str) -> int:
    """Storage of one vector of ``dim`` values (float32, int8, or bits packed into bytes)."""
    return math.ceil(dim * BITS_PER_VALUE[quantize] / 8)


@contextmanager
def quantized(encoder: Any, quantize: str) -> Iterator[Any]:
    """The model to hand to ``mteb.evaluate`` for ``quantize``: the encoder itself for
    ``none``, else mteb's ``CompressionWrapper`` around it. The wrapper rewrites the encoder's
    ``mteb_model_meta`` (output dtype, experiment kwargs); it is restored on exit."""
    dtype = QUANTIZATIONS[quantize]
    if dtype is None:
        yield encoder
        return
    meta = encoder.mteb_model_meta
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield CompressionWrapper(encoder, dtype)
    finally:
        encoder.mteb_model_meta = meta
    # mteb warns on every encode call calibrated on under 10k vectors: say it once per task
    unstable = [w for w in caught if str(w.message).startswith(_UNSTABLE)]
    if unstable:
        log.warning("%s: %s (%d encode calls)", quantize, unstable[0].message, len(unstable))
    for w in caught:
        if w not in unstable:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
